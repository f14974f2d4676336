#include "services/common/grpc_server.h"

#include "eid/v1/storage.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/time/clock.h"
#include "services/common/metrics_endpoint.h"
#include "services/common/rpc_metrics.h"
#include "tests/util/http_get.h"

namespace eid {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto endpoint = MetricsEndpoint::Start("127.0.0.1:0");
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = std::move(*endpoint);
    metrics_ = std::make_unique<RpcMetrics>(endpoint_->registry());
    auto server = GrpcServer::Start(
        {}, {{"eid.v1.ShardService", &shard_stub_}}, *metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()),
        grpc::InsecureChannelCredentials());
  }

  HealthCheckResponse::ServingStatus Health(const std::string& service) {
    auto stub = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext context;
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, request, &response);
    if (!status.ok()) return HealthCheckResponse::UNKNOWN;
    return response.status();
  }

  v1::ShardService::Service shard_stub_;  // Every method UNIMPLEMENTED.
  std::unique_ptr<MetricsEndpoint> endpoint_;
  std::unique_ptr<RpcMetrics> metrics_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcServerTest, ReportsEachServiceServingThenNotServing) {
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Health("eid.v1.ShardService"), HealthCheckResponse::SERVING);
  server_->Shutdown();
  server_->Wait();
  EXPECT_NE(Health("eid.v1.ShardService"), HealthCheckResponse::SERVING);
}

TEST_F(GrpcServerTest, IdleClientConnectionDoesNotHoldShutdownForTheGrace) {
  // The channel stays connected and idle, as real clients leave it.
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);
  const absl::Time start = absl::Now();
  server_->Shutdown();  // The grace period is 5 s.
  server_->Wait();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(GrpcServerTest, CountsCallsByMethodAndCodeOnTheMetricsPage) {
  auto stub = v1::ShardService::NewStub(channel_);
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    v1::GetRequest request;
    v1::GetResponse response;
    EXPECT_EQ(stub->Get(&context, request, &response).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  auto page = testing::HttpGet(endpoint_->port(), "/metrics");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(*page, HasSubstr(
      "grpc_server_handled_total{grpc_code=\"UNIMPLEMENTED\","
      "grpc_method=\"Get\",grpc_service=\"eid.v1.ShardService\"} 3"));
  EXPECT_THAT(*page, HasSubstr(
      "grpc_server_started_total{grpc_method=\"Get\","
      "grpc_service=\"eid.v1.ShardService\"} 3"));
  EXPECT_THAT(*page, HasSubstr(
      "grpc_server_handling_seconds_count{grpc_method=\"Get\","
      "grpc_service=\"eid.v1.ShardService\"} 3"));
  EXPECT_THAT(*page, HasSubstr("process_cpu_seconds_total"));
  EXPECT_THAT(*page, HasSubstr("process_resident_memory_bytes"));
}

TEST(GrpcServerStartTest, FailsClearlyWhenThePortIsTaken) {
  auto endpoint = MetricsEndpoint::Start("127.0.0.1:0");
  ASSERT_TRUE(endpoint.ok());
  RpcMetrics metrics((*endpoint)->registry());
  v1::ShardService::Service stub;
  auto first = GrpcServer::Start({}, {{"eid.v1.ShardService", &stub}}, metrics);
  ASSERT_TRUE(first.ok());
  GrpcServer::Options taken;
  taken.address = "127.0.0.1:" + std::to_string((*first)->port());
  v1::ShardService::Service stub2;
  auto second =
      GrpcServer::Start(taken, {{"eid.v1.ShardService", &stub2}}, metrics);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST(MetricsEndpointStartTest, FailsClearlyWhenThePortIsTaken) {
  auto first = MetricsEndpoint::Start("127.0.0.1:0");
  ASSERT_TRUE(first.ok());
  auto second =
      MetricsEndpoint::Start("127.0.0.1:" + std::to_string((*first)->port()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace eid
