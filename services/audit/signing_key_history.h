// The public halves of every key that has signed this log's checkpoints,
// kept in the log's own RocksDB ('K' records, audit_keys.h). A checkpoint
// stays checkable after its key is rotated out: GetCheckpointKeys serves
// the past keys beside the current one, and `eidctl audit verify` checks
// old checkpoints against them. Public halves only: nothing secret is
// stored.
#ifndef EID_SERVICES_AUDIT_SIGNING_KEY_HISTORY_H_
#define EID_SERVICES_AUDIT_SIGNING_KEY_HISTORY_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eid/v1/common.pb.h"
#include "rocksdb/db.h"

namespace eid::audit {

// Records that `current` signs from `now` on: a key seen for the first time
// is stored (not_before = now); every other stored key that had no
// signing_until gets signing_until = now (it signs no more, its signatures
// stay valid). A key that signs again after being replaced loses its
// signing_until. One synced write. Returns every known key, newest first
// (the current one, then the others by not_before, latest first). UNAVAILABLE if the store
// cannot be read or written; DATA_LOSS if a stored key is unreadable.
absl::StatusOr<std::vector<v1::VerificationKey>> RecordSigningKey(
    rocksdb::DB& db, const v1::VerificationKey& current, absl::Time now);

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_SIGNING_KEY_HISTORY_H_
