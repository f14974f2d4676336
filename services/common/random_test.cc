#include "services/common/random.h"

#include <array>

#include "gtest/gtest.h"

namespace eid {
namespace {

TEST(SystemRandomTest, BytesDifferBetweenCalls) {
  SystemRandom& random = SystemRandom::Get();
  EXPECT_EQ(random.Bytes(16).size(), 16u);
  EXPECT_NE(random.Bytes(16), random.Bytes(16));
}

TEST(RandomSourceTest, DigitsAreDecimalOfTheAskedLength) {
  const std::string code = SystemRandom::Get().Digits(6);
  ASSERT_EQ(code.size(), 6u);
  for (char c : code) EXPECT_TRUE(c >= '0' && c <= '9') << code;
}

TEST(RandomSourceTest, UniformCoversTheRangeEvenly) {
  DeterministicRandom random(7);
  std::array<int, 10> counts{};
  for (int i = 0; i < 100000; ++i) ++counts[random.Uniform(10)];
  for (int c : counts) {
    EXPECT_GT(c, 9500);
    EXPECT_LT(c, 10500);
  }
}

TEST(DeterministicRandomTest, SameSeedSameStream) {
  DeterministicRandom a(42), b(42), c(43);
  const std::string first = a.Bytes(13);
  EXPECT_EQ(first, b.Bytes(13));
  EXPECT_NE(first, c.Bytes(13));
}

}  // namespace
}  // namespace eid
