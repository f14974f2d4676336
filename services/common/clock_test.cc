#include "services/common/clock.h"

#include "gtest/gtest.h"

namespace eid {
namespace {

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(absl::Seconds(61));
  EXPECT_EQ(clock.Now() - start, absl::Seconds(61));
  clock.Advance(absl::Seconds(-1));
  EXPECT_EQ(clock.Now() - start, absl::Seconds(60));
}

TEST(FakeClockTest, SetJumpsToTheGivenInstant) {
  FakeClock clock;
  const absl::Time t = absl::FromUnixSeconds(2000000000);
  clock.Set(t);
  EXPECT_EQ(clock.Now(), t);
}

TEST(RealClockTest, IsCloseToTheSystemClock) {
  EXPECT_LT(absl::AbsDuration(Clock::Real().Now() - absl::Now()),
            absl::Seconds(1));
}

}  // namespace
}  // namespace eid
