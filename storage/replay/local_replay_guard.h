// LocalReplayGuard: the replay guard of one shard, in its own memory.
//
// Entries live in a ReplayTable until their expiry plus the allowed clock
// skew. They are not written to disk; instead the guard is fenced: after a
// start (a restart after kill -9 included) it answers kFenced for every token
// that may have been issued before the start — expiring before
// fence + skew + max token lifetime — so a nonce recorded by the previous
// process can never be answered kFirst again. The fence is the later of the
// start time and a high-water mark of time persisted (fsync'd) to
// `<dir>/replay_high_water` every second, so a clock that steps back across
// a restart cannot reopen the window. Tokens live one minute: the citizen
// makes a new QR code.
//
// Thread-safe.
#ifndef EID_STORAGE_REPLAY_LOCAL_REPLAY_GUARD_H_
#define EID_STORAGE_REPLAY_LOCAL_REPLAY_GUARD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "storage/replay/replay_guard.h"
#include "storage/replay/replay_table.h"

namespace eid::storage {

class LocalReplayGuard : public ReplayGuard {
 public:
  struct Options {
    // Directory for the high-water file (created if missing).
    std::string dir;
    // Longest token lifetime accepted (QR tokens: 60 s).
    absl::Duration max_token_lifetime = absl::Seconds(60);
    // Clock difference tolerated between issuers, verifiers and shards
    // (servers on NTP; a fresh shard fences tokens for about this long).
    absl::Duration allowed_skew = absl::Seconds(5);
    ReplayTable::Options table;
  };

  // Reads the high-water mark, sets the fence and persists the new mark.
  // FAILED_PRECONDITION if the directory or file cannot be used.
  static absl::StatusOr<std::unique_ptr<LocalReplayGuard>> Create(
      const Options& options, Clock& clock);

  absl::StatusOr<ReplayVerdict> CheckAndRecord(absl::string_view nonce,
                                               absl::Time expires_at) override;
  absl::StatusOr<std::vector<ReplayVerdict>> CheckAndRecordBatch(
      absl::Span<const ReplayCheck> checks) override;

  // Drops every expired entry (call about once a second) and advances the
  // persisted high-water mark.
  absl::Status Maintain();

  // Tokens expiring at or before this are answered kFenced.
  absl::Time fenced_until() const { return fenced_until_; }
  size_t live_entries() const { return table_.size(); }
  const Options& options() const { return options_; }
  size_t memory_bytes() const { return table_.memory_bytes(); }

 private:
  LocalReplayGuard(const Options& options, Clock& clock, absl::Time fence);

  absl::Status Validate(absl::string_view nonce, absl::Time expires_at,
                        absl::Time now) const;
  ReplayVerdict CheckOne(absl::string_view nonce, absl::Time expires_at,
                         absl::Time now);

  const Options options_;
  Clock& clock_;
  const absl::Time fenced_until_;
  ReplayTable table_;
  absl::Mutex high_water_mu_;
  // The mark last persisted; it never moves back, whatever the clock does.
  absl::Time high_water_ ABSL_GUARDED_BY(high_water_mu_);
};

}  // namespace eid::storage

#endif  // EID_STORAGE_REPLAY_LOCAL_REPLAY_GUARD_H_
