#include "services/common/keyed_hash.h"

#include "gtest/gtest.h"

namespace eid {
namespace {

TEST(KeyedHashTest, PartsAreLengthPrefixedSoBoundariesMatter) {
  EXPECT_NE(KeyedHash("k", {"ab", "c"}), KeyedHash("k", {"a", "bc"}));
  EXPECT_EQ(KeyedHash("k", {"ab", "c"}), KeyedHash("k", {"ab", "c"}));
  EXPECT_EQ(KeyedHash("k", {"x"}).size(), 32u);
}

TEST(KeyedHashTest, DependsOnTheKey) {
  EXPECT_NE(KeyedHash("k1", {"x"}), KeyedHash("k2", {"x"}));
}

TEST(KeyedHashTest, Sha256OfEmptyIsTheKnownDigest) {
  const std::string d = Sha256("");
  ASSERT_EQ(d.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(d[0]), 0xe3);
  EXPECT_EQ(static_cast<unsigned char>(d[31]), 0x55);
}

TEST(KeyedHashTest, ConstantTimeEqualsComparesLengthAndBytes) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace eid
