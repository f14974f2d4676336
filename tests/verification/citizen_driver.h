// CitizenDriver: the activation API over gRPC as end-to-end tests need it —
// register (level 1 or 2), approve, the five steps with the OTP read from
// the SMS outbox, log in; and the officials' steps done as an internal
// caller (grant roles, revoke). Against an eidd with the outbox transport,
// on a FakeClock (tests) or the real clock (benchmarks, the cluster).
// Not thread-safe: one thread per driver.
#ifndef EID_TESTS_VERIFICATION_CITIZEN_DRIVER_H_
#define EID_TESTS_VERIFICATION_CITIZEN_DRIVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "eid/v1/activation.grpc.pb.h"
#include "grpcpp/channel.h"
#include "services/activation/test_device.h"
#include "services/common/clock.h"
#include "services/common/internal_auth.h"
#include "tests/util/sms_outbox.h"

namespace eid::testing {

inline constexpr char kTestPasscode[] = "482913";

// A citizen born 17/05/1990, male, in Hà Nội; `id_number` must match
// (001 + 0 + 90 + six digits).
v1::PersonalDetails Citizen(const std::string& id_number, const std::string& phone,
                            const std::string& full_name = "Nguyễn Văn An");

class CitizenDriver {
 public:
  // `outbox`: the eidd's SMS outbox file. With a FakeClock, the driver
  // advances it while it waits for an SMS (the queue retries on its clock).
  CitizenDriver(std::shared_ptr<grpc::Channel> channel, const InternalAuth& internal,
                FakeClock& clock, std::string outbox);
  CitizenDriver(std::shared_ptr<grpc::Channel> channel, const InternalAuth& internal,
                std::string outbox);

  // Registers (level 2 at an intake, or level 1 from the app), approves,
  // activates on `device` and logs in: the session token ("" on failure,
  // with gtest failures recorded). Sets *account_id.
  std::string Activate(const v1::PersonalDetails& person, int level,
                       const activation::TestDevice& device, std::string* account_id);
  // A new login session of an activated account.
  std::string LogIn(const std::string& account_id, const activation::TestDevice& device);

  absl::Status GrantVerifierRole(const std::string& account_id);
  absl::Status EnableQrVerification(const std::string& session,
                                    const activation::TestDevice& device);
  absl::Status Revoke(const std::string& account_id);

  // Credentials signed by `device` over `request` for `method`.
  template <typename Request>
  static v1::Credentials Signed(const std::string& session,
                                const activation::TestDevice& device,
                                absl::string_view method, Request request) {
    v1::Credentials c;
    c.set_session_token(session);
    c.mutable_device_signature()->set_device_id(device.device_id());
    *request.mutable_credentials() = c;
    *c.mutable_device_signature() = device.SignRequest(method, request);
    return c;
  }

 private:
  template <typename Request, typename Response, typename Call>
  absl::Status Rpc(Call call, const Request& request, Response* response, bool internal);
  std::string LatestOtp(const std::string& phone, size_t count);

  std::unique_ptr<v1::ActivationService::Stub> stub_;
  const InternalAuth& internal_;
  FakeClock* clock_;  // null: the server runs on the real clock
  SmsOutbox outbox_;
};

}  // namespace eid::testing

#endif  // EID_TESTS_VERIFICATION_CITIZEN_DRIVER_H_
