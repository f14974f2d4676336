// LocalShards (tests): N storage shards in this process, each a real gRPC
// server on its own free loopback port over its own RocksDB, and a router
// over them. A shard can be stopped to play a dead one.
#ifndef EID_STORAGE_ROUTER_LOCAL_SHARDS_H_
#define EID_STORAGE_ROUTER_LOCAL_SHARDS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/common/grpc_server.h"
#include "services/common/rpc_metrics.h"
#include "storage/router/shard_router.h"
#include "storage/shard/shard.h"

namespace eid::storage {

class LocalShards {
 public:
  // Shards under <dir>/shard-<i>, reading time from `clock`. With `direct`,
  // the router calls the shards' stores directly for KV calls (as eidd does
  // for the shard it hosts); the replay guard still goes over gRPC.
  static absl::StatusOr<std::unique_ptr<LocalShards>> Start(
      const std::string& dir, int count, Clock& clock, bool direct = false);
  ~LocalShards();

  const std::vector<std::string>& addresses() const { return addresses_; }
  ShardRouter& router() { return *router_; }
  Shard& shard(int i) { return *shards_[i]; }
  // Stops shard i's server: calls to it now fail as to a dead process.
  void Stop(int i);

 private:
  LocalShards() = default;

  prometheus::Registry registry_;
  std::unique_ptr<RpcMetrics> metrics_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<GrpcServer>> servers_;
  std::vector<std::string> addresses_;
  std::unique_ptr<ShardRouter> router_;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_ROUTER_LOCAL_SHARDS_H_
