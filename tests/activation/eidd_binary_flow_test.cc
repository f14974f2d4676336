// The activation path against the eidd binary itself, as operators run it:
// a child process with its own flags, called over loopback gRPC.
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "tests/bench/bench_client.h"
#include "tests/util/eidd_process.h"
#include "tests/util/sms_outbox.h"

namespace eid {
namespace {

using bench::BenchClient;
using bench::Citizen;

TEST(EiddBinaryFlowTest, RegisterActivateLogInAndLockOutAgainstTheBinary) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/binary-flow";
  const std::string data = dir + "/data";
  // One code a day per account, and no wait before a resend: the limits are
  // the binary's flags.
  absl::StatusOr<testing::EiddProcess> eidd = testing::StartEidd(
      {"--services=all", "--data_dir=" + data, "--generate_dev_keys",
       "--otp_daily_cap_per_account=1", "--otp_resend_interval=0s"},
      dir + "-eidd");
  ASSERT_TRUE(eidd.ok()) << eidd.status();
  absl::StatusOr<std::string> token = ReadSecretFile(data + "/keys/internal_token");
  ASSERT_TRUE(token.ok()) << token.status();
  testing::SmsOutbox outbox(data + "/sms-outbox.jsonl");
  BenchClient client(eidd->grpc_address(), *token, outbox);
  ASSERT_TRUE(client.Connect(absl::Seconds(10)).ok());

  Citizen citizen(1);
  ASSERT_TRUE(client.RegisterAndApprove(citizen).ok());
  absl::Status s = client.Activate(citizen);  // Five steps, the code by SMS.
  ASSERT_TRUE(s.ok()) << s;
  s = client.LogIn(citizen);
  ASSERT_TRUE(s.ok()) << s;

  // The day's second code for the account is refused: the flag took.
  EXPECT_EQ(ReasonOf(client.SendOtp(citizen, "second-code").status()), "OTP_DAILY_CAP");

  // Wrong passcodes: the fifth locks the account, and then even the right
  // passcode is refused.
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(ReasonOf(client.LogIn(citizen, "582914")), "PASSCODE_MISMATCH") << i;
  }
  EXPECT_EQ(ReasonOf(client.LogIn(citizen, "582914")), "ACCOUNT_LOCKED");
  EXPECT_EQ(ReasonOf(client.LogIn(citizen)), "ACCOUNT_LOCKED");
}

}  // namespace
}  // namespace eid
