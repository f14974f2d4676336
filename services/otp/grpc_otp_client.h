// GrpcOtpClient: OtpClient over gRPC, for an otp role in another process
// (or any channel). Each call carries the internal token and a deadline;
// the stub is made on the first call, since the channel may not exist
// before this process's server starts. Thread-safe.
#ifndef EID_SERVICES_OTP_GRPC_OTP_CLIENT_H_
#define EID_SERVICES_OTP_GRPC_OTP_CLIENT_H_

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eid/v1/otp.grpc.pb.h"
#include "grpcpp/channel.h"
#include "services/common/internal_auth.h"
#include "services/otp/otp_client.h"

namespace eid::otp {

class GrpcOtpClient : public OtpClient {
 public:
  // The channel to the OTP service; null while there is none yet (the call
  // then fails UNAVAILABLE, DEPENDENCY_UNAVAILABLE).
  using Connect = std::function<std::shared_ptr<grpc::Channel>()>;

  // `internal` must outlive this.
  GrpcOtpClient(Connect connect, const InternalAuth& internal,
                absl::Duration deadline = absl::Seconds(5));

  absl::StatusOr<v1::SendOtpResponse> SendOtp(const v1::SendOtpRequest& r) override;
  absl::StatusOr<v1::CheckOtpResponse> CheckOtp(const v1::CheckOtpRequest& r) override;
  absl::StatusOr<v1::SendNoticeResponse> SendNotice(
      const v1::SendNoticeRequest& r) override;

 private:
  // The stub, made on first use; null if there is no channel yet.
  v1::OtpService::Stub* Stub();
  // Calls `method` on the stub with a deadline and the internal token.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::OtpService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                   Response*),
      const Request& request);

  const Connect connect_;
  const InternalAuth& internal_;
  const absl::Duration deadline_;
  absl::Mutex mu_;
  std::unique_ptr<v1::OtpService::Stub> stub_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_GRPC_OTP_CLIENT_H_
