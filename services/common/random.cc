#include "services/common/random.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

#include "services/common/sodium.h"

namespace eid {

std::string RandomSource::Bytes(size_t n) {
  std::string out(n, '\0');
  Fill(reinterpret_cast<uint8_t*>(out.data()), n);
  return out;
}

uint32_t RandomSource::Uniform(uint32_t upper) {
  if (upper < 2) return 0;
  // Reject the low values that would make `% upper` uneven.
  const uint32_t min = -upper % upper;
  for (;;) {
    uint32_t r;
    Fill(reinterpret_cast<uint8_t*>(&r), sizeof(r));
    if (r >= min) return r % upper;
  }
}

std::string RandomSource::Digits(int digits) {
  std::string out;
  out.reserve(digits);
  for (int i = 0; i < digits; ++i) out.push_back('0' + Uniform(10));
  return out;
}

SystemRandom::SystemRandom() {
  if (!SodiumReady()) {
    std::fputs("eid: sodium_init failed: no CSPRNG\n", stderr);
    std::abort();
  }
}

void SystemRandom::Fill(uint8_t* out, size_t n) { randombytes_buf(out, n); }

SystemRandom& SystemRandom::Get() {
  static SystemRandom* const random = new SystemRandom();
  return *random;
}

DeterministicRandom::DeterministicRandom(uint64_t seed) : state_(seed) {}

void DeterministicRandom::Fill(uint8_t* out, size_t n) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = z >> (8 * j);
  }
}

}  // namespace eid
