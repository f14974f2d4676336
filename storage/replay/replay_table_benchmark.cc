// In-process replay guard check-and-record throughput on one core, beside
// its peer: an absl::flat_hash_map<nonce, expiry> behind one mutex doing the
// same work (check, insert, and dropping expired entries).
//
//   bazel run -c opt //storage/replay:replay_table_benchmark
//
// Both run over the same stream of fresh random nonces with a 60 s lifetime
// and time advancing so that ~1 M entries are live in steady state.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"
#include "services/common/random.h"
#include "storage/replay/replay_table.h"

namespace eid::storage {
namespace {

constexpr uint32_t kStart = 1767225600;
constexpr uint32_t kLifetime = 60;
// New nonces per simulated second: 1 M live entries at a 60 s lifetime.
constexpr int kPerSecond = 1000000 / kLifetime;

std::vector<Nonce> MakeNonces(size_t n) {
  DeterministicRandom random(11);
  std::vector<Nonce> out(n);
  random.Fill(reinterpret_cast<uint8_t*>(out.data()), n * sizeof(Nonce));
  return out;
}

const std::vector<Nonce>& Nonces() {
  static const auto* const nonces = new std::vector<Nonce>(MakeNonces(1 << 22));
  return *nonces;
}

// The peer: a mutex-guarded hash map, expiring by a per-second scan of a
// ring of insertion buckets (what a careful simple implementation does).
class MutexHashMapGuard {
 public:
  bool CheckAndRecord(const Nonce& n, uint32_t expires_at, uint32_t now) {
    absl::MutexLock lock(&mu_);
    if (now != last_now_) Expire(now);
    auto [it, inserted] = map_.try_emplace(Key{n.lo, n.hi}, expires_at);
    if (inserted) ring_[expires_at % kRing].push_back(Key{n.lo, n.hi});
    return inserted;
  }

 private:
  struct Key {
    uint64_t lo, hi;
    bool operator==(const Key& o) const { return lo == o.lo && hi == o.hi; }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.lo, k.hi);
    }
  };
  static constexpr uint32_t kRing = 128;

  void Expire(uint32_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (uint32_t t = last_now_; t <= now && last_now_ != 0; ++t) {
      for (const Key& k : ring_[t % kRing]) map_.erase(k);
      ring_[t % kRing].clear();
    }
    last_now_ = now;
  }

  absl::Mutex mu_;
  absl::flat_hash_map<Key, uint32_t, absl::Hash<Key>> map_ ABSL_GUARDED_BY(mu_);
  std::vector<Key> ring_[kRing] ABSL_GUARDED_BY(mu_);
  uint32_t last_now_ ABSL_GUARDED_BY(mu_) = 0;
};

template <typename Guard, typename Check>
void Run(benchmark::State& state, Guard& guard, Check check) {
  const std::vector<Nonce>& nonces = Nonces();
  size_t i = 0;
  uint64_t op = 0;
  int64_t replays = 0;
  for (auto _ : state) {
    const uint32_t now = kStart + op / kPerSecond;
    // One in 16 calls repeats an earlier nonce (a replay attempt).
    const Nonce& n = (op % 16 == 15 && i > 0) ? nonces[i - 1]
                                                : nonces[i++ & (nonces.size() - 1)];
    replays += !check(guard, n, now + kLifetime, now);
    ++op;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["replayed"] = replays;
}

void BM_ReplayTable(benchmark::State& state) {
  ReplayTable table;
  Run(state, table, [](ReplayTable& t, const Nonce& n, uint32_t exp, uint32_t now) {
    return t.CheckAndRecord(n, exp, now) == ReplayTable::Result::kFirst;
  });
  state.counters["bytes_per_live_entry"] =
      static_cast<double>(table.memory_bytes()) / std::max<size_t>(table.size(), 1);
}

void BM_MutexFlatHashMap(benchmark::State& state) {
  MutexHashMapGuard guard;
  Run(state, guard,
      [](MutexHashMapGuard& g, const Nonce& n, uint32_t exp, uint32_t now) {
        return g.CheckAndRecord(n, exp, now);
      });
}

// Alternated so both see the same machine noise; repetitions give medians.
BENCHMARK(BM_ReplayTable)->Iterations(4000000)->Repetitions(5);
BENCHMARK(BM_MutexFlatHashMap)->Iterations(4000000)->Repetitions(5);

}  // namespace
}  // namespace eid::storage

int main(int argc, char** argv) {
  // As in eidd: Debian's Abseil checks every Mutex for lock cycles otherwise.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
