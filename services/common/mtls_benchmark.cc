// What mutual TLS and the method policy cost a unary call: N sequential
// GetShardInfo calls on one channel over loopback, plaintext vs mTLS
// (with the MethodAuthorizer), and the cost of a new connection (the TLS
// handshake). Certificates from tools/certs/make-certs.sh.
//
//   bazel run -c opt //services/common:mtls_benchmark
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eid/v1/storage.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "prometheus/registry.h"
#include "services/common/grpc_server.h"
#include "services/common/tls.h"
#include "tests/util/test_certs.h"

namespace eid {
namespace {

class Shard : public v1::ShardService::Service {
  grpc::Status GetShardInfo(grpc::ServerContext*, const v1::GetShardInfoRequest*,
                            v1::GetShardInfoResponse*) override {
    return grpc::Status::OK;
  }
};

bool Call(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext context;
  v1::GetShardInfoRequest request;
  v1::GetShardInfoResponse response;
  return v1::ShardService::NewStub(channel)->GetShardInfo(&context, request, &response).ok();
}

// Mean wall time of one call, in microseconds.
double PerCall(const std::shared_ptr<grpc::Channel>& channel, int n) {
  for (int i = 0; i < 200; ++i) Call(channel);  // Connect and warm up.
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) {
    if (!Call(channel)) std::abort();
  }
  return absl::ToDoubleMicroseconds(absl::Now() - start) / n;
}

int Main() {
  const std::string dir = absl::StrCat("/tmp/eid-mtls-benchmark-", getpid());
  auto certs = testing::TestCerts::Make(dir);
  if (!certs.ok()) {
    std::fprintf(stderr, "%s\n", certs.status().ToString().c_str());
    return 1;
  }
  prometheus::Registry registry;
  RpcMetrics metrics(registry);
  Shard shard;
  GrpcServer::Options plain_options, tls_options;
  tls_options.tls = certs->Config("shard");
  auto plain = GrpcServer::Start(plain_options, {{"eid.v1.ShardService", &shard}}, metrics);
  auto tls = GrpcServer::Start(tls_options, {{"eid.v1.ShardService", &shard}}, metrics);
  if (!plain.ok() || !tls.ok()) return 1;
  const int n = 5000;
  const auto client = MtlsChannelCredentials(certs->Config("otp"));
  const double plain_us = PerCall(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*plain)->port()),
                          grpc::InsecureChannelCredentials()),
      n);
  const double tls_us =
      PerCall(grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*tls)->port()), client), n);
  // New connections: a fresh channel per call (distinct args defeat
  // subchannel sharing).
  const int m = 200;
  const absl::Time start = absl::Now();
  for (int i = 0; i < m; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("eid.benchmark.connection", i);
    if (!Call(grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", (*tls)->port()), client,
                                        args))) {
      std::abort();
    }
  }
  const double connect_us = absl::ToDoubleMicroseconds(absl::Now() - start) / m;
  std::printf("unary call, loopback, one channel: plaintext %.1f us, mTLS %.1f us (+%.1f us)\n",
              plain_us, tls_us, tls_us - plain_us);
  std::printf("new mTLS connection + first call: %.0f us\n", connect_us);
  std::system(absl::StrCat("rm -rf ", dir).c_str());
  return 0;
}

}  // namespace
}  // namespace eid

int main() { return eid::Main(); }
