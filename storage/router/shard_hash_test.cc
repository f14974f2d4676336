#include "storage/router/shard_hash.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace eid::storage {
namespace {

TEST(RoutingKeyTest, IsThePartBeforeTheFirstSeparator) {
  EXPECT_EQ(RoutingKeyOf("d/79-760|acct-1|x"), "d/79-760");
  EXPECT_EQ(RoutingKeyOf("plain-key"), "plain-key");
  EXPECT_EQ(RoutingKeyOf("|leading"), "");
  EXPECT_TRUE(PrefixIsRouted("d/79-760|"));
  EXPECT_FALSE(PrefixIsRouted("d/79-760"));
}

TEST(RoutingKeyTest, KeysSharingARoutingKeyShareAShard) {
  for (uint32_t shards : {2u, 3u, 16u}) {
    EXPECT_EQ(ShardOfKey("d/79-760|a", shards), ShardOfKey("d/79-760|b", shards));
    EXPECT_EQ(ShardOfKey("d/79-760|a", shards), ShardOfKey("d/79-760", shards));
  }
}

TEST(StableHashTest, NeverChanges) {
  // Pinned: a different value here would move every stored record.
  EXPECT_EQ(StableHash64(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(StableHash64("accounts/1"), 0x5b2b828607033534ULL);
  const uint32_t expected[] = {0, 0, 7, 1, 2, 2, 4, 3};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(ShardOfKey(absl::StrCat("accounts/", i), 10), expected[i]) << i;
  }
}

TEST(JumpConsistentHashTest, StaysInRange) {
  // One bucket takes every key; more buckets stay in range.
  EXPECT_EQ(JumpConsistentHash(0, 1), 0u);
  EXPECT_EQ(JumpConsistentHash(1, 1), 0u);
  EXPECT_EQ(JumpConsistentHash(0xffffffffffffffffULL, 1), 0u);
  for (uint64_t k = 0; k < 1000; ++k) EXPECT_LT(JumpConsistentHash(k, 7), 7u);
}

TEST(JumpConsistentHashTest, SpreadsKeysEvenly) {
  constexpr uint32_t kShards = 8;
  constexpr int kKeys = 80000;
  std::vector<int> counts(kShards);
  for (int i = 0; i < kKeys; ++i) {
    ++counts[ShardOfKey(absl::StrCat("account/", i), kShards)];
  }
  for (int c : counts) {
    EXPECT_GT(c, kKeys / kShards * 9 / 10);
    EXPECT_LT(c, kKeys / kShards * 11 / 10);
  }
}

TEST(JumpConsistentHashTest, AddingAShardMovesKeysOnlyToTheNewShard) {
  constexpr int kKeys = 30000;
  int moved = 0;
  for (int i = 0; i < kKeys; ++i) {
    const uint64_t h = StableHash64(absl::StrCat("k", i));
    const uint32_t before = JumpConsistentHash(h, 5);
    const uint32_t after = JumpConsistentHash(h, 6);
    if (before != after) {
      EXPECT_EQ(after, 5u);
      ++moved;
    }
  }
  // About 1/6 of the keys move.
  EXPECT_GT(moved, kKeys / 6 * 9 / 10);
  EXPECT_LT(moved, kKeys / 6 * 11 / 10);
}

}  // namespace
}  // namespace eid::storage
