#include "tools/loadgen/closed_loop.h"

#include <algorithm>
#include <atomic>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace eid::loadgen {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// Answers SERVING for "up", NOT_SERVING for "down", NOT_FOUND otherwise, and
// remembers the most calls it ever had at once.
class CountingHealth final : public Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext*, const HealthCheckRequest* request,
                     HealthCheckResponse* response) override {
    const int now = ++in_flight_;
    int seen = most_;
    while (now > seen && !most_.compare_exchange_weak(seen, now)) {
    }
    --in_flight_;
    if (request->service() == "up") {
      response->set_status(HealthCheckResponse::SERVING);
    } else if (request->service() == "down") {
      response->set_status(HealthCheckResponse::NOT_SERVING);
    } else {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
    }
    return grpc::Status::OK;
  }
  int most() const { return most_; }

 private:
  std::atomic<int> in_flight_{0};
  std::atomic<int> most_{0};
};

TEST(ClosedLoopTest, SendsEveryRequestCountsCodesAndRefusalsAndKeepsTheConcurrency) {
  CountingHealth health;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);
  auto stub = Health::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  int sent = 0;
  UnaryLoad<HealthCheckRequest, HealthCheckResponse> load;
  load.prepare = [&](grpc::ClientContext* context, const HealthCheckRequest& request,
                     grpc::CompletionQueue* cq) {
    return stub->PrepareAsyncCheck(context, request, cq);
  };
  load.next = [&](HealthCheckRequest* request) {
    if (sent == 200) return false;
    // Every 10th asks for an unknown service, every 20th (offset 5) is down.
    request->set_service(sent % 10 == 0 ? "nope" : sent % 20 == 5 ? "down" : "up");
    ++sent;
    return true;
  };
  load.check = [](const HealthCheckResponse& r) {
    return r.status() == HealthCheckResponse::SERVING;
  };
  LoadOptions options;
  options.concurrency = 4;
  options.duration = absl::Seconds(60);  // Ends when the requests do.
  const LoadResult result = RunClosedLoop(options, load);

  EXPECT_EQ(result.calls, 200);
  EXPECT_EQ(result.codes.at(grpc::StatusCode::NOT_FOUND), 20);
  EXPECT_EQ(result.codes.at(grpc::StatusCode::OK), 180);
  EXPECT_EQ(result.rejected, 10);
  EXPECT_EQ(result.ok(), 170);
  EXPECT_LE(health.most(), 4);
  EXPECT_GT(result.p50, absl::ZeroDuration());
  EXPECT_LE(result.p50, result.p99);
  EXPECT_LE(result.p99, result.p999);
  EXPECT_GT(result.per_second(), 0);
  server->Shutdown();
}

TEST(ClosedLoopTest, StopsStartingCallsWhenItsTimeIsUp) {
  CountingHealth health;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = Health::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  UnaryLoad<HealthCheckRequest, HealthCheckResponse> load;
  load.prepare = [&](grpc::ClientContext* context, const HealthCheckRequest& request,
                     grpc::CompletionQueue* cq) {
    return stub->PrepareAsyncCheck(context, request, cq);
  };
  load.next = [](HealthCheckRequest* request) {
    request->set_service("up");
    return true;  // Endless: only the duration ends the run.
  };
  LoadOptions options;
  options.concurrency = 2;
  options.duration = absl::ZeroDuration();
  const LoadResult result = RunClosedLoop(options, load);
  EXPECT_EQ(result.calls, 0);
  server->Shutdown();
}

}  // namespace
}  // namespace eid::loadgen
