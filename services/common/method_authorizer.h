// MethodAuthorizer: the one place a mutual-TLS server decides whether a call
// may proceed — gRPC runs it on every call of a TLS port after the headers
// arrive and before the service sees anything, so a refused call never
// reaches a handler.
//
// It names the caller from its verified certificate (CallerIdentities),
// asks the MethodPolicy about the call's method (":path"), and refuses with
//   UNAUTHENTICATED   "CALLER_IDENTITY_MISSING: ..." (no client certificate,
//                     or one naming no identity)
//   PERMISSION_DENIED "CALLER_NOT_ALLOWED: ..."
// gRPC cannot attach status details at this stage, so the stable reason
// leads the status message (ReasonOfAuthDenial reads it back). Each refusal
// is counted in grpc_server_auth_denied_total{method, reason}, logged
// (identities and method only) and handed to an optional callback (eidd
// records CALLER_NOT_ALLOWED in the audit log).
//
// Thread-safe.
#ifndef EID_SERVICES_COMMON_METHOD_AUTHORIZER_H_
#define EID_SERVICES_COMMON_METHOD_AUTHORIZER_H_

#include <functional>
#include <string>
#include <vector>

#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/support/status.h"
#include "services/common/method_policy.h"
#include "services/common/rpc_metrics.h"

namespace eid {

// One refused call.
struct AuthDenial {
  std::string method;                   // Full method, as the client sent it.
  std::vector<std::string> identities;  // From its certificate; may be empty.
  std::string reason;                   // CALLER_NOT_ALLOWED, ...
};

class MethodAuthorizer : public grpc::AuthMetadataProcessor {
 public:
  // Called on gRPC's thread for each refusal: must be quick and not block.
  using OnDenied = std::function<void(const AuthDenial&)>;

  // `policy` and `metrics` must outlive this; `on_denied` may be empty.
  MethodAuthorizer(const MethodPolicy& policy, RpcMetrics& metrics,
                   OnDenied on_denied = nullptr)
      : policy_(policy), metrics_(metrics), on_denied_(std::move(on_denied)) {}

  // Cheap and non-blocking: runs inline on gRPC's thread.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const MethodPolicy& policy_;
  RpcMetrics& metrics_;
  const OnDenied on_denied_;
};

// The stable reason of a refusal by a MethodAuthorizer as a client sees it
// ("CALLER_NOT_ALLOWED"), or "" if `status` is not one.
std::string ReasonOfAuthDenial(const grpc::Status& status);

}  // namespace eid

#endif  // EID_SERVICES_COMMON_METHOD_AUTHORIZER_H_
