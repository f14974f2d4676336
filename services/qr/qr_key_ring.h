// QrKeyRing: the QR service's Ed25519 signing keys, derived from one master
// seed (a secret file) and rotated on a fixed schedule with an overlap.
//
// Key k signs during period k = [k * rotation, (k + 1) * rotation) since the
// Unix epoch; its key id is k (so ids never repeat while the rotation stays
// the same; a new rotation needs a new master seed). Its seed is
// KeyedHash(master, {"eid.v1/qr-signing-key", key id as 4 bytes BE}), so
// every QR replica derives the same keys with no shared state.
//
// A key is published `overlap` before it starts signing (verifiers that
// cache the list know it in time) and stays valid `overlap` after it stops
// (its last tokens, 60 s, can still be checked). After that a verifier
// answers UNKNOWN_KEY for it.
//
// Thread-safe.
#ifndef EID_SERVICES_QR_QR_KEY_RING_H_
#define EID_SERVICES_QR_QR_KEY_RING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/qr/token/qr_token.h"

namespace eid::qr {

class QrKeyRing {
 public:
  struct Options {
    // How long each key signs. At least 2 * overlap.
    absl::Duration rotation = absl::Hours(24);
    // Published this long before it signs, valid this long after. At least
    // the token lifetime plus the verifiers' clock skew.
    absl::Duration overlap = absl::Minutes(10);
  };

  // A key as verifiers see it (VerificationKey).
  struct PublicKey {
    uint32_t key_id = 0;
    std::string public_key;  // Raw, kPublicKeyBytes.
    absl::Time not_before;     // Starts signing.
    absl::Time signing_until;  // Stops signing.
    absl::Time not_after;      // No longer valid at all.
  };

  // INVALID_ARGUMENT if the master seed is shorter than 32 bytes or the
  // options break the bounds above.
  static absl::StatusOr<std::unique_ptr<QrKeyRing>> Create(std::string master_seed,
                                                          const Options& options);
  ~QrKeyRing();

  // The key that signs at `now`. UNAVAILABLE (SIGNING_KEY_UNAVAILABLE)
  // before 1970 + one rotation or past 2^32 periods (never in practice).
  absl::StatusOr<std::shared_ptr<const QrSigningKey>> SigningKeyAt(absl::Time now);

  // Every key valid at `now` — the next one during its lead, the current
  // one, the previous one during its overlap — newest first.
  std::vector<PublicKey> PublishedAt(absl::Time now);

  // When the published list next changes after `now` (when a verifier's
  // cached copy should be fetched again).
  absl::Time NextChangeAfter(absl::Time now) const;

  const Options& options() const { return options_; }

 private:
  QrKeyRing(std::string master_seed, const Options& options);
  int64_t PeriodAt(absl::Time t) const;
  absl::Time StartOf(int64_t period) const;
  absl::StatusOr<std::shared_ptr<const QrSigningKey>> KeyOf(int64_t period);
  PublicKey PublicOf(int64_t period, const QrSigningKey& key) const;

  const std::string master_seed_;
  const Options options_;
  absl::Mutex mu_;
  // Derived keys, by period; only the few around now are kept.
  std::map<int64_t, std::shared_ptr<const QrSigningKey>> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid::qr

#endif  // EID_SERVICES_QR_QR_KEY_RING_H_
