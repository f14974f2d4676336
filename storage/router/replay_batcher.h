// ReplayBatcher: the replay guard the way the verification service calls it.
// Each verification asks about one nonce (or a few); sending each in its own
// RPC would cost a full call (~40 µs of server CPU) per token. The batcher
// queues the nonces bound for one shard while that shard's previous batches
// are in flight and sends them together as one CheckAndRecordBatch (group
// commit): under load batches grow by themselves, idle there is no wait.
//
// No recorded nonce is ever sent again: a batch the shard did not answer
// fails every caller in it (UNAVAILABLE: reject the token; the citizen
// retries). A batch rejected as invalid recorded nothing, so its callers
// are then answered one by one and only the bad one fails.
//
// Thread-safe; callers block until their nonces are answered. Whoever finds
// a shard free sends the queue: there are no threads of its own.
#ifndef EID_STORAGE_ROUTER_REPLAY_BATCHER_H_
#define EID_STORAGE_ROUTER_REPLAY_BATCHER_H_

#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/replay/replay_guard.h"
#include "storage/router/shard_router.h"

namespace eid::storage {

class ReplayBatcher : public ReplayGuard {
 public:
  struct Options {
    // Most nonces in one batch (at most the shard's max_batch_items); one
    // caller's own batch is never split.
    size_t max_batch = 512;
    // Batches in flight to one shard at once.
    int max_in_flight_per_shard = 1;
  };

  // `router` must outlive the batcher.
  ReplayBatcher(ShardRouter& router, const Options& options);
  ~ReplayBatcher() override;

  absl::StatusOr<ReplayVerdict> CheckAndRecord(absl::string_view nonce,
                                               absl::Time expires_at) override;
  // Nonces all on one shard join that shard's queue as one unit; a batch
  // spanning shards goes to the shards at once, uncoalesced.
  absl::StatusOr<std::vector<ReplayVerdict>> CheckAndRecordBatch(
      absl::Span<const ReplayCheck> checks) override;

 private:
  // One caller's nonces, waiting in a shard's queue.
  struct Waiter {
    absl::Span<const ReplayCheck> checks;
    bool done = false;
    absl::StatusOr<std::vector<ReplayVerdict>> result =
        absl::UnknownError("not answered");
  };
  struct ShardQueue {
    absl::Mutex mu;
    std::deque<Waiter*> pending ABSL_GUARDED_BY(mu);
    int in_flight ABSL_GUARDED_BY(mu) = 0;
  };

  // Queues `checks` (all owned by `shard`) and returns their verdicts.
  absl::StatusOr<std::vector<ReplayVerdict>> Submit(
      uint32_t shard, absl::Span<const ReplayCheck> checks);
  // Sends the waiters' nonces as one batch and answers each waiter.
  void Send(uint32_t shard, const std::vector<Waiter*>& batch);

  ShardRouter& router_;
  const Options options_;
  std::vector<std::unique_ptr<ShardQueue>> queues_;  // One per shard.
};

}  // namespace eid::storage

#endif  // EID_STORAGE_ROUTER_REPLAY_BATCHER_H_
