#include "services/activation/session_client.h"

#include "services/activation/device_signature.h"
#include "services/common/status.h"

namespace eid::activation {

SessionClient::SessionClient(std::function<std::shared_ptr<grpc::Channel>()> channel,
                             const InternalAuth& internal, absl::Duration deadline)
    : channel_(std::move(channel)),
      internal_(internal),
      deadline_(deadline),
      lane_(kMaxAuthenticateBatch,
            [this](std::vector<v1::AuthenticateSessionRequest>& checks) { return Send(checks); }) {}

absl::StatusOr<std::vector<absl::StatusOr<v1::AuthenticateSessionResponse>>> SessionClient::Send(
    std::vector<v1::AuthenticateSessionRequest>& checks) {
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  internal_.Attach(call);
  std::vector<absl::StatusOr<v1::AuthenticateSessionResponse>> answers;
  if (checks.size() == 1) {
    v1::AuthenticateSessionResponse response;
    absl::Status s = FromGrpcStatus(stub_->AuthenticateSession(&call, checks[0], &response));
    if (s.ok()) {
      answers.push_back(std::move(response));
    } else {
      answers.push_back(s);
    }
    return answers;
  }
  v1::AuthenticateSessionBatchRequest request;
  for (v1::AuthenticateSessionRequest& check : checks) *request.add_checks() = std::move(check);
  v1::AuthenticateSessionBatchResponse response;
  absl::Status s = FromGrpcStatus(stub_->AuthenticateSessionBatch(&call, request, &response));
  if (!s.ok()) return s;
  for (v1::AuthenticateSessionResult& result : *response.mutable_results()) {
    if (result.has_authenticated()) {
      answers.push_back(std::move(*result.mutable_authenticated()));
    } else {
      answers.push_back(FromStatusDetails(result.error()));
    }
  }
  return answers;
}

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
  absl::StatusOr<v1::AuthenticateSessionResponse> response = lane_.Call(std::move(request));
  if (!response.ok()) {
    const absl::Status& s = response.status();
    // Activation's own outage is ours to report, not the caller's fault.
    if (s.code() == absl::StatusCode::kUnavailable ||
        s.code() == absl::StatusCode::kDeadlineExceeded) {
      return WithContext(s, "activation");
    }
    return s;
  }
  if (signed_request != nullptr && !response->device_signature_verified()) {
    return Unauthenticated(v1::DEVICE_SIGNATURE_INVALID, "the device signature was not checked");
  }
  return response;
}

}  // namespace eid::activation
