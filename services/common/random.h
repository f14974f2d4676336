// RandomSource: where every secret and nonce gets its bytes.
//
// Production uses `SystemRandom` (libsodium's CSPRNG); tests inject
// `DeterministicRandom` to get reproducible codes and nonces.
// Implementations are thread-safe.
#ifndef EID_SERVICES_COMMON_RANDOM_H_
#define EID_SERVICES_COMMON_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace eid {

class RandomSource {
 public:
  virtual ~RandomSource() = default;

  // Fills `out[0, n)` with random bytes.
  virtual void Fill(uint8_t* out, size_t n) = 0;

  // `n` random bytes as a string.
  std::string Bytes(size_t n);

  // A uniform integer in [0, upper), without modulo bias; `upper` > 0.
  uint32_t Uniform(uint32_t upper);

  // A string of `digits` uniform decimal digits (e.g. a 6-digit OTP).
  std::string Digits(int digits);
};

// libsodium's randombytes (getrandom(2) underneath). Never fails once
// sodium_init() succeeded, which the constructor ensures (aborting if not).
class SystemRandom : public RandomSource {
 public:
  SystemRandom();
  void Fill(uint8_t* out, size_t n) override;

  // A process-wide instance.
  static SystemRandom& Get();
};

// A reproducible stream (splitmix64 from a seed). For tests only: it is not
// secret.
class DeterministicRandom : public RandomSource {
 public:
  explicit DeterministicRandom(uint64_t seed = 1);
  void Fill(uint8_t* out, size_t n) override;

 private:
  absl::Mutex mu_;
  uint64_t state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid

#endif  // EID_SERVICES_COMMON_RANDOM_H_
