// Starts the real eidd binary on free loopback ports and talks to it over
// gRPC, HTTP and eidctl, as an operator would.
#include <signal.h>

#include <string>

#include "absl/time/clock.h"
#include "eid/v1/storage.grpc.pb.h"
#include "eid/v1/verification.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/util/eidd_process.h"
#include "tests/util/http_get.h"
#include "tests/util/subprocess.h"

namespace eid {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using testing::RunfilePath;
using testing::Subprocess;

constexpr const char* kServices[] = {
    "eid.v1.ShardService",   "eid.v1.AuditService", "eid.v1.OtpService",
    "eid.v1.ActivationService", "eid.v1.QrService",
    "eid.v1.VerificationService", "eid.v1.ReportsService"};

class EiddProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(getenv("TEST_TMPDIR")) + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  // Starts eidd with `services` and waits until it serves.
  void StartEidd(const std::string& services) {
    auto eidd = testing::StartEidd(
        {"--services=" + services, "--data_dir=" + dir_, "--generate_dev_keys"},
        dir_);
    ASSERT_TRUE(eidd.ok()) << eidd.status();
    eidd_ = std::move(eidd->process);
    log_file_ = eidd->log_file;
    grpc_port_ = eidd->grpc_port;
    metrics_port_ = eidd->metrics_port;
    channel_ = grpc::CreateChannel(eidd->grpc_address(),
                                   grpc::InsecureChannelCredentials());
  }

  std::string Health(const std::string& service) {
    auto stub = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, request, &response);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) return "NOT_HOSTED";
    if (!status.ok()) return "ERROR " + status.error_message();
    return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
        response.status());
  }

  std::string dir_, log_file_;
  std::unique_ptr<Subprocess> eidd_;
  int grpc_port_ = 0, metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(EiddProcessTest, AllServesEveryServiceAndStopsCleanlyOnSigterm) {
  StartEidd("all");
  EXPECT_EQ(Health(""), "SERVING");
  for (const char* service : kServices) EXPECT_EQ(Health(service), "SERVING") << service;

  // A call shows up on the metrics page, counted by method and code.
  auto shard = v1::ShardService::NewStub(channel_);
  grpc::ClientContext context;
  v1::GetShardInfoRequest request;
  v1::GetShardInfoResponse response;
  shard->GetShardInfo(&context, request, &response);
  auto metrics = testing::HttpGet(metrics_port_, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(*metrics, HasSubstr("grpc_server_handled_total{grpc_code="));
  EXPECT_THAT(*metrics, HasSubstr("grpc_method=\"GetShardInfo\""));
  EXPECT_THAT(*metrics, HasSubstr("process_cpu_seconds_total"));

  // Dev keys were generated, owner-only.
  EXPECT_FALSE(ReadFile(dir_ + "/keys/otp_pepper").empty());

  const absl::Time stop = absl::Now();
  eidd_->Signal(SIGTERM);
  absl::StatusOr<int> code = eidd_->Wait(absl::Seconds(5));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << ReadFile(log_file_);
  EXPECT_LT(absl::Now() - stop, absl::Seconds(5));
}

TEST_F(EiddProcessTest, EidctlHealthReportsEveryServiceServing) {
  StartEidd("all");
  const std::string server = "--server=127.0.0.1:" + std::to_string(grpc_port_);
  std::string out;
  auto code = testing::Run({RunfilePath("tools/eidctl/eidctl"), server, "health"},
                           &out, absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
  EXPECT_THAT(out, HasSubstr("eid.v1.VerificationService"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("NOT_SERVING")));

  code = testing::Run(
      {RunfilePath("tools/eidctl/eidctl"), server, "--json", "health"}, &out,
      absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
  EXPECT_THAT(out, HasSubstr("\"healthy\":true"));
  EXPECT_THAT(out, HasSubstr("\"eid.v1.ShardService\":\"SERVING\""));
}

TEST_F(EiddProcessTest, OneRoleHostsOnlyItsService) {
  StartEidd("shard");
  EXPECT_EQ(Health("eid.v1.ShardService"), "SERVING");
  EXPECT_EQ(Health("eid.v1.ActivationService"), "NOT_HOSTED");
  std::string out;
  auto code = testing::Run(
      {RunfilePath("tools/eidctl/eidctl"),
       "--server=127.0.0.1:" + std::to_string(grpc_port_), "health"},
      &out, absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
  EXPECT_THAT(out, HasSubstr("NOT_HOSTED"));
}

TEST_F(EiddProcessTest, EidctlShardInfoReportsTheShard) {
  StartEidd("shard");
  const std::string server = "--server=127.0.0.1:" + std::to_string(grpc_port_);
  std::string out;
  auto code = testing::Run({RunfilePath("tools/eidctl/eidctl"), server, "shard", "info"},
                           &out, absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
  EXPECT_THAT(out, HasSubstr("shard 0 at"));
  EXPECT_THAT(out, HasSubstr("accounts"));
  code = testing::Run(
      {RunfilePath("tools/eidctl/eidctl"), server, "--json", "shard", "info"}, &out,
      absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
  EXPECT_THAT(out, HasSubstr("\"liveReplayEntries\":\"0\""));
}

TEST(EiddConfigTest, UnknownRoleFailsFastWithAClearMessage) {
  std::string out;
  auto code = testing::Run({RunfilePath("services/eidd/eidd"),
                            "--services=shard,bogus",
                            "--grpc_address=127.0.0.1:0",
                            "--metrics_address=127.0.0.1:0",
                            std::string("--data_dir=") + getenv("TEST_TMPDIR")},
                           &out, absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(out, HasSubstr("unknown role \"bogus\""));
}

TEST(EiddConfigTest, ARoleNeedingShardsFailsFastWithoutThem) {
  std::string out;
  const std::vector<std::string> base = {
      RunfilePath("services/eidd/eidd"), "--services=otp",
      "--grpc_address=127.0.0.1:0", "--metrics_address=127.0.0.1:0",
      std::string("--data_dir=") + getenv("TEST_TMPDIR") + "/no-shards"};
  auto code = testing::Run(base, &out, absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(out, HasSubstr("--shards is required: roles that use the storage shards (otp)"));
}

TEST(EidctlTest, UnreachableServerIsReportedAndFails) {
  std::string out;
  auto code = testing::Run({RunfilePath("tools/eidctl/eidctl"),
                            "--server=127.0.0.1:1", "--timeout=1s", "health"},
                           &out, absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(out, HasSubstr("UNREACHABLE"));
}

}  // namespace
}  // namespace eid

namespace eid {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using testing::RunfilePath;

// qr and verification in their own process, reaching activation, audit and
// the shard of another through --peers and --shards (as on Kubernetes).
TEST(EiddSplitTest, QrAndVerificationServeFromTheirOwnProcess) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/split";
  auto core = testing::StartEidd({"--services=shard,audit,otp,activation",
                                  "--data_dir=" + dir + "/core", "--generate_dev_keys"},
                                 dir + "/core");
  ASSERT_TRUE(core.ok()) << core.status();
  // The same secrets: copy the generated keys for the second process.
  const std::string keys = dir + "/core/keys";
  auto verify = testing::StartEidd(
      {"--services=qr,verification", "--data_dir=" + dir + "/verify",
       "--keys_dir=" + keys, "--shards=" + core->grpc_address(),
       "--peers=activation=" + core->grpc_address() + ",audit=" + core->grpc_address()},
      dir + "/verify");
  ASSERT_TRUE(verify.ok()) << verify.status();
  const std::string server = "--server=" + verify->grpc_address();
  std::string out;
  auto code = testing::Run({RunfilePath("tools/eidctl/eidctl"), server, "health"}, &out,
                           absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
  EXPECT_THAT(out, HasSubstr("eid.v1.VerificationService     SERVING"));
  code = testing::Run({RunfilePath("tools/eidctl/eidctl"), server, "qr", "keys"}, &out,
                      absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
  EXPECT_THAT(out, HasSubstr("refresh after"));
  // A token from the codec's seed corpus (signed by another key): drawn,
  // decoded, and found UNKNOWN_KEY offline.
  const std::string token =
      ReadFile(RunfilePath("services/qr/token/testdata/qr_token_corpus/valid_typical"));
  ASSERT_FALSE(token.empty());
  code = testing::Run({RunfilePath("tools/eidctl/eidctl"), server, "qr", "show", token},
                      &out, absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 1) << out;
  EXPECT_THAT(out, HasSubstr("QR version 8"));
  EXPECT_THAT(out, HasSubstr("offline check: UNKNOWN_KEY"));
  // A VerifyQr reaches activation in the other process for the session.
  auto stub = v1::VerificationService::NewStub(
      grpc::CreateChannel(verify->grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::VerifyQrRequest request;
  request.set_token(token);
  request.mutable_credentials()->set_session_token("a00.not-a-session");
  request.mutable_credentials()->mutable_device_signature()->set_signature("x");
  v1::VerifyQrResponse response;
  grpc::Status status = stub->VerifyQr(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
}

}  // namespace
}  // namespace eid
