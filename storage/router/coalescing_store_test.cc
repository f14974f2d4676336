#include "storage/router/coalescing_store.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "storage/router/local_shards.h"
#include "storage/router/shard_hash.h"
#include "storage/shard/kv_store_conformance.h"

namespace eid::storage {
namespace {

// The KvStore contract, through the coalescing store, over three real gRPC
// shards.
struct CoalescingUnderTest : KvStoreUnderTest {
  std::unique_ptr<LocalShards> shards;
  std::unique_ptr<CoalescingStore> coalescing;
  KvStore& store() override { return *coalescing; }
};

std::unique_ptr<KvStoreUnderTest> MakeCoalescing(const std::string& dir, Clock& clock) {
  auto out = std::make_unique<CoalescingUnderTest>();
  auto shards = LocalShards::Start(dir, 3, clock);
  EXPECT_TRUE(shards.ok()) << shards.status();
  if (!shards.ok()) return nullptr;
  out->shards = std::move(*shards);
  out->coalescing = std::make_unique<CoalescingStore>(out->shards->router());
  return out;
}

INSTANTIATE_TEST_SUITE_P(CoalescingOverThreeShards, KvStoreConformanceTest,
                         ::testing::Values(&MakeCoalescing));

class CoalescingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shards = LocalShards::Start(
        absl::StrCat(getenv("TEST_TMPDIR"), "/",
                     ::testing::UnitTest::GetInstance()->current_test_info()->name()),
        3, clock_);
    ASSERT_TRUE(shards.ok()) << shards.status();
    shards_ = std::move(*shards);
    store_ = std::make_unique<CoalescingStore>(shards_->router());
  }

  static v1::PutRequest PutOf(const std::string& key, const std::string& value) {
    v1::PutRequest r;
    r.set_namespace_("indexes");
    r.set_key(key);
    r.set_value(value);
    return r;
  }
  static v1::GetRequest GetOf(const std::string& key) {
    v1::GetRequest r;
    r.set_namespace_("indexes");
    r.set_key(key);
    return r;
  }

  FakeClock clock_;
  std::unique_ptr<LocalShards> shards_;
  std::unique_ptr<CoalescingStore> store_;
};

TEST_F(CoalescingStoreTest, ManyThreadsEachReadBackWhatTheyWrote) {
  constexpr int kThreads = 16, kPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = absl::StrCat("k", t, "-", i);
        auto put = store_->Put(PutOf(key, absl::StrCat("v", t, "-", i)));
        ASSERT_TRUE(put.ok()) << put.status();
        EXPECT_GT(put->version(), 0u);
        auto got = store_->Get(GetOf(key));
        ASSERT_TRUE(got.ok()) << got.status();
        ASSERT_TRUE(got->found());
        EXPECT_EQ(got->record().value(), absl::StrCat("v", t, "-", i));
        EXPECT_EQ(got->record().version(), put->version());
        auto missing = store_->Get(GetOf(key + "-absent"));
        ASSERT_TRUE(missing.ok()) << missing.status();
        EXPECT_FALSE(missing->found());
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

TEST_F(CoalescingStoreTest, ABadRecordFailsAloneWithItsOwnReason) {
  constexpr int kThreads = 12;
  std::vector<absl::Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Thread 0's value is empty: VALUE_EMPTY, whatever batch it rides in.
      results[t] = store_->Put(PutOf(absl::StrCat("b", t), t == 0 ? "" : "v")).status();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(results[0].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(results[0]), "VALUE_EMPTY");
  for (int t = 1; t < kThreads; ++t) {
    EXPECT_TRUE(results[t].ok()) << t << ": " << results[t];
    auto got = store_->Get(GetOf(absl::StrCat("b", t)));
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got->found()) << t;
  }
  auto bad = store_->Get(GetOf("b0"));
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->found());
}

TEST_F(CoalescingStoreTest, OneKeyWrittenByManyAtOnceEndsWithOneOfTheirValues) {
  constexpr int kThreads = 12;
  std::vector<uint64_t> versions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto put = store_->Put(PutOf("same", absl::StrCat("v", t)));
      ASSERT_TRUE(put.ok()) << put.status();
      versions[t] = put->version();
    });
  }
  for (std::thread& t : threads) t.join();
  auto got = store_->Get(GetOf("same"));
  ASSERT_TRUE(got.ok());
  // The record holds the write with the highest version.
  const int last = std::max_element(versions.begin(), versions.end()) - versions.begin();
  EXPECT_EQ(got->record().value(), absl::StrCat("v", last));
}

TEST_F(CoalescingStoreTest, ADeadShardIsUnavailableAndNamed) {
  shards_->Stop(1);
  std::string on_dead;
  for (int i = 0; on_dead.empty(); ++i) {
    const std::string k = absl::StrCat("d", i);
    if (ShardOfKey(k, 3) == 1) on_dead = k;
  }
  auto put = store_->Put(PutOf(on_dead, "v"));
  EXPECT_EQ(put.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(put.status()), "SHARD_UNAVAILABLE");
  auto get = store_->Get(GetOf(on_dead));
  EXPECT_EQ(get.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace eid::storage
