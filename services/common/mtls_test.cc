// Mutual TLS over real loopback gRPC with certificates made by the real
// tools/certs/make-certs.sh: loading the files, the handshake, caller
// identities, the method policy and the denial counter, the health port.
#include <sys/stat.h>

#include <atomic>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eid/v1/storage.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/grpc_server.h"
#include "services/common/method_authorizer.h"
#include "services/common/rpc_metrics.h"
#include "services/common/tls.h"
#include "tests/util/test_certs.h"

namespace eid {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using testing::TestCerts;

std::string TestDir(const std::string& name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                      "-", name);
}

// A shard service that counts the calls that reach it.
class CountingShard : public v1::ShardService::Service {
 public:
  grpc::Status CheckAndRecord(grpc::ServerContext*, const v1::CheckAndRecordRequest*,
                              v1::CheckAndRecordResponse*) override {
    ++calls;
    return grpc::Status::OK;
  }
  grpc::Status GetShardInfo(grpc::ServerContext*, const v1::GetShardInfoRequest*,
                            v1::GetShardInfoResponse*) override {
    ++calls;
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
};

class MtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = TestCerts::Make(TestDir("ca"));
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_.emplace(std::move(*certs));
    metrics_ = std::make_unique<RpcMetrics>(registry_);
    GrpcServer::Options options;
    options.tls = certs_->Config("shard");
    options.health_address = "127.0.0.1:0";
    auto server = GrpcServer::Start(options, {{"eid.v1.ShardService", &shard_}}, *metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", server_->port()); }

  std::shared_ptr<grpc::Channel> ChannelAs(const std::string& identity) {
    return grpc::CreateChannel(Address(), MtlsChannelCredentials(certs_->Config(identity)));
  }

  static grpc::Status CheckAndRecord(const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::CheckAndRecordRequest request;
    v1::CheckAndRecordResponse response;
    return v1::ShardService::NewStub(channel)->CheckAndRecord(&context, request, &response);
  }

  static grpc::Status GetShardInfo(const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetShardInfoRequest request;
    v1::GetShardInfoResponse response;
    return v1::ShardService::NewStub(channel)->GetShardInfo(&context, request, &response);
  }

  static std::string Health(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& service) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::Status status =
        grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
    if (!status.ok()) return absl::StrCat("error ", status.error_code());
    return HealthCheckResponse::ServingStatus_Name(response.status());
  }

  // grpc_server_auth_denied_total{method, reason}.
  double Denied(const std::string& method, const std::string& reason) {
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != "grpc_server_auth_denied_total") continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        bool m = false, r = false;
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          m = m || (label.name == "method" && label.value == method);
          r = r || (label.name == "reason" && label.value == reason);
        }
        if (m && r) return metric.counter.value;
      }
    }
    return 0;
  }

  std::optional<TestCerts> certs_;
  prometheus::Registry registry_;
  std::unique_ptr<RpcMetrics> metrics_;
  CountingShard shard_;
  std::unique_ptr<GrpcServer> server_;
};

constexpr char kCheckAndRecord[] = "/eid.v1.ShardService/CheckAndRecord";

TEST_F(MtlsTest, AcceptsAnAllowedCallerWithACertificateFromTheCa) {
  auto channel = ChannelAs("verification");
  grpc::Status status = CheckAndRecord(channel);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(shard_.calls, 1);
  EXPECT_EQ(Health(channel, "eid.v1.ShardService"), "SERVING");
}

TEST_F(MtlsTest, RefusesACallerWithoutCertificateAndCountsIt) {
  grpc::SslCredentialsOptions no_client_cert;
  no_client_cert.pem_root_certs = certs_->Config("client").ca_pem;
  auto channel = grpc::CreateChannel(Address(), grpc::SslCredentials(no_client_cert));
  grpc::Status status = CheckAndRecord(channel);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_EQ(ReasonOfAuthDenial(status), "CALLER_IDENTITY_MISSING");
  EXPECT_EQ(shard_.calls, 0);
  EXPECT_EQ(Denied(kCheckAndRecord, "CALLER_IDENTITY_MISSING"), 1);
}

TEST_F(MtlsTest, RefusesAPlaintextCaller) {
  auto channel = grpc::CreateChannel(Address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(CheckAndRecord(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(shard_.calls, 0);
}

TEST_F(MtlsTest, RefusesACertificateFromAnotherCaAtTheHandshake) {
  auto other = TestCerts::Make(TestDir("other-ca"));
  ASSERT_TRUE(other.ok()) << other.status();
  // Trusts the server's CA, but presents a "verification" certificate that
  // another CA signed.
  TlsConfig forged = other->Config("verification");
  forged.ca_pem = certs_->Config("verification").ca_pem;
  auto channel = grpc::CreateChannel(Address(), MtlsChannelCredentials(forged));
  grpc::Status status = CheckAndRecord(channel);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(shard_.calls, 0);
}

TEST_F(MtlsTest, ClientRefusesAServerFromAnotherCa) {
  auto other = TestCerts::Make(TestDir("other-ca"));
  ASSERT_TRUE(other.ok()) << other.status();
  auto channel = grpc::CreateChannel(Address(),
                                     MtlsChannelCredentials(other->Config("verification")));
  EXPECT_EQ(CheckAndRecord(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(shard_.calls, 0);
}

TEST_F(MtlsTest, RefusesAnIdentityTheMethodDoesNotAllowAndCountsIt) {
  // otp uses the shards, but not the replay guard.
  auto channel = ChannelAs("otp");
  grpc::Status status = CheckAndRecord(channel);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOfAuthDenial(status), "CALLER_NOT_ALLOWED") << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("otp may not call " +
                                                std::string(kCheckAndRecord)));
  EXPECT_EQ(shard_.calls, 0);
  EXPECT_EQ(Denied(kCheckAndRecord, "CALLER_NOT_ALLOWED"), 1);
  EXPECT_EQ(CheckAndRecord(channel).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Denied(kCheckAndRecord, "CALLER_NOT_ALLOWED"), 2);

  // The same connection may call what otp is allowed.
  EXPECT_TRUE(GetShardInfo(channel).ok());
  EXPECT_EQ(shard_.calls, 1);
  // Refusals are not RPCs a service handled.
  EXPECT_EQ(Denied("/eid.v1.ShardService/GetShardInfo", "CALLER_NOT_ALLOWED"), 0);
}

TEST_F(MtlsTest, AProcessWithSeveralRolesIsEachOfThem) {
  // all.crt names every role, verification among them.
  EXPECT_TRUE(CheckAndRecord(ChannelAs("all")).ok());
  // client (the public gateway) may not touch the shards at all.
  EXPECT_EQ(GetShardInfo(ChannelAs("client")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(shard_.calls, 1);
}

TEST_F(MtlsTest, InProcessCallsAreThisProcessOwn) {
  EXPECT_TRUE(CheckAndRecord(server_->InProcessChannel()).ok());
}

TEST_F(MtlsTest, HealthPortAnswersInPlaintextAndServesNothingElse) {
  auto health = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->health_port()),
                                    grpc::InsecureChannelCredentials());
  EXPECT_EQ(Health(health, ""), "SERVING");
  EXPECT_EQ(Health(health, "eid.v1.ShardService"), "SERVING");
  EXPECT_EQ(GetShardInfo(health).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(shard_.calls, 0);
  server_->Shutdown();
  EXPECT_NE(Health(health, "eid.v1.ShardService"), "SERVING");
}

// ---- Loading the files ---------------------------------------------------

class LoadTlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = TestCerts::Make(TestDir("ca"));
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_.emplace(std::move(*certs));
  }
  std::optional<TestCerts> certs_;
};

TEST_F(LoadTlsFilesTest, NoneMeansPlaintext) {
  auto loaded = LoadTlsFiles({});
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->has_value());
}

TEST_F(LoadTlsFilesTest, LoadsAMatchingSet) {
  auto loaded = LoadTlsFiles(certs_->Files("otp"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_THAT((*loaded)->cert_pem, HasSubstr("BEGIN CERTIFICATE"));
}

TEST_F(LoadTlsFilesTest, RefusesAPartialSetNamingWhatIsMissing) {
  TlsFiles files = certs_->Files("otp");
  files.key.clear();
  auto loaded = LoadTlsFiles(files);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(loaded.status().message(), HasSubstr("without --tls_key"));
}

TEST_F(LoadTlsFilesTest, RefusesMissingFiles) {
  TlsFiles files = certs_->Files("otp");
  files.ca += ".missing";
  EXPECT_EQ(LoadTlsFiles(files).status().code(), absl::StatusCode::kFailedPrecondition);
  files = certs_->Files("nobody");
  EXPECT_EQ(LoadTlsFiles(files).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LoadTlsFilesTest, RefusesAKeyOthersMayRead) {
  TlsFiles files = certs_->Files("otp");
  ASSERT_EQ(chmod(files.key.c_str(), 0640), 0);
  auto loaded = LoadTlsFiles(files);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(loaded.status().message(), HasSubstr("chmod 600"));
}

TEST_F(LoadTlsFilesTest, RefusesAKeyOfAnotherCertificate) {
  TlsFiles files = certs_->Files("otp");
  files.key = certs_->Files("audit").key;
  auto loaded = LoadTlsFiles(files);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(loaded.status().message(), HasSubstr("not a PEM private key of"));
}

TEST_F(LoadTlsFilesTest, RefusesACaFileWithoutCertificate) {
  TlsFiles files = certs_->Files("otp");
  files.ca = files.key;  // PEM, but a key.
  EXPECT_EQ(LoadTlsFiles(files).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eid
