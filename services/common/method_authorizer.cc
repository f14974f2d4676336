#include "services/common/method_authorizer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/tls.h"

namespace eid {
namespace {

constexpr absl::string_view kDenialReasons[] = {"CALLER_IDENTITY_MISSING",
                                                "CALLER_NOT_ALLOWED"};

}  // namespace

grpc::Status MethodAuthorizer::Process(const InputMetadata& auth_metadata,
                                       grpc::AuthContext* context,
                                       OutputMetadata* /*consumed_auth_metadata*/,
                                       OutputMetadata* /*response_metadata*/) {
  // gRPC hands processors the call's headers, ":path" (the full method)
  // included; mtls_test checks that this still holds. No path: no rule
  // matches, so the call is refused.
  std::string method;
  if (auto path = auth_metadata.find(":path"); path != auth_metadata.end()) {
    method.assign(path->second.data(), path->second.size());
  }
  const std::vector<std::string> identities = CallerIdentities(*context);
  const absl::Status verdict = policy_.Check(identities, method);
  if (verdict.ok()) return grpc::Status::OK;
  const std::string reason = ReasonOf(verdict);
  // A method no rule names is a client's invention: one label for all of
  // them keeps the series bounded.
  metrics_.RecordAuthDenied(policy_.Names(method) ? method : "unknown", reason);
  log::Warning("grpc.auth_denied")
      .With("method", method)
      .With("caller", identities.empty() ? std::string("-")
                                         : absl::StrJoin(identities, ","))
      .With("reason", reason);
  if (on_denied_) on_denied_({method, identities, reason});
  return grpc::Status(static_cast<grpc::StatusCode>(verdict.code()),
                      absl::StrCat(reason, ": ", verdict.message()));
}

std::string ReasonOfAuthDenial(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAUTHENTICATED &&
      status.error_code() != grpc::StatusCode::PERMISSION_DENIED) {
    return "";
  }
  const std::string& message = status.error_message();
  for (absl::string_view reason : kDenialReasons) {
    if (absl::StartsWith(message, absl::StrCat(reason, ": "))) return std::string(reason);
  }
  return "";
}

}  // namespace eid
