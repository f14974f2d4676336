// InternalAuth: how a server tells eid's own services and trusted backends
// (intake stations, issuing agencies, operators' eidctl) from end users
// within the methods a caller's certificate may reach (mutual TLS and the
// method policy, tls.h, decide that first): they send a shared secret, read
// from a file, in the "x-eid-internal-token" metadata; it is compared in
// constant time and never logged. During a rotation one more token is
// accepted (never sent), so pods of two generations accept each other
// (docs/operations.md, "Key rotation").
//
// Thread-safe (immutable).
#ifndef EID_SERVICES_COMMON_INTERNAL_AUTH_H_
#define EID_SERVICES_COMMON_INTERNAL_AUTH_H_

#include <string>

#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"

namespace eid {

inline constexpr char kInternalTokenMetadata[] = "x-eid-internal-token";

class InternalAuth {
 public:
  // `token`: the shared secret (at least 32 bytes), sent and accepted;
  // empty disables internal callers altogether. `also_accepted`: a second
  // token accepted but never sent (empty: none).
  explicit InternalAuth(std::string token, std::string also_accepted = "")
      : token_(std::move(token)), also_accepted_(std::move(also_accepted)) {}

  // Whether the call carries the internal token (or the one also accepted).
  bool IsInternal(const grpc::ServerContext& context) const;

  // Adds the token to an outgoing call.
  void Attach(grpc::ClientContext& context) const;

 private:
  const std::string token_;
  const std::string also_accepted_;
};

}  // namespace eid

#endif  // EID_SERVICES_COMMON_INTERNAL_AUTH_H_
