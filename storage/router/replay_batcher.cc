#include "storage/router/replay_batcher.h"

#include <string>

namespace eid::storage {

ReplayBatcher::ReplayBatcher(ShardRouter& router, const Options& options)
    : router_(router), options_(options) {
  for (uint32_t s = 0; s < router.shard_count(); ++s) {
    queues_.push_back(std::make_unique<ShardQueue>());
  }
}

ReplayBatcher::~ReplayBatcher() = default;

absl::StatusOr<ReplayVerdict> ReplayBatcher::CheckAndRecord(
    absl::string_view nonce, absl::Time expires_at) {
  const ReplayCheck check{std::string(nonce), expires_at};
  absl::StatusOr<std::vector<ReplayVerdict>> verdicts =
      Submit(router_.ShardOfNonce(nonce), absl::MakeConstSpan(&check, 1));
  if (!verdicts.ok()) return verdicts.status();
  return verdicts->front();
}

absl::StatusOr<std::vector<ReplayVerdict>> ReplayBatcher::CheckAndRecordBatch(
    absl::Span<const ReplayCheck> checks) {
  if (checks.empty()) return std::vector<ReplayVerdict>();
  const uint32_t shard = router_.ShardOfNonce(checks.front().nonce);
  for (const ReplayCheck& c : checks) {
    if (router_.ShardOfNonce(c.nonce) != shard) {
      return router_.CheckAndRecordBatch(checks);
    }
  }
  return Submit(shard, checks);
}

absl::StatusOr<std::vector<ReplayVerdict>> ReplayBatcher::Submit(
    uint32_t shard, absl::Span<const ReplayCheck> checks) {
  ShardQueue& q = *queues_[shard];
  Waiter self{checks};
  absl::MutexLock lock(&q.mu);
  q.pending.push_back(&self);
  const auto may_send = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(q.mu) {
    return !q.pending.empty() && q.in_flight < options_.max_in_flight_per_shard;
  };
  const auto wake = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(q.mu) {
    return self.done || may_send();
  };
  while (!self.done) {
    if (!may_send()) {
      q.mu.Await(absl::Condition(&wake));
      continue;
    }
    // This caller sends whatever is queued, its own nonces or not.
    std::vector<Waiter*> batch;
    size_t nonces = 0;
    while (!q.pending.empty() &&
           (batch.empty() ||
            nonces + q.pending.front()->checks.size() <= options_.max_batch)) {
      nonces += q.pending.front()->checks.size();
      batch.push_back(q.pending.front());
      q.pending.pop_front();
    }
    ++q.in_flight;
    q.mu.Unlock();
    Send(shard, batch);
    q.mu.Lock();
    --q.in_flight;
    for (Waiter* w : batch) w->done = true;
  }
  return std::move(self.result);
}

void ReplayBatcher::Send(uint32_t shard, const std::vector<Waiter*>& batch) {
  if (batch.size() == 1) {
    batch[0]->result = router_.CheckAndRecordOnShard(shard, batch[0]->checks);
    return;
  }
  std::vector<ReplayCheck> checks;
  for (const Waiter* w : batch) {
    checks.insert(checks.end(), w->checks.begin(), w->checks.end());
  }
  absl::StatusOr<std::vector<ReplayVerdict>> verdicts =
      router_.CheckAndRecordOnShard(shard, checks);
  if (absl::IsInvalidArgument(verdicts.status())) {
    // One bad entry fails a batch with nothing recorded; answer each caller
    // on its own so one bad token cannot fail its neighbours.
    for (Waiter* w : batch) {
      w->result = router_.CheckAndRecordOnShard(shard, w->checks);
    }
    return;
  }
  size_t next = 0;
  for (Waiter* w : batch) {
    if (verdicts.ok()) {
      w->result = std::vector<ReplayVerdict>(
          verdicts->begin() + next, verdicts->begin() + next + w->checks.size());
      next += w->checks.size();
    } else {
      w->result = verdicts.status();
    }
  }
}

}  // namespace eid::storage
