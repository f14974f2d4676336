#include "services/eidd/eidd.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "eid/v1/audit.grpc.pb.h"
#include "services/common/internal_auth.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/common/tls.h"
#include "services/otp/http_client.h"
#include "services/otp/kannel_dlr.h"
#include "tests/util/test_certs.h"

namespace eid {
namespace {

using ::testing::HasSubstr;
using testing::TestCerts;

std::string TestDir() {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

// Plaintext, on free loopback ports, with development keys.
Eidd::Options LocalOptions(const std::string& services, const std::string& data_dir) {
  Eidd::Options options;
  options.services = services;
  options.grpc_address = "127.0.0.1:0";
  options.metrics_address = "127.0.0.1:0";
  options.data_dir = data_dir;
  options.generate_dev_keys = true;
  options.shutdown_grace = absl::Milliseconds(200);
  return options;
}

Eidd::Options TlsOptions(const std::string& services, const TestCerts& certs,
                         const std::string& identity, const std::string& data_dir) {
  Eidd::Options options = LocalOptions(services, data_dir);
  options.tls = certs.Files(identity);
  return options;
}

std::string Health(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
  if (!s.ok()) return absl::StrCat("error ", s.error_code());
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

TEST(EiddTest, AllModeRoutesToItsOwnShardInProcess) {
  auto eidd = Eidd::Start(LocalOptions("all", std::string(getenv("TEST_TMPDIR")) + "/all"));
  ASSERT_TRUE(eidd.ok()) << eidd.status();
  storage::ShardRouter* shards = (*eidd)->shards();
  ASSERT_NE(shards, nullptr);
  EXPECT_EQ(shards->shard_count(), 1u);
  v1::PutRequest put;
  put.set_namespace_("accounts");
  put.set_key("acct-1");
  put.set_value("v");
  ASSERT_TRUE(shards->Put(put).ok());
  v1::GetRequest get;
  get.set_namespace_("accounts");
  get.set_key("acct-1");
  auto got = shards->Get(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record().value(), "v");
  (*eidd)->Shutdown();
}

TEST(EiddTest, TheOtpRoleListensForKannelDeliveryReports) {
  Eidd::Options options = LocalOptions("all", TestDir());
  options.sms_transport = "kannel";
  options.kannel_address = "127.0.0.1:9";  // Never reached: nothing is sent.
  options.kannel_credentials_file = TestDir() + "-kannel_credentials";
  {
    std::ofstream(options.kannel_credentials_file) << "eid:pw\n";
    chmod(options.kannel_credentials_file.c_str(), 0600);
  }
  options.sms_dlr_address = "127.0.0.1:0";
  auto eidd = Eidd::Start(options);
  ASSERT_TRUE(eidd.ok()) << eidd.status();
  const int port = (*eidd)->sms_dlr_port();
  ASSERT_GT(port, 0);
  auto get = [port](const std::string& target) {
    absl::StatusOr<otp::HttpResponse> r =
        otp::HttpGet("127.0.0.1", port, target, absl::Seconds(5));
    return r.ok() ? r->status : -1;
  };
  // A token under another key: refused. A genuine token (the generated
  // key) for a message the queue does not hold: unknown.
  EXPECT_EQ(get(absl::StrCat("/kannel/dlr?id=m0-00&n=1&type=1&auth=",
                             std::string(64, '0'))),
            403);
  auto auth = otp::DlrAuthenticator::FromFile(TestDir() + "/keys/sms_dlr_key");
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(get(absl::StrCat("/kannel/dlr?id=m0-00&n=1&type=1&auth=",
                             auth->Token("m0-00", 1))),
            404);
  (*eidd)->Shutdown();
}

TEST(EiddTest, DeliveryReportsNeedTheKannelTransport) {
  Eidd::Options options;
  options.services = "all";
  options.grpc_address = "127.0.0.1:0";
  options.metrics_address = "127.0.0.1:0";
  options.data_dir = TestDir();
  options.generate_dev_keys = true;
  options.sms_dlr_address = "127.0.0.1:0";
  auto eidd = Eidd::Start(options);
  ASSERT_FALSE(eidd.ok());
  EXPECT_THAT(std::string(eidd.status().message()), HasSubstr("--sms_transport=kannel"));
}

// The OTP limits (--otp_* flags) reach the otp role, which refuses to start
// on one out of bounds.
TEST(EiddTest, AnOtpLimitOutOfBoundsStopsTheStart) {
  Eidd::Options options = LocalOptions("all", TestDir());
  options.otp_limits.daily_cap_per_phone = 0;
  auto eidd = Eidd::Start(options);
  ASSERT_FALSE(eidd.ok());
  EXPECT_THAT(std::string(eidd.status().message()), HasSubstr("daily caps"));
}

TEST(EiddTest, ARoleWithoutStorageNeedsNoRouter) {
  auto eidd =
      Eidd::Start(LocalOptions("audit", std::string(getenv("TEST_TMPDIR")) + "/audit-only"));
  ASSERT_TRUE(eidd.ok()) << eidd.status();
  EXPECT_EQ((*eidd)->shards(), nullptr);
}

TEST(EiddTest, UnderMutualTlsServesHealthToTlsClientsOnlyAndRoutesInProcess) {
  auto certs = TestCerts::Make(TestDir() + "/certs");
  ASSERT_TRUE(certs.ok()) << certs.status();
  auto eidd = Eidd::Start(TlsOptions("all", *certs, "all", TestDir()));
  ASSERT_TRUE(eidd.ok()) << eidd.status();
  EXPECT_TRUE((*eidd)->tls());
  const std::string address = absl::StrCat("127.0.0.1:", (*eidd)->grpc_port());
  EXPECT_EQ(Health(grpc::CreateChannel(
                address, MtlsChannelCredentials(certs->Config("operator")))),
            "SERVING");
  EXPECT_EQ(Health(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
            "error 14");  // UNAVAILABLE: no TLS, no call.
  // The roles reach their own shard in process, outside the policy.
  v1::PutRequest put;
  put.set_namespace_("accounts");
  put.set_key("acct-1");
  put.set_value("v");
  EXPECT_TRUE((*eidd)->shards()->Put(put).ok());
}

TEST(EiddTest, ShardsInAnotherProcessAreCalledWithThisProcessCertificate) {
  auto certs = TestCerts::Make(TestDir() + "/certs");
  ASSERT_TRUE(certs.ok()) << certs.status();
  auto shard = Eidd::Start(TlsOptions("shard", *certs, "shard", TestDir() + "/shard"));
  ASSERT_TRUE(shard.ok()) << shard.status();
  Eidd::Options options = TlsOptions("reports", *certs, "reports", TestDir() + "/reports");
  options.shards = {absl::StrCat("127.0.0.1:", (*shard)->grpc_port())};
  // Where reports would check sessions and send its audit events; this test
  // only needs the shards.
  options.peers = {"activation=127.0.0.1:1", "audit=127.0.0.1:1"};
  auto reports = Eidd::Start(options);
  ASSERT_TRUE(reports.ok()) << reports.status();

  v1::PutRequest put;
  put.set_namespace_("accounts");
  put.set_key("acct-1");
  put.set_value("v");
  absl::Status stored = (*reports)->shards()->Put(put).status();
  EXPECT_TRUE(stored.ok()) << stored;
  // reports may use the shards, not the replay guard.
  auto verdict = (*reports)->shards()->CheckAndRecord(std::string(16, 'n'),
                                                      absl::Now() + absl::Seconds(60));
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kPermissionDenied) << verdict.status();
}

TEST(EiddTest, TlsFilesAreAllOrNone) {
  auto certs = TestCerts::Make(TestDir() + "/certs");
  ASSERT_TRUE(certs.ok()) << certs.status();
  Eidd::Options options = TlsOptions("shard", *certs, "shard", TestDir());
  options.tls.cert.clear();
  auto eidd = Eidd::Start(options);
  EXPECT_EQ(eidd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(eidd.status().message(), HasSubstr("without --tls_cert"));
}

TEST(EiddTest, ATlsKeyOthersMayReadFailsFast) {
  auto certs = TestCerts::Make(TestDir() + "/certs");
  ASSERT_TRUE(certs.ok()) << certs.status();
  Eidd::Options options = TlsOptions("shard", *certs, "shard", TestDir());
  ASSERT_EQ(chmod(options.tls.key.c_str(), 0644), 0);
  auto eidd = Eidd::Start(options);
  EXPECT_EQ(eidd.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(eidd.status().message(), HasSubstr("--tls_key"));
}

// During a rotation a second internal token is accepted (never sent), so
// pods of the old and new generation accept each other's internal calls.
TEST(EiddTest, AcceptsTheTokenOfAnInternalTokenRotation) {
  const std::string dir = TestDir();
  const std::string accepted(32, 'n');  // Stands for the next token.
  std::filesystem::create_directories(dir + "/keys");
  {
    std::ofstream out(dir + "/keys/internal_token_accepted");
    out << accepted;
  }
  std::filesystem::permissions(dir + "/keys/internal_token_accepted",
                               std::filesystem::perms::owner_read);
  auto eidd = Eidd::Start(LocalOptions("audit", dir));
  ASSERT_TRUE(eidd.ok()) << eidd.status();
  auto stub = v1::AuditService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*eidd)->grpc_port()), grpc::InsecureChannelCredentials()));
  const auto query_as = [&](const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    InternalAuth(token).Attach(context);
    v1::QueryRequest request;
    request.mutable_filter()->set_actor("account:someone");
    v1::QueryResponse response;
    return stub->Query(&context, request, &response).error_code();
  };
  absl::StatusOr<std::string> current = ReadSecretFile(dir + "/keys/internal_token");
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(query_as(*current), grpc::StatusCode::OK);
  EXPECT_EQ(query_as(accepted), grpc::StatusCode::OK);
  // Any other token is no internal caller (audit alone cannot check a
  // session instead: UNAVAILABLE).
  EXPECT_NE(query_as(std::string(32, 'x')), grpc::StatusCode::OK);
  (*eidd)->Shutdown();
}

}  // namespace
}  // namespace eid
