#include "services/common/sodium.h"

#include <sodium.h>

#include "gtest/gtest.h"

namespace eid {
namespace {

TEST(SodiumTest, StartsOnceAndStaysReady) {
  ASSERT_TRUE(SodiumReady());
  EXPECT_TRUE(SodiumReady());
  // Started: sodium_init() now reports "already done".
  EXPECT_EQ(sodium_init(), 1);
}

}  // namespace
}  // namespace eid
