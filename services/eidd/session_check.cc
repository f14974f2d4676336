#include "services/eidd/session_check.h"

#include <chrono>

#include "eid/v1/activation.grpc.pb.h"
#include "services/common/status.h"

namespace eid {

absl::StatusOr<v1::AuthenticateSessionResponse> CheckSessionWithActivation(
    const InternalAuth& internal,
    const std::function<std::shared_ptr<grpc::Channel>(absl::string_view)>& channel_to,
    const v1::Credentials& credentials, absl::string_view method,
    const std::string* digest) {
  std::shared_ptr<grpc::Channel> channel = channel_to("activation");
  if (channel == nullptr) {
    return Unavailable(v1::DEPENDENCY_UNAVAILABLE,
                       "sessions are checked by activation: give --peers "
                       "activation=host:port");
  }
  v1::AuthenticateSessionRequest request;
  *request.mutable_credentials() = credentials;
  request.set_method(std::string(method));
  if (digest != nullptr) request.set_request_digest(*digest);
  v1::AuthenticateSessionResponse response;
  grpc::ClientContext call;
  call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  internal.Attach(call);
  absl::Status s = FromGrpcStatus(
      v1::ActivationService::NewStub(channel)->AuthenticateSession(&call, request, &response));
  if (!s.ok()) return s;
  return response;
}

}  // namespace eid
