// Signed checkpoints of the audit log: a statement "partition p had
// tree_size leaves with this root at this time", signed with Ed25519
// (libsodium) by the audit service's key, checkable by anyone holding the
// public key (GetCheckpointKeys).
//
// The signed body is text (docs/audit-format.md):
//
//   eid.v1/audit/<partition>\n
//   <tree_size>\n
//   <root hash, standard base64>\n
//   <time: Unix seconds>.<nanoseconds, 9 digits>\n
//
// Thread-safe (immutable after creation).
#ifndef EID_SERVICES_AUDIT_CHECKPOINT_SIGNER_H_
#define EID_SERVICES_AUDIT_CHECKPOINT_SIGNER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "eid/v1/audit.pb.h"
#include "eid/v1/common.pb.h"
#include "services/audit/merkle.h"

namespace eid::audit {

// The body signed for these values.
std::string CheckpointBody(uint32_t partition, uint64_t tree_size,
                           const Hash& root, absl::Time time);

class CheckpointSigner {
 public:
  // From a 32-byte Ed25519 seed (the `audit_signing_seed` secret file).
  // The key id is the first four bytes of SHA-256(public key), big-endian.
  // INVALID_ARGUMENT if the seed is not 32 bytes.
  static absl::StatusOr<std::unique_ptr<CheckpointSigner>> FromSeed(
      absl::string_view seed, absl::Time not_before);
  ~CheckpointSigner();

  v1::Checkpoint Sign(uint32_t partition, uint64_t tree_size, const Hash& root,
                      absl::Time time) const;
  const v1::VerificationKey& public_key() const { return public_key_; }

 private:
  CheckpointSigner() = default;
  std::string secret_key_;  // libsodium's 64-byte secret key.
  v1::VerificationKey public_key_;
};

// OK if `checkpoint` is signed by one of `keys` (by key id), its body states
// exactly its partition, size, root and time, and the key was valid then.
// DATA_LOSS naming what is wrong otherwise (unknown key, bad signature,
// body and fields disagree).
absl::Status VerifyCheckpoint(const v1::Checkpoint& checkpoint,
                              absl::Span<const v1::VerificationKey> keys);

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_CHECKPOINT_SIGNER_H_
