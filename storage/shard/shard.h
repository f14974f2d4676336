// Shard: one storage shard — its RocksDB, its replay guard, the gRPC service
// over both, and a maintenance thread that sweeps expired replay entries and
// advances the replay fence's high-water mark once a second.
//
// Owns everything it starts; the destructor stops the thread first.
#ifndef EID_STORAGE_SHARD_SHARD_H_
#define EID_STORAGE_SHARD_SHARD_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "services/common/clock.h"
#include "storage/replay/local_replay_guard.h"
#include "storage/shard/rocksdb_kv_store.h"
#include "storage/shard/shard_service.h"

namespace eid::storage {

class Shard {
 public:
  struct Options {
    std::string dir;        // RocksDB under dir/db, replay state under dir/replay.
    uint32_t shard_id = 0;  // Position in the router's shard list.
    RocksDbKvStore::Options kv;             // `path` is set from `dir`.
    LocalReplayGuard::Options replay;       // `dir` is set from `dir`.
    absl::Duration maintenance_interval = absl::Seconds(1);
  };

  static absl::StatusOr<std::unique_ptr<Shard>> Open(const Options& options,
                                                     Clock& clock);
  ~Shard();

  ShardServiceImpl& service() { return *service_; }
  RocksDbKvStore& kv() { return *kv_; }
  LocalReplayGuard& replay() { return *replay_; }

 private:
  Shard() = default;
  void MaintenanceLoop(absl::Duration interval);

  std::unique_ptr<RocksDbKvStore> kv_;
  std::unique_ptr<LocalReplayGuard> replay_;
  std::unique_ptr<ShardServiceImpl> service_;
  absl::Notification stop_;
  std::thread maintenance_;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_SHARD_SHARD_H_
