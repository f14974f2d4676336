#include "storage/router/shard_router.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "storage/router/local_shards.h"
#include "storage/router/replay_batcher.h"
#include "storage/router/shard_hash.h"
#include "storage/shard/kv_store_conformance.h"

namespace eid::storage {
namespace {

using ::testing::HasSubstr;

// The KvStore contract, through the router, over three real gRPC shards.
struct RouterUnderTest : KvStoreUnderTest {
  std::unique_ptr<LocalShards> shards;
  KvStore& store() override { return shards->router(); }
};

std::unique_ptr<KvStoreUnderTest> MakeRouter(const std::string& dir, Clock& clock) {
  auto out = std::make_unique<RouterUnderTest>();
  auto shards = LocalShards::Start(dir, 3, clock);
  EXPECT_TRUE(shards.ok()) << shards.status();
  if (!shards.ok()) return nullptr;
  out->shards = std::move(*shards);
  return out;
}

INSTANTIATE_TEST_SUITE_P(RouterOverThreeShards, KvStoreConformanceTest,
                         ::testing::Values(&MakeRouter));

// The same contract when the router calls the shards' stores directly (as
// eidd does for the shard it hosts): errors and results must not change.
std::unique_ptr<KvStoreUnderTest> MakeDirectRouter(const std::string& dir, Clock& clock) {
  auto out = std::make_unique<RouterUnderTest>();
  // Its own dirs: the suite names them after the test, as for the above.
  auto shards = LocalShards::Start(dir + "-direct", 3, clock, /*direct=*/true);
  EXPECT_TRUE(shards.ok()) << shards.status();
  if (!shards.ok()) return nullptr;
  out->shards = std::move(*shards);
  return out;
}

INSTANTIATE_TEST_SUITE_P(RouterOverThreeDirectShards, KvStoreConformanceTest,
                         ::testing::Values(&MakeDirectRouter));

class ShardRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shards = LocalShards::Start(
        absl::StrCat(getenv("TEST_TMPDIR"), "/",
                     ::testing::UnitTest::GetInstance()->current_test_info()->name()),
        3, clock_);
    ASSERT_TRUE(shards.ok()) << shards.status();
    shards_ = std::move(*shards);
  }
  ShardRouter& router() { return shards_->router(); }

  v1::PutRequest PutOf(const std::string& key) {
    v1::PutRequest r;
    r.set_namespace_("indexes");
    r.set_key(key);
    r.set_value("v");
    return r;
  }

  static std::string NonceOf(int i) {
    std::string nonce(16, '\0');
    for (int b = 0; b < 4; ++b) nonce[b] = static_cast<char>(i >> (8 * b));
    nonce[15] = 'n';
    return nonce;
  }

  FakeClock clock_;
  std::unique_ptr<LocalShards> shards_;
};

TEST_F(ShardRouterTest, KeysLandOnTheShardTheirRoutingKeyPicks) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(router().Put(PutOf(absl::StrCat("k", i))).ok());
  }
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 30; ++i) {
      const std::string key = absl::StrCat("k", i);
      const bool here = shards_->shard(s).kv().RawExists("indexes", key);
      EXPECT_EQ(here, ShardOfKey(key, 3) == static_cast<uint32_t>(s)) << key;
    }
  }
}

TEST_F(ShardRouterTest, ScanWithoutARoutingKeyWalksEveryShardInPages) {
  std::set<std::string> written;
  for (int i = 0; i < 40; ++i) {
    written.insert(absl::StrCat("p/", i));
    ASSERT_TRUE(router().Put(PutOf(absl::StrCat("p/", i))).ok());
  }
  v1::ScanRequest scan;
  scan.set_namespace_("indexes");
  scan.set_prefix("p/");
  scan.set_limit(7);
  std::set<std::string> seen;
  int pages = 0;
  do {
    auto page = router().Scan(scan);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->records_size(), 7);
    for (const auto& r : page->records()) EXPECT_TRUE(seen.insert(r.key()).second);
    scan.set_page_token(page->next_page_token());
  } while (!scan.page_token().empty() && ++pages < 100);
  EXPECT_EQ(seen, written);

  scan.set_page_token("9:");
  EXPECT_EQ(ReasonOf(router().Scan(scan).status()), "PAGE_TOKEN_INVALID");
}

TEST_F(ShardRouterTest, BatchAcrossShardsIsRejectedAndWritesNothing) {
  // Find two keys on different shards.
  std::string a = "a0", b;
  for (int i = 1; b.empty(); ++i) {
    const std::string k = absl::StrCat("a", i);
    if (ShardOfKey(k, 3) != ShardOfKey(a, 3)) b = k;
  }
  v1::BatchRequest batch;
  for (const std::string& k : {a, b}) {
    auto* m = batch.add_mutations();
    m->set_namespace_("indexes");
    m->set_key(k);
    m->set_put_value("v");
  }
  auto result = router().Batch(batch);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(result.status()), "BATCH_CROSSES_SHARDS");
  v1::GetRequest get;
  get.set_namespace_("indexes");
  get.set_key(a);
  EXPECT_FALSE(router().Get(get)->found());
}

TEST_F(ShardRouterTest, MultiGetSpanningShardsAnswersInRequestOrder) {
  v1::MultiGetRequest r;
  for (int i = 0; i < 20; ++i) {
    if (i % 2 == 0) ASSERT_TRUE(router().Put(PutOf(absl::StrCat("m", i))).ok());
    auto* k = r.add_keys();
    k->set_namespace_("indexes");
    k->set_key(absl::StrCat("m", i));
  }
  auto got = router().MultiGet(r);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->results_size(), 20);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(got->results(i).found(), i % 2 == 0) << i;
    if (i % 2 == 0) {
      EXPECT_EQ(got->results(i).record().key(), absl::StrCat("m", i));
    }
  }
}

TEST_F(ShardRouterTest, ADeadShardIsUnavailableAndNamedWhileOthersServe) {
  shards_->Stop(1);
  std::string on_dead, on_live;
  for (int i = 0; on_dead.empty() || on_live.empty(); ++i) {
    const std::string k = absl::StrCat("d", i);
    (ShardOfKey(k, 3) == 1 ? on_dead : on_live) = k;
  }
  auto dead = router().Put(PutOf(on_dead));
  EXPECT_EQ(dead.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(dead.status()), "SHARD_UNAVAILABLE");
  EXPECT_THAT(dead.status().message(),
              HasSubstr(absl::StrCat("shard 1 (", shards_->addresses()[1], ")")));
  EXPECT_TRUE(router().Put(PutOf(on_live)).ok());
}

TEST(ShardRouterDirectTest, KvCallsToAHostedShardSkipItsChannel) {
  FakeClock clock;
  auto shards = LocalShards::Start(absl::StrCat(getenv("TEST_TMPDIR"), "/direct"), 2,
                                   clock, /*direct=*/true);
  ASSERT_TRUE(shards.ok()) << shards.status();
  // With the servers stopped only the direct path can answer.
  (*shards)->Stop(0);
  (*shards)->Stop(1);
  ShardRouter& router = (*shards)->router();
  v1::MultiGetRequest multi;
  for (int i = 0; i < 10; ++i) {
    v1::PutRequest put;
    put.set_namespace_("indexes");
    put.set_key(absl::StrCat("h", i));
    put.set_value("v");
    ASSERT_TRUE(router.Put(put).ok());
    auto* k = multi.add_keys();
    k->set_namespace_("indexes");
    k->set_key(put.key());
  }
  auto got = router.MultiGet(multi);
  ASSERT_TRUE(got.ok()) << got.status();
  for (const auto& r : got->results()) EXPECT_TRUE(r.found());
  v1::ScanRequest scan;
  scan.set_namespace_("indexes");
  scan.set_prefix("h");
  auto page = router.Scan(scan);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_GT(page->records_size(), 0);
  // A store's own error comes back as it is, reason included.
  v1::CompareAndSwapRequest cas;
  cas.set_namespace_("indexes");
  cas.set_key("h1");
  cas.set_expected_version(1);
  cas.set_value("w");
  auto lost = router.CompareAndSwap(cas);
  EXPECT_EQ(ReasonOf(lost.status()), "VERSION_MISMATCH");
  // The replay guard still goes over gRPC: the stopped shard is unavailable.
  auto verdict = router.CheckAndRecord(std::string(16, 'x'), clock.Now() + absl::Minutes(1));
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ShardRouterTest, RacingTheSameNonceGivesExactlyOneFirst) {
  ReplayBatcher batcher(router(), {});
  // Start after the fence of freshly started shards.
  clock_.Advance(absl::Minutes(5));
  for (int round = 0; round < 5; ++round) {
    const std::string nonce = NonceOf(1000 + round);
    std::atomic<int> first{0}, replayed{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&, t] {
        // Half through the batcher, half straight through the router.
        auto v = t % 2 ? batcher.CheckAndRecord(nonce, clock_.Now() + absl::Seconds(60))
                       : router().CheckAndRecord(nonce, clock_.Now() + absl::Seconds(60));
        if (!v.ok()) ++other;
        else if (*v == ReplayVerdict::kFirst) ++first;
        else if (*v == ReplayVerdict::kReplayed) ++replayed;
        else ++other;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(first.load(), 1);
    EXPECT_EQ(replayed.load(), 15);
    EXPECT_EQ(other.load(), 0);
  }
}

TEST_F(ShardRouterTest, BatcherAnswersEachNonceAndIsolatesABadOne) {
  clock_.Advance(absl::Minutes(5));
  ReplayBatcher batcher(router(), {});
  std::vector<std::thread> threads;
  std::atomic<int> first{0}, invalid{0};
  for (int t = 0; t < 40; ++t) {
    threads.emplace_back([&, t] {
      // Thread 7 presents an expiry no token can have.
      const absl::Duration ahead = t == 7 ? absl::Hours(1) : absl::Seconds(60);
      auto v = batcher.CheckAndRecord(NonceOf(t), clock_.Now() + ahead);
      if (v.ok() && *v == ReplayVerdict::kFirst) ++first;
      if (ReasonOf(v.status()) == "EXPIRY_INVALID") ++invalid;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(first.load(), 39);
  EXPECT_EQ(invalid.load(), 1);
  // And each is now a replay, through the batch form too.
  std::vector<ReplayCheck> again;
  for (int t = 0; t < 40; ++t) {
    if (t != 7) again.push_back({NonceOf(t), clock_.Now() + absl::Seconds(60)});
  }
  auto verdicts = batcher.CheckAndRecordBatch(again);
  ASSERT_TRUE(verdicts.ok()) << verdicts.status();
  for (ReplayVerdict v : *verdicts) EXPECT_EQ(v, ReplayVerdict::kReplayed);
}

TEST_F(ShardRouterTest, ReplayOnADeadShardIsUnavailableNeverFirst) {
  clock_.Advance(absl::Minutes(5));
  shards_->Stop(2);
  std::string nonce;
  for (int i = 0; nonce.empty(); ++i) {
    if (router().ShardOfNonce(NonceOf(i)) == 2) nonce = NonceOf(i);
  }
  auto v = router().CheckAndRecord(nonce, clock_.Now() + absl::Seconds(60));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(v.status()), "SHARD_UNAVAILABLE");
}

}  // namespace
}  // namespace eid::storage
