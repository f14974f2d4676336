// ReplayTable: the in-memory set of live nonces of one shard, answering
// "first time, or seen before?" atomically per nonce.
//
// A nonce is 128 random bits (from a signed QR token) with an expiry. The
// table is split into partitions by a keyed hash of the nonce, each an
// open-addressing, linear-probing array of packed 20-byte slots (nonce +
// expiry in seconds) under its own mutex. Expired entries are removed by an
// incremental sweep (a few slots on every call, and Sweep() on a timer) with
// backward-shift deletion, and partitions shrink when they empty, so an
// expired entry stops costing memory within one sweep cycle.
//
// Thread-safe: calls on different partitions run in parallel.
#ifndef EID_STORAGE_REPLAY_REPLAY_TABLE_H_
#define EID_STORAGE_REPLAY_REPLAY_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace eid::storage {

// 128-bit nonce, as two little-endian halves of its 16 bytes.
struct Nonce {
  uint64_t lo = 0;
  uint64_t hi = 0;
  // Reads the first 16 bytes of `bytes` (which must hold at least 16).
  static Nonce FromBytes(const char* bytes);
  bool operator==(const Nonce& o) const { return lo == o.lo && hi == o.hi; }
};

class ReplayTable {
 public:
  struct Options {
    // Number of independently locked partitions (a power of two).
    int partitions = 64;
    // Slots a partition starts with and never shrinks below (power of two).
    size_t min_slots = 256;
    // Seed of the keyed hash spreading nonces over partitions and slots.
    uint64_t hash_seed = 0x9e3779b97f4a7c15ULL;
  };

  enum class Result {
    kFirst,     // Not seen before; now recorded until its expiry.
    kReplayed,  // Seen before (whatever expiry it came with then).
    kExpired,   // `expires_at` is not after `now`: nothing recorded.
  };

  ReplayTable();
  explicit ReplayTable(const Options& options);
  ~ReplayTable();
  ReplayTable(const ReplayTable&) = delete;
  ReplayTable& operator=(const ReplayTable&) = delete;

  // Records `nonce` until `expires_at` (Unix seconds, > `now`) unless it is
  // already there. `now` is Unix seconds; the table keeps no clock.
  Result CheckAndRecord(const Nonce& nonce, uint32_t expires_at, uint32_t now);

  // Looks at up to `max_slots` slots (at most all of them, once) in every
  // partition and removes the expired entries there; returns how many.
  size_t Sweep(uint32_t now, size_t max_slots);

  // Live (unswept) entries.
  size_t size() const;
  // Bytes held by the slot arrays (the table's memory, less a few hundred
  // bytes of bookkeeping per partition).
  size_t memory_bytes() const;

 private:
  struct Partition;

  uint64_t Hash(const Nonce& nonce) const;

  const uint64_t seed_;
  const uint64_t partition_mask_;
  const int partition_shift_;
  std::vector<std::unique_ptr<Partition>> partitions_;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_REPLAY_REPLAY_TABLE_H_
