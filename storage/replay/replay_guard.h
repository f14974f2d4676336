// ReplayGuard: the one answer to "has this QR nonce been used?".
//
// CheckAndRecord(nonce, expires_at) answers kFirst for exactly one caller per
// nonce, ever: under any concurrency, and across a crash of the shard that
// holds it. Implementations: LocalReplayGuard (in the shard process) and the
// shard router's client (storage/router).
#ifndef EID_STORAGE_REPLAY_REPLAY_GUARD_H_
#define EID_STORAGE_REPLAY_REPLAY_GUARD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace eid::storage {

enum class ReplayVerdict {
  kFirst,     // Never seen: recorded; the token may be accepted.
  kReplayed,  // Seen before: reject the token.
  kExpired,   // Already past its expiry (plus skew): reject, nothing recorded.
  kFenced,    // Issued before this shard's last start: it cannot prove the
              // nonce is new, so reject; the citizen makes a new QR code.
};

// "FIRST", "REPLAYED", "EXPIRED", "FENCED".
absl::string_view ReplayVerdictName(ReplayVerdict verdict);

struct ReplayCheck {
  std::string nonce;     // Exactly 16 bytes.
  absl::Time expires_at;  // The token's signed expiry.
};

class ReplayGuard {
 public:
  virtual ~ReplayGuard() = default;

  // Fails with INVALID_ARGUMENT (NONCE_INVALID: not 16 bytes; EXPIRY_INVALID:
  // further ahead than a token can live), or UNAVAILABLE when the shard
  // cannot be reached (nothing is known then: reject the token).
  virtual absl::StatusOr<ReplayVerdict> CheckAndRecord(absl::string_view nonce,
                                                       absl::Time expires_at) = 0;

  // The same for many nonces, answered in order. An invalid entry fails the
  // whole batch (nothing recorded) with the entry's index in the message.
  virtual absl::StatusOr<std::vector<ReplayVerdict>> CheckAndRecordBatch(
      absl::Span<const ReplayCheck> checks) = 0;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_REPLAY_REPLAY_GUARD_H_
