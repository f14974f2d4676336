// OtpClient: the OTP service as another service calls it — the three calls
// the activation role makes. Two implementations: GrpcOtpClient (the otp
// role in another process) and OtpServiceImpl itself, which a process
// hosting both roles calls directly: the same engine, validation and
// metrics as a gRPC call, without serialising the request, handing it to a
// server thread and waiting for the answer.
//
// Errors carry the OTP service's reasons (otp.proto) either way.
// Implementations are thread-safe.
#ifndef EID_SERVICES_OTP_OTP_CLIENT_H_
#define EID_SERVICES_OTP_OTP_CLIENT_H_

#include "absl/status/statusor.h"
#include "eid/v1/otp.pb.h"

namespace eid::otp {

class OtpClient {
 public:
  virtual ~OtpClient() = default;
  virtual absl::StatusOr<v1::SendOtpResponse> SendOtp(const v1::SendOtpRequest& r) = 0;
  virtual absl::StatusOr<v1::CheckOtpResponse> CheckOtp(const v1::CheckOtpRequest& r) = 0;
  virtual absl::StatusOr<v1::SendNoticeResponse> SendNotice(
      const v1::SendNoticeRequest& r) = 0;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_OTP_CLIENT_H_
