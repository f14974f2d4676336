// Mix64: MurmurHash3's 64-bit finaliser (fmix64), which spreads every input
// bit over the whole output. Used where the storage layer hashes fixed,
// process-independent values (routing keys, replay nonces). Pure.
#ifndef EID_STORAGE_COMMON_MIX64_H_
#define EID_STORAGE_COMMON_MIX64_H_

#include <cstdint>

namespace eid::storage {

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace eid::storage

#endif  // EID_STORAGE_COMMON_MIX64_H_
