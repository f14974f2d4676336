// Two real eidd processes talking over mutual TLS, as Kubernetes runs them:
// A hosts shard, audit and otp; B hosts activation and reaches A's shard,
// audit and OTP with its own certificate (identity "activation"). Clients
// come in with the "client" and "operator" certificates of the same dev CA,
// made by tools/certs/make-certs.sh.
#include <fstream>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eid/v1/activation.grpc.pb.h"
#include "eid/v1/audit.grpc.pb.h"
#include "eid/v1/otp.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/internal_auth.h"
#include "services/common/method_authorizer.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/common/tls.h"
#include "tests/util/eidd_process.h"
#include "tests/util/http_get.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_certs.h"

namespace eid {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using testing::RunfilePath;
using testing::TestCerts;

std::vector<std::string> TlsFlags(const TestCerts& certs, const std::string& identity) {
  const TlsFiles files = certs.Files(identity);
  return {"--tls_ca=" + files.ca, "--tls_cert=" + files.cert, "--tls_key=" + files.key};
}

class MtlsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(getenv("TEST_TMPDIR"), "/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto certs = TestCerts::Make(dir_ + "/certs");
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_.emplace(std::move(*certs));
    const std::string keys = "--keys_dir=" + dir_ + "/keys";  // Shared secrets.

    std::vector<std::string> a = {"--services=shard,audit,otp", "--data_dir=" + dir_ + "/a",
                                  keys, "--generate_dev_keys",
                                  "--health_address=127.0.0.1:0"};
    for (std::string& f : TlsFlags(*certs_, "otp")) a.push_back(f);
    auto started_a = testing::StartEidd(a, dir_ + "/a");
    ASSERT_TRUE(started_a.ok()) << started_a.status();
    a_.emplace(std::move(*started_a));

    const std::string at_a = a_->grpc_address();
    std::vector<std::string> b = {"--services=activation", "--data_dir=" + dir_ + "/b", keys,
                                  "--shards=" + at_a,
                                  "--peers=otp=" + at_a + ",audit=" + at_a};
    for (std::string& f : TlsFlags(*certs_, "activation")) b.push_back(f);
    auto started_b = testing::StartEidd(b, dir_ + "/b");
    ASSERT_TRUE(started_b.ok()) << started_b.status();
    b_.emplace(std::move(*started_b));
  }

  std::shared_ptr<grpc::Channel> ChannelAs(const testing::EiddProcess& eidd,
                                           const std::string& identity) {
    return grpc::CreateChannel(eidd.grpc_address(),
                               MtlsChannelCredentials(certs_->Config(identity)));
  }

  static std::unique_ptr<grpc::ClientContext> Call() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return context;
  }

  // Lines of A's SMS outbox to `phone`, waiting up to 10 s for one (the
  // queue delivers on its own thread, in another process).
  std::vector<std::string> OutboxLinesTo(const std::string& phone) {
    std::vector<std::string> lines;
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    do {
      std::ifstream outbox(dir_ + "/a/sms-outbox.jsonl");
      for (std::string l; std::getline(outbox, l);) {
        if (l.find("\"to\":\"" + phone + "\"") != std::string::npos) lines.push_back(l);
      }
      if (!lines.empty()) break;
      absl::SleepFor(absl::Milliseconds(50));  // Waiting on a real process.
    } while (absl::Now() < give_up);
    return lines;
  }

  std::string dir_;
  std::optional<TestCerts> certs_;
  std::optional<testing::EiddProcess> a_, b_;
};

TEST_F(MtlsProcessTest, ActivationReachesOtpInAnotherProcessOverMtls) {
  // An official registers and approves (internal token, through the
  // gateway's "client" certificate); approving makes B ask A's OTP service
  // for the approval SMS, over mTLS as "activation".
  InternalAuth internal(*ReadSecretFile(dir_ + "/keys/internal_token"));
  auto activation = v1::ActivationService::NewStub(ChannelAs(*b_, "client"));
  v1::RegisterLevel2Request reg;
  reg.set_request_id("reg-1");
  v1::PersonalDetails* p = reg.mutable_person();
  p->set_id_number("001090012345");
  p->set_phone("0912345678");
  p->set_full_name("Nguyễn Văn An");
  p->mutable_date_of_birth()->set_year(1990);
  p->mutable_date_of_birth()->set_month(5);
  p->mutable_date_of_birth()->set_day(17);
  p->set_sex(v1::SEX_MALE);
  p->mutable_locality()->set_province_code("01");
  p->mutable_locality()->set_district_code("001");
  reg.mutable_intake()->set_card_number(p->id_number());
  reg.mutable_intake()->mutable_intake_office()->set_kind(v1::ORG_UNIT_KIND_POLICE_OFFICE);
  reg.mutable_intake()->mutable_intake_office()->set_code("CA-HN-001");
  reg.mutable_intake()->set_officer_id("CB-0042");
  v1::RegisterLevel2Response registered;
  auto context = Call();
  internal.Attach(*context);
  grpc::Status s = activation->RegisterLevel2(context.get(), reg, &registered);
  ASSERT_TRUE(s.ok()) << s.error_message() << ReadFile(b_->log_file);

  v1::ApproveRegistrationRequest approve;
  approve.set_account_id(registered.account().account_id());
  v1::ApproveRegistrationResponse approved;
  context = Call();
  internal.Attach(*context);
  s = activation->ApproveRegistration(context.get(), approve, &approved);
  ASSERT_TRUE(s.ok()) << s.error_message() << ReadFile(b_->log_file);
  EXPECT_THAT(OutboxLinesTo("+84912345678"), ::testing::SizeIs(1)) << ReadFile(a_->log_file);

  // Nothing was refused along the way.
  auto metrics = testing::HttpGet(a_->metrics_port, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(*metrics, ::testing::Not(HasSubstr("grpc_server_auth_denied_total{")));
}

TEST_F(MtlsProcessTest, OnlyActivationMayAskOtpToSendAndRefusalsAreCounted) {
  v1::SendOtpRequest request;
  request.set_request_id("r-1");
  request.set_account_id("a-1");
  request.set_phone("0912345678");
  v1::SendOtpResponse response;
  for (const char* identity : {"client", "verification"}) {
    auto context = Call();
    grpc::Status s = v1::OtpService::NewStub(ChannelAs(*a_, identity))
                         ->SendOtp(context.get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << identity;
    EXPECT_EQ(ReasonOfAuthDenial(s), "CALLER_NOT_ALLOWED") << s.error_message();
  }
  // No certificate at all.
  grpc::SslCredentialsOptions anonymous;
  anonymous.pem_root_certs = certs_->Config("client").ca_pem;
  auto context = Call();
  grpc::Status s = v1::OtpService::NewStub(
                       grpc::CreateChannel(a_->grpc_address(), grpc::SslCredentials(anonymous)))
                       ->SendOtp(context.get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();

  auto metrics = testing::HttpGet(a_->metrics_port, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(*metrics, HasSubstr("grpc_server_auth_denied_total{method=\"/eid.v1.OtpService/"
                                  "SendOtp\",reason=\"CALLER_NOT_ALLOWED\"} 2"));
  EXPECT_THAT(*metrics, HasSubstr("grpc_server_auth_denied_total{method=\"/eid.v1.OtpService/"
                                  "SendOtp\",reason=\"CALLER_IDENTITY_MISSING\"} 1"));
  EXPECT_THAT(ReadFile(a_->log_file), HasSubstr("grpc.auth_denied"));

  // The refusals of certified callers are in A's audit log (read as an
  // operator with the internal token); the anonymous one is not.
  InternalAuth internal(*ReadSecretFile(dir_ + "/keys/internal_token"));
  auto audit = v1::AuditService::NewStub(ChannelAs(*a_, "operator"));
  for (const char* identity : {"client", "verification"}) {
    v1::QueryRequest query;
    query.mutable_filter()->set_actor(absl::StrCat("certificate:", identity));
    v1::QueryResponse found;
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    do {  // The audit client sends from its spool on its own thread.
      auto call = Call();
      internal.Attach(*call);
      grpc::Status queried = audit->Query(call.get(), query, &found);
      ASSERT_TRUE(queried.ok()) << queried.error_message();
      if (found.records_size() > 0) break;
      absl::SleepFor(absl::Milliseconds(50));  // Waiting on a real process.
    } while (absl::Now() < give_up);
    ASSERT_EQ(found.records_size(), 1) << identity;
    const v1::AuditEvent& e = found.records(0).event();
    EXPECT_EQ(e.action(), "auth.denied");
    EXPECT_EQ(e.service(), "otp");
    EXPECT_EQ(e.reason(), "CALLER_NOT_ALLOWED");
    EXPECT_EQ(e.attributes().at("method"), "/eid.v1.OtpService/SendOtp");
  }
}

TEST_F(MtlsProcessTest, HealthOverTlsWithEidctlAndInPlaintextOnTheHealthPort) {
  const TlsFiles op = certs_->Files("operator");
  std::string out;
  auto code = testing::Run({RunfilePath("tools/eidctl/eidctl"),
                            "--server=" + b_->grpc_address(), "--tls_ca=" + op.ca,
                            "--tls_cert=" + op.cert, "--tls_key=" + op.key, "health"},
                           &out, absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
  EXPECT_THAT(out, HasSubstr("eid.v1.ActivationService"));

  // Without a certificate eidctl gets nothing from the TLS port...
  code = testing::Run({RunfilePath("tools/eidctl/eidctl"), "--server=" + b_->grpc_address(),
                       "--timeout=2s", "health"},
                      &out, absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 1) << out;

  // ...but a probe gets health from the plaintext health port.
  ASSERT_NE(a_->health_port, 0);
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", a_->health_port), grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("eid.v1.OtpService");
  grpc::health::v1::HealthCheckResponse response;
  auto context = Call();
  grpc::Status s = health->Check(context.get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST(MtlsConfigTest, APartialTlsFlagSetFailsFast) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/partial";
  auto certs = TestCerts::Make(dir + "/certs");
  ASSERT_TRUE(certs.ok()) << certs.status();
  const TlsFiles files = certs->Files("shard");
  std::string out;
  auto code = testing::Run(
      {RunfilePath("services/eidd/eidd"), "--services=shard", "--grpc_address=127.0.0.1:0",
       "--metrics_address=127.0.0.1:0", "--data_dir=" + dir, "--tls_ca=" + files.ca,
       "--tls_cert=" + files.cert},
      &out, absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(out, HasSubstr("without --tls_key"));
}

}  // namespace
}  // namespace eid
