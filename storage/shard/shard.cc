#include "storage/shard/shard.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace eid::storage {

absl::StatusOr<std::unique_ptr<Shard>> Shard::Open(const Options& options,
                                                   Clock& clock) {
  if (mkdir(options.dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create shard directory ", options.dir, ": ",
                     std::strerror(errno)));
  }
  std::unique_ptr<Shard> shard(new Shard());
  RocksDbKvStore::Options kv = options.kv;
  kv.path = options.dir + "/db";
  absl::StatusOr<std::unique_ptr<RocksDbKvStore>> store =
      RocksDbKvStore::Open(kv, clock);
  if (!store.ok()) return store.status();
  shard->kv_ = std::move(*store);

  LocalReplayGuard::Options replay = options.replay;
  replay.dir = options.dir + "/replay";
  absl::StatusOr<std::unique_ptr<LocalReplayGuard>> guard =
      LocalReplayGuard::Create(replay, clock);
  if (!guard.ok()) return guard.status();
  shard->replay_ = std::move(*guard);

  shard->service_ = std::make_unique<ShardServiceImpl>(
      options.shard_id, clock.Now(), *shard->kv_, *shard->replay_);
  shard->maintenance_ =
      std::thread([s = shard.get(), i = options.maintenance_interval] {
        s->MaintenanceLoop(i);
      });
  log::Info("shard.opened")
      .With("shard_id", static_cast<int64_t>(options.shard_id))
      .With("dir", options.dir)
      .With("replay_fenced_until", absl::FormatTime(shard->replay_->fenced_until()));
  return shard;
}

Shard::~Shard() {
  stop_.Notify();
  if (maintenance_.joinable()) maintenance_.join();
}

void Shard::MaintenanceLoop(absl::Duration interval) {
  // A background timer, not a test wait: tests call Maintain() themselves.
  while (!stop_.WaitForNotificationWithTimeout(interval)) {
    absl::Status s = replay_->Maintain();
    if (!s.ok()) log::Error("shard.maintenance_failed").With(s);
  }
}

}  // namespace eid::storage
