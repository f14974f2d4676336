#include "services/activation/session_client.h"

#include "services/activation/device_signature.h"
#include "services/common/status.h"

namespace eid::activation {

SessionClient::SessionClient(std::function<std::shared_ptr<grpc::Channel>()> channel,
                             const InternalAuth& internal, absl::Duration deadline)
    : channel_(std::move(channel)), internal_(internal), deadline_(deadline) {}

absl::StatusOr<v1::AuthenticateSessionResponse> SessionClient::Check(
    const v1::Credentials& credentials, absl::string_view method,
    const google::protobuf::Message* signed_request) {
  if (credentials.session_token().empty()) {
    return Unauthenticated(v1::SESSION_INVALID, "credentials.session_token is required");
  }
  if (signed_request != nullptr && credentials.device_signature().signature().empty()) {
    return Unauthenticated(v1::DEVICE_SIGNATURE_INVALID,
                           "credentials.device_signature is required");
  }
  absl::call_once(connected_, [this] {
    std::shared_ptr<grpc::Channel> channel = channel_();
    if (channel != nullptr) stub_ = v1::ActivationService::NewStub(channel);
  });
  if (stub_ == nullptr) {
    return Unavailable(v1::DEPENDENCY_UNAVAILABLE,
                       "sessions are checked by activation: give --peers "
                       "activation=host:port");
  }
  v1::AuthenticateSessionRequest request;
  *request.mutable_credentials() = credentials;
  request.set_method(std::string(method));
  if (signed_request != nullptr) request.set_request_digest(RequestDigest(*signed_request));
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  internal_.Attach(call);
  v1::AuthenticateSessionResponse response;
  absl::Status s = FromGrpcStatus(stub_->AuthenticateSession(&call, request, &response));
  if (!s.ok()) {
    // Activation's own outage is ours to report, not the caller's fault.
    if (s.code() == absl::StatusCode::kUnavailable ||
        s.code() == absl::StatusCode::kDeadlineExceeded) {
      return WithContext(s, "activation");
    }
    return s;
  }
  if (signed_request != nullptr && !response.device_signature_verified()) {
    return Unauthenticated(v1::DEVICE_SIGNATURE_INVALID, "the device signature was not checked");
  }
  return response;
}

}  // namespace eid::activation
