// ReplayBatcher: the replay guard the way the verification service calls it.
// Each verification asks about one nonce (or a few); sending each in its own
// RPC would cost a full call (~40 µs of server CPU) per token. The batcher
// queues the nonces bound for one shard while that shard's previous batch
// is in flight and sends them together as one CheckAndRecordBatch (group
// commit): under load batches grow by themselves, idle there is no wait.
//
// No recorded nonce is ever sent again: a batch the shard did not answer
// fails every caller in it (UNAVAILABLE: reject the token; the citizen
// retries). A batch rejected as invalid recorded nothing, so its callers
// are then answered one by one and only the bad one fails.
//
// Thread-safe; callers block until their nonces are answered. Built on
// eid::Coalescer (one per shard): whoever finds a shard free sends its
// queue, so there are no threads of its own and one batch is in flight per
// shard. A batch is at most max_batch callers; one caller's own nonces are
// never split (should they pass the shard's batch limit, the shard's
// INVALID_ARGUMENT sends each caller on its own, as above).
#ifndef EID_STORAGE_ROUTER_REPLAY_BATCHER_H_
#define EID_STORAGE_ROUTER_REPLAY_BATCHER_H_

#include <memory>
#include <vector>

#include "services/common/coalescer.h"
#include "storage/replay/replay_guard.h"
#include "storage/router/shard_router.h"

namespace eid::storage {

class ReplayBatcher : public ReplayGuard {
 public:
  struct Options {
    // Most callers in one batch.
    size_t max_batch = 512;
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
  // One caller's nonces (all on one shard); the caller blocks meanwhile.
  using Unit = absl::Span<const ReplayCheck>;
  using ShardQueue = Coalescer<Unit, std::vector<ReplayVerdict>>;

  // The units' verdicts from one call to `shard` (each unit alone if the
  // shard finds the batch invalid).
  std::vector<absl::StatusOr<std::vector<ReplayVerdict>>> Send(uint32_t shard,
                                                               std::vector<Unit>& units);

  ShardRouter& router_;
  std::vector<std::unique_ptr<ShardQueue>> queues_;  // One per shard.
};

}  // namespace eid::storage

#endif  // EID_STORAGE_ROUTER_REPLAY_BATCHER_H_
