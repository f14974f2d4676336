#include "storage/router/local_shards.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace eid::storage {

absl::StatusOr<std::unique_ptr<LocalShards>> LocalShards::Start(
    const std::string& dir, int count, Clock& clock, bool direct) {
  std::unique_ptr<LocalShards> out(new LocalShards());
  out->metrics_ = std::make_unique<RpcMetrics>(out->registry_);
  for (int i = 0; i < count; ++i) {
    Shard::Options options;
    options.dir = absl::StrCat(dir, "-shard-", i);
    options.shard_id = i;
    options.kv.block_cache_bytes = 8 << 20;
    absl::StatusOr<std::unique_ptr<Shard>> shard = Shard::Open(options, clock);
    if (!shard.ok()) return shard.status();
    GrpcServer::Options server_options;
    server_options.shutdown_grace = absl::Milliseconds(100);
    absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(
        server_options, {{"eid.v1.ShardService", &(*shard)->service()}},
        *out->metrics_);
    if (!server.ok()) return server.status();
    out->addresses_.push_back(absl::StrCat("127.0.0.1:", (*server)->port()));
    out->shards_.push_back(std::move(*shard));
    out->servers_.push_back(std::move(*server));
  }
  ShardRouter::Options router_options;
  router_options.deadline = absl::Seconds(5);
  router_options.initial_backoff = absl::Milliseconds(1);
  std::vector<ShardRouter::ShardChannel> channels;
  for (int i = 0; i < count; ++i) {
    const std::string address = out->addresses_[i];
    ShardRouter::ShardChannel channel{address, [address] {
      return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    }};
    if (direct) channel.local = [kv = &out->shards_[i]->kv()] { return kv; };
    channels.push_back(std::move(channel));
  }
  absl::StatusOr<std::unique_ptr<ShardRouter>> router =
      ShardRouter::Create(std::move(channels), router_options);
  if (!router.ok()) return router.status();
  out->router_ = std::move(*router);
  return out;
}

LocalShards::~LocalShards() {
  router_.reset();
  for (auto& server : servers_) {
    if (server != nullptr) server->Shutdown();
  }
  servers_.clear();
  shards_.clear();
}

void LocalShards::Stop(int i) {
  servers_[i]->Shutdown();
  servers_[i]->Wait();
}

}  // namespace eid::storage
