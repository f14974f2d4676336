#include "storage/router/replay_batcher.h"

#include <string>

namespace eid::storage {

struct ReplayBatcher::Waiter {
  ReplayCheck check;
  bool done = false;
  absl::StatusOr<ReplayVerdict> result = ReplayVerdict::kReplayed;
};

ReplayBatcher::ReplayBatcher(ShardRouter& router, const Options& options)
    : router_(router), options_(options) {
  for (uint32_t s = 0; s < router.shard_count(); ++s) {
    queues_.push_back(std::make_unique<ShardQueue>());
  }
}

ReplayBatcher::~ReplayBatcher() = default;

std::vector<absl::StatusOr<ReplayVerdict>> ReplayBatcher::Send(
    uint32_t shard, const std::vector<ReplayCheck>& checks) {
  absl::StatusOr<std::vector<ReplayVerdict>> verdicts =
      router_.CheckAndRecordOnShard(shard, checks);
  std::vector<absl::StatusOr<ReplayVerdict>> results;
  results.reserve(checks.size());
  if (verdicts.ok()) {
    for (ReplayVerdict v : *verdicts) results.push_back(v);
  } else if (absl::IsInvalidArgument(verdicts.status()) && checks.size() > 1) {
    // One bad entry fails a batch with nothing recorded; answer each caller
    // on its own so one bad token cannot fail its neighbours.
    for (const ReplayCheck& c : checks) {
      results.push_back(router_.CheckAndRecord(c.nonce, c.expires_at));
    }
  } else {
    results.assign(checks.size(), verdicts.status());
  }
  return results;
}

absl::StatusOr<ReplayVerdict> ReplayBatcher::CheckAndRecord(
    absl::string_view nonce, absl::Time expires_at) {
  const uint32_t shard = router_.ShardOfNonce(nonce);
  ShardQueue& q = *queues_[shard];
  Waiter self{{std::string(nonce), expires_at}};
  absl::MutexLock lock(&q.mu);
  q.pending.push_back(&self);
  const auto may_send = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(q.mu) {
    return !q.pending.empty() && q.in_flight < options_.max_in_flight_per_shard;
  };
  while (!self.done) {
    if (!may_send()) {
      const auto wake = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(q.mu) {
        return self.done || may_send();
      };
      q.mu.Await(absl::Condition(&wake));
      continue;
    }
    // This caller sends whatever is queued, its own nonce or not.
    std::vector<Waiter*> batch;
    while (!q.pending.empty() && batch.size() < options_.max_batch) {
      batch.push_back(q.pending.front());
      q.pending.pop_front();
    }
    ++q.in_flight;
    q.mu.Unlock();
    std::vector<ReplayCheck> checks;
    checks.reserve(batch.size());
    for (const Waiter* w : batch) checks.push_back(w->check);
    std::vector<absl::StatusOr<ReplayVerdict>> results = Send(shard, checks);
    q.mu.Lock();
    --q.in_flight;
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->result = std::move(results[i]);
      batch[i]->done = true;
    }
  }
  return self.result;
}

absl::StatusOr<std::vector<ReplayVerdict>> ReplayBatcher::CheckAndRecordBatch(
    absl::Span<const ReplayCheck> checks) {
  return router_.CheckAndRecordBatch(checks);
}

}  // namespace eid::storage
