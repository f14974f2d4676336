#include "storage/router/replay_batcher.h"

#include <string>

namespace eid::storage {

ReplayBatcher::ReplayBatcher(ShardRouter& router, const Options& options) : router_(router) {
  for (uint32_t s = 0; s < router.shard_count(); ++s) {
    queues_.push_back(std::make_unique<ShardQueue>(
        options.max_batch, [this, s](std::vector<Unit>& units) {
          return absl::StatusOr<std::vector<absl::StatusOr<std::vector<ReplayVerdict>>>>(
              Send(s, units));
        }));
  }
}

ReplayBatcher::~ReplayBatcher() = default;

absl::StatusOr<ReplayVerdict> ReplayBatcher::CheckAndRecord(absl::string_view nonce,
                                                            absl::Time expires_at) {
  const ReplayCheck check{std::string(nonce), expires_at};
  absl::StatusOr<std::vector<ReplayVerdict>> verdicts =
      queues_[router_.ShardOfNonce(nonce)]->Call(absl::MakeConstSpan(&check, 1));
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
  return queues_[shard]->Call(checks);
}

std::vector<absl::StatusOr<std::vector<ReplayVerdict>>> ReplayBatcher::Send(
    uint32_t shard, std::vector<Unit>& units) {
  std::vector<absl::StatusOr<std::vector<ReplayVerdict>>> answers;
  if (units.size() == 1) {
    answers.push_back(router_.CheckAndRecordOnShard(shard, units[0]));
    return answers;
  }
  std::vector<ReplayCheck> checks;
  for (Unit unit : units) checks.insert(checks.end(), unit.begin(), unit.end());
  absl::StatusOr<std::vector<ReplayVerdict>> verdicts =
      router_.CheckAndRecordOnShard(shard, checks);
  if (absl::IsInvalidArgument(verdicts.status())) {
    // One bad entry fails a batch with nothing recorded; answer each caller
    // on its own so one bad token cannot fail its neighbours.
    for (Unit unit : units) answers.push_back(router_.CheckAndRecordOnShard(shard, unit));
    return answers;
  }
  size_t next = 0;
  for (Unit unit : units) {
    if (!verdicts.ok()) {
      answers.push_back(verdicts.status());
      continue;
    }
    answers.push_back(std::vector<ReplayVerdict>(verdicts->begin() + next,
                                                 verdicts->begin() + next + unit.size()));
    next += unit.size();
  }
  return answers;
}

}  // namespace eid::storage
