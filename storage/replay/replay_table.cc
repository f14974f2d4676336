#include "storage/replay/replay_table.h"

#include <algorithm>
#include <cstring>

#include "storage/common/mix64.h"

namespace eid::storage {
namespace {

// One slot: 16-byte nonce and 4-byte expiry, packed to 20 bytes. An expiry
// of 0 marks an empty slot (a live entry always expires after "now" > 0).
#pragma pack(push, 1)
struct Slot {
  uint64_t lo;
  uint64_t hi;
  uint32_t expires_at;
};
#pragma pack(pop)
static_assert(sizeof(Slot) == 20, "slots are packed");

// Grow past 3/4 full; shrink below 1/8 full (never below min_slots).
bool TooFull(size_t size, size_t slots) { return size * 4 > slots * 3; }
bool TooEmpty(size_t size, size_t slots) { return size * 8 < slots; }

// How many slots each call sweeps in its partition: enough that a partition
// is swept about once per `slots / 2` calls.
constexpr size_t kSweepPerCall = 2;

}  // namespace

Nonce Nonce::FromBytes(const char* bytes) {
  Nonce n;
  std::memcpy(&n.lo, bytes, 8);
  std::memcpy(&n.hi, bytes + 8, 8);
  return n;
}

struct ReplayTable::Partition {
  explicit Partition(size_t min) : min_slots(min), slots(min) {}

  absl::Mutex mu;
  const size_t min_slots;
  std::vector<Slot> slots ABSL_GUARDED_BY(mu);
  size_t size ABSL_GUARDED_BY(mu) = 0;
  size_t sweep_cursor ABSL_GUARDED_BY(mu) = 0;

  size_t mask() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return slots.size() - 1;
  }

  // Empties slot `i` and shifts later entries of its probe run back, so no
  // lookup ever stops early at a hole (no tombstones).
  void EraseAt(size_t i, uint64_t (*home)(const Slot&, const void*),
               const void* ctx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const size_t m = mask();
    size_t hole = i;
    for (size_t j = (i + 1) & m; slots[j].expires_at != 0; j = (j + 1) & m) {
      const size_t want = home(slots[j], ctx) & m;
      // Move j into the hole if its home is not in (hole, j] cyclically.
      if (((j - want) & m) >= ((j - hole) & m)) {
        slots[hole] = slots[j];
        hole = j;
      }
    }
    slots[hole].expires_at = 0;
    --size;
  }

  // Rebuilds the array with `n` slots, dropping expired entries.
  void Rehash(size_t n, uint32_t now, uint64_t (*home)(const Slot&, const void*),
              const void* ctx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::vector<Slot> old(n);
    old.swap(slots);
    size = 0;
    sweep_cursor = 0;
    const size_t m = n - 1;
    for (const Slot& s : old) {
      if (s.expires_at == 0 || s.expires_at <= now) continue;
      size_t i = home(s, ctx) & m;
      while (slots[i].expires_at != 0) i = (i + 1) & m;
      slots[i] = s;
      ++size;
    }
  }

  // Moves the cursor over up to `budget` slots, removing the expired entries
  // it meets; returns how many it removed.
  size_t SweepSome(size_t budget, uint32_t now,
                   uint64_t (*home)(const Slot&, const void*), const void* ctx)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    size_t removed = 0;
    for (size_t visited = 0; visited < budget && size > 0;) {
      const size_t i = sweep_cursor & mask();
      if (slots[i].expires_at != 0 && slots[i].expires_at <= now) {
        // Backward shift may pull an unswept entry into i: look again.
        // (Each erase shrinks `size`, so this ends.)
        EraseAt(i, home, ctx);
        ++removed;
      } else {
        sweep_cursor = i + 1;
        ++visited;
      }
    }
    if (TooEmpty(size, slots.size()) && slots.size() > min_slots) {
      size_t n = slots.size() / 2;
      while (n > min_slots && TooEmpty(size, n)) n /= 2;
      Rehash(n, now, home, ctx);
    }
    return removed;
  }
};

namespace {

struct HashContext {
  uint64_t seed;
};

}  // namespace

ReplayTable::ReplayTable() : ReplayTable(Options()) {}

ReplayTable::~ReplayTable() = default;

ReplayTable::ReplayTable(const Options& options)
    : seed_(options.hash_seed),
      partition_mask_(options.partitions - 1),
      partition_shift_(64 - __builtin_ctz(options.partitions)) {
  partitions_.reserve(options.partitions);
  for (int i = 0; i < options.partitions; ++i) {
    partitions_.push_back(std::make_unique<Partition>(options.min_slots));
  }
}

uint64_t ReplayTable::Hash(const Nonce& n) const {
  return Mix64(n.lo ^ seed_) ^ Mix64(n.hi + seed_);
}

// The slot-position hash of a stored slot (the low bits of Hash; partitions
// use the top bits).
static uint64_t HomeOf(const Slot& s, const void* ctx) {
  const auto* h = static_cast<const HashContext*>(ctx);
  return Mix64(s.lo ^ h->seed) ^ Mix64(s.hi + h->seed);
}

ReplayTable::Result ReplayTable::CheckAndRecord(const Nonce& nonce,
                                                uint32_t expires_at,
                                                uint32_t now) {
  if (expires_at <= now) return Result::kExpired;
  const uint64_t h = Hash(nonce);
  Partition& p = *partitions_[partition_shift_ == 64
                                  ? 0
                                  : (h >> partition_shift_) & partition_mask_];
  const HashContext ctx{seed_};
  absl::MutexLock lock(&p.mu);
  p.SweepSome(kSweepPerCall, now, HomeOf, &ctx);
  size_t m = p.mask();
  size_t i = h & m;
  for (; p.slots[i].expires_at != 0; i = (i + 1) & m) {
    if (p.slots[i].lo == nonce.lo && p.slots[i].hi == nonce.hi) {
      return Result::kReplayed;
    }
  }
  if (TooFull(p.size + 1, p.slots.size())) {
    p.Rehash(p.slots.size() * 2, now, HomeOf, &ctx);
    m = p.mask();
    for (i = h & m; p.slots[i].expires_at != 0;) i = (i + 1) & m;
  }
  p.slots[i] = Slot{nonce.lo, nonce.hi, expires_at};
  ++p.size;
  return Result::kFirst;
}

size_t ReplayTable::Sweep(uint32_t now, size_t max_slots) {
  const HashContext ctx{seed_};
  size_t removed = 0;
  for (auto& p : partitions_) {
    absl::MutexLock lock(&p->mu);
    // One pass at most: live entries would be visited again and again.
    removed += p->SweepSome(std::min(max_slots, p->slots.size()), now, HomeOf, &ctx);
  }
  return removed;
}

size_t ReplayTable::size() const {
  size_t n = 0;
  for (auto& p : partitions_) {
    absl::MutexLock lock(&p->mu);
    n += p->size;
  }
  return n;
}

size_t ReplayTable::memory_bytes() const {
  size_t n = 0;
  for (auto& p : partitions_) {
    absl::MutexLock lock(&p->mu);
    n += p->slots.capacity() * sizeof(Slot);
  }
  return n;
}

}  // namespace eid::storage
