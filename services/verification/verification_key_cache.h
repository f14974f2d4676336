// VerificationKeyCache: the QR service's public keys as the verification
// service holds them — fetched with GetVerificationKeys, kept until the
// list's refresh_after, so a verification never pays an RPC (or a key
// parse: libsodium takes the raw 32 bytes as they are) for its key.
//
// A key counts as known while now < its not_after. If a refresh fails the
// cached keys keep serving (each only until its not_after) and the fetch is
// tried again at most once per retry interval.
//
// Thread-safe: lookups read an immutable snapshot.
#ifndef EID_SERVICES_VERIFICATION_VERIFICATION_KEY_CACHE_H_
#define EID_SERVICES_VERIFICATION_VERIFICATION_KEY_CACHE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eid/v1/qr.pb.h"

namespace eid::verification {

class VerificationKeyCache {
 public:
  using Fetch = std::function<absl::StatusOr<v1::GetVerificationKeysResponse>()>;

  struct KeySet {
    struct Key {
      std::string public_key;  // Raw Ed25519.
      absl::Time not_after;
    };
    absl::flat_hash_map<uint32_t, Key> keys;
    absl::Time refresh_after;
  };

  VerificationKeyCache(Fetch fetch,
                       absl::Duration retry_interval = absl::Seconds(1));

  // The keys to check tokens with at `now`, fetched first if the cached list
  // is due. UNAVAILABLE (DEPENDENCY_UNAVAILABLE) only if there has never
  // been a list.
  absl::StatusOr<std::shared_ptr<const KeySet>> Keys(absl::Time now);

 private:
  const Fetch fetch_;
  const absl::Duration retry_interval_;
  absl::Mutex fetch_mu_;  // One fetch at a time; others use the snapshot.
  absl::Time last_attempt_ ABSL_GUARDED_BY(fetch_mu_) = absl::InfinitePast();
  absl::Mutex mu_;
  std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid::verification

#endif  // EID_SERVICES_VERIFICATION_VERIFICATION_KEY_CACHE_H_
