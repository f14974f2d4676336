#include "services/otp/grpc_otp_client.h"

#include "grpcpp/client_context.h"
#include "services/common/status.h"

namespace eid::otp {

GrpcOtpClient::GrpcOtpClient(Connect connect, const InternalAuth& internal,
                             absl::Duration deadline)
    : connect_(std::move(connect)), internal_(internal), deadline_(deadline) {}

v1::OtpService::Stub* GrpcOtpClient::Stub() {
  absl::MutexLock lock(&mu_);
  if (stub_ == nullptr) {
    std::shared_ptr<grpc::Channel> channel = connect_();
    if (channel != nullptr) stub_ = v1::OtpService::NewStub(channel);
  }
  return stub_.get();
}

template <typename Request, typename Response>
absl::StatusOr<Response> GrpcOtpClient::Call(
    grpc::Status (v1::OtpService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                 Response*),
    const Request& request) {
  v1::OtpService::Stub* stub = Stub();
  if (stub == nullptr) {
    return WithMetadata(Unavailable(v1::DEPENDENCY_UNAVAILABLE,
                                    "the OTP service is not reachable yet"),
                        "service", "otp");
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  internal_.Attach(ctx);
  Response response;
  absl::Status s = FromGrpcStatus((stub->*method)(&ctx, request, &response));
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::SendOtpResponse> GrpcOtpClient::SendOtp(const v1::SendOtpRequest& r) {
  return Call(&v1::OtpService::Stub::SendOtp, r);
}

absl::StatusOr<v1::CheckOtpResponse> GrpcOtpClient::CheckOtp(const v1::CheckOtpRequest& r) {
  return Call(&v1::OtpService::Stub::CheckOtp, r);
}

absl::StatusOr<v1::SendNoticeResponse> GrpcOtpClient::SendNotice(
    const v1::SendNoticeRequest& r) {
  return Call(&v1::OtpService::Stub::SendNotice, r);
}

}  // namespace eid::otp
