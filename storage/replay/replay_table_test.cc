#include "storage/replay/replay_table.h"

#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace eid::storage {
namespace {

constexpr uint32_t kNow = 1767225600;

Nonce N(uint64_t i) { return Nonce{i * 0x9e3779b97f4a7c15ULL, ~i}; }

TEST(ReplayTableTest, FirstThenReplayed) {
  ReplayTable table;
  EXPECT_EQ(table.CheckAndRecord(N(1), kNow + 60, kNow), ReplayTable::Result::kFirst);
  EXPECT_EQ(table.CheckAndRecord(N(1), kNow + 60, kNow), ReplayTable::Result::kReplayed);
  EXPECT_EQ(table.CheckAndRecord(N(2), kNow + 60, kNow), ReplayTable::Result::kFirst);
  EXPECT_EQ(table.size(), 2u);
}

TEST(ReplayTableTest, ANonceIsReplayedEvenWithAnotherExpiry) {
  ReplayTable table;
  table.CheckAndRecord(N(1), kNow + 60, kNow);
  EXPECT_EQ(table.CheckAndRecord(N(1), kNow + 90, kNow), ReplayTable::Result::kReplayed);
}

TEST(ReplayTableTest, AnAlreadyExpiredNonceIsNotRecorded) {
  ReplayTable table;
  EXPECT_EQ(table.CheckAndRecord(N(1), kNow, kNow), ReplayTable::Result::kExpired);
  EXPECT_EQ(table.size(), 0u);
}

TEST(ReplayTableTest, ExpiredEntriesAreSweptAndTheMemoryReturned) {
  ReplayTable::Options options;
  options.partitions = 4;
  options.min_slots = 64;
  ReplayTable table(options);
  const size_t empty_bytes = table.memory_bytes();
  for (uint64_t i = 0; i < 100000; ++i) table.CheckAndRecord(N(i), kNow + 60, kNow);
  EXPECT_EQ(table.size(), 100000u);
  EXPECT_GT(table.memory_bytes(), 100000u * 20);
  EXPECT_LE(table.memory_bytes(), 100000u * 72);  // The budget.

  // Still live one second before expiry: nothing swept.
  EXPECT_EQ(table.Sweep(kNow + 59, 1 << 20), 0u);
  EXPECT_EQ(table.size(), 100000u);

  table.Sweep(kNow + 60, 1 << 20);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.memory_bytes(), empty_bytes);
}

TEST(ReplayTableTest, LiveEntriesSurviveSweepsAndGrowth) {
  ReplayTable::Options options;
  options.partitions = 2;
  options.min_slots = 16;
  ReplayTable table(options);
  // Half the nonces expire at +10 s, half at +100 s; then time passes.
  for (uint64_t i = 0; i < 20000; ++i) {
    table.CheckAndRecord(N(i), kNow + (i % 2 ? 100 : 10), kNow);
  }
  table.Sweep(kNow + 50, SIZE_MAX);  // One full pass, however large the budget.
  EXPECT_EQ(table.size(), 10000u);
  for (uint64_t i = 1; i < 20000; i += 2) {
    ASSERT_EQ(table.CheckAndRecord(N(i), kNow + 100, kNow + 50),
              ReplayTable::Result::kReplayed) << i;
  }
}

// Random operations against a std::map model, with time moving forward and
// sweeps interleaved: the answer is always the model's.
TEST(ReplayTableTest, MatchesAReferenceModel) {
  ReplayTable::Options options;
  options.partitions = 4;
  options.min_slots = 8;
  ReplayTable table(options);
  std::map<uint64_t, uint32_t> model;  // nonce id -> expiry
  std::mt19937_64 rng(5);
  uint32_t now = kNow;
  for (int step = 0; step < 200000; ++step) {
    if (rng() % 100 == 0) now += rng() % 5;
    if (rng() % 1000 == 0) table.Sweep(now, rng() % 64);
    const uint64_t id = rng() % 5000;
    const uint32_t expiry = now + 1 + rng() % 20;
    auto it = model.find(id);
    // The table may forget an entry only once it expired.
    const bool live = it != model.end() && it->second > now;
    const ReplayTable::Result got = table.CheckAndRecord(N(id), expiry, now);
    if (live) {
      ASSERT_EQ(got, ReplayTable::Result::kReplayed) << step;
    } else if (got == ReplayTable::Result::kFirst) {
      model[id] = expiry;
    } else {
      ASSERT_NE(it, model.end()) << "replayed a nonce never recorded, step " << step;
    }
  }
}

TEST(ReplayTableTest, ExactlyOneFirstUnderConcurrency) {
  ReplayTable table;
  constexpr int kThreads = 8, kNonces = 2000;
  std::atomic<int> firsts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kNonces; ++i) {
        if (table.CheckAndRecord(N(i), kNow + 60, kNow) ==
            ReplayTable::Result::kFirst) {
          ++firsts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(firsts.load(), kNonces);
  EXPECT_EQ(table.size(), static_cast<size_t>(kNonces));
}

}  // namespace
}  // namespace eid::storage
