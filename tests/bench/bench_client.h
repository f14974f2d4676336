// BenchClient (benchmarks): one client thread's calls to a running eidd over
// gRPC — a citizen registered and approved by an official (internal calls),
// the five activation steps, a login, an OTP sent and checked, a health
// check. Each call fails with the server's status; only registration and
// approval are retried, on ABORTED (lost compare-and-swap races).
//
// Not thread-safe: one per client thread (each with its own connection).
#ifndef EID_TESTS_BENCH_BENCH_CLIENT_H_
#define EID_TESTS_BENCH_BENCH_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "eid/v1/activation.grpc.pb.h"
#include "eid/v1/otp.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/activation/test_device.h"
#include "services/common/internal_auth.h"
#include "tests/util/sms_outbox.h"

namespace eid::bench {

// A synthetic citizen: serial n gives a valid, unique ID number and phone.
struct Citizen {
  explicit Citizen(int serial);
  std::string id_number;
  std::string phone;             // As registered ("09...").
  std::string normalised_phone;  // As the SMS outbox has it ("+849...").
  std::string account_id;        // Once registered.
  std::unique_ptr<activation::TestDevice> device;  // Once activated.
};

// The passcode every synthetic citizen sets.
inline constexpr char kPasscode[] = "482913";

class BenchClient {
 public:
  // `address`: host:port of eidd; `internal_token`: its internal secret;
  // `outbox`: where its SMS land.
  BenchClient(const std::string& address, const std::string& internal_token,
              testing::SmsOutbox& outbox);

  // Waits until the connection to eidd is up (gRPC reconnects after a
  // failed attempt; a call made meanwhile would fail UNAVAILABLE).
  absl::Status Connect(absl::Duration timeout);
  // RegisterLevel2 then ApproveRegistration (an official's internal calls).
  absl::Status RegisterAndApprove(Citizen& citizen);
  // The five steps: start (an SMS code), verify it, passcode, security
  // answers, device.
  absl::Status Activate(Citizen& citizen);
  // A login challenge and the login with device signature and passcode.
  absl::Status LogIn(const Citizen& citizen, absl::string_view passcode = kPasscode);
  // OtpService.SendOtp (internal) for `citizen`: the code's id.
  absl::StatusOr<std::string> SendOtp(const Citizen& citizen, const std::string& request_id);
  // OtpService.CheckOtp (internal) with the right `code`.
  absl::Status CheckOtp(const std::string& otp_id, const std::string& code);
  // grpc.health.v1.Health/Check of the whole server: the no-op call.
  absl::Status HealthCheck();

  testing::SmsOutbox& outbox() { return outbox_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ActivationService::Stub> activation_;
  std::unique_ptr<v1::OtpService::Stub> otp_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  InternalAuth internal_;
  testing::SmsOutbox& outbox_;
};

}  // namespace eid::bench

#endif  // EID_TESTS_BENCH_BENCH_CLIENT_H_
