// MethodPolicy: which caller identity may call which gRPC method — the one
// table a server consults, under mutual TLS, before any handler runs
// (services/common/tls.h enforces it; docs/operations.md prints it).
//
// Identities are the names in the callers' certificates
// (spiffe://eid/<name>): the seven roles (shard, audit, otp, activation, qr,
// verification, reports) and three outside callers:
//   client    the public gateway in front of the app and the portals: only
//             citizen- and official-facing methods (each still checks its
//             own session, device signature and account roles);
//   operator  eidctl and operators' tooling: health, shard info, reading
//             and checking the audit log, bulk imports;
//   agency    issuing agencies' backends: putting documents in wallets.
// A rule names a full method ("/eid.v1.OtpService/SendOtp") or every method
// of a service ("/eid.v1.ShardService/*"); an exact rule wins. A method no
// rule names is denied to everyone: a new RPC is closed until it is listed.
//
// Thread-safe (immutable).
#ifndef EID_SERVICES_COMMON_METHOD_POLICY_H_
#define EID_SERVICES_COMMON_METHOD_POLICY_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace eid {

class MethodPolicy {
 public:
  // One line of the table: a full method or "/<service>/*", and the
  // identities allowed ("any": every identity the CA vouches for).
  struct Rule {
    absl::string_view method;
    std::vector<absl::string_view> callers;
  };

  // eid's table (method_policy.cc).
  static const MethodPolicy& Default();

  explicit MethodPolicy(const std::vector<Rule>& rules);

  // OK if one of `identities` (a caller's certificate may name several: a
  // process hosting several roles) may call `full_method`. Otherwise
  // UNAUTHENTICATED (CALLER_IDENTITY_MISSING) when `identities` is empty, or
  // PERMISSION_DENIED (CALLER_NOT_ALLOWED) naming the identities and method.
  absl::Status Check(const std::vector<std::string>& identities,
                     absl::string_view full_method) const;

  // Whether a rule names `full_method` (exactly or by its service).
  bool Names(absl::string_view full_method) const;

  // The rules, as given, for docs and tests.
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  const std::vector<Rule> rules_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> allowed_;
};

}  // namespace eid

#endif  // EID_SERVICES_COMMON_METHOD_POLICY_H_
