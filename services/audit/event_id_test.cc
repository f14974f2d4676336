#include "services/audit/event_id.h"

#include "gtest/gtest.h"

namespace eid::audit {
namespace {

TEST(EventIdTest, TimeThenRandomInHex) {
  const absl::Time t = absl::FromUnixMicros(0x0102030405060708);
  EXPECT_EQ(EventIdAt(t, 0xa1b2c3d4e5f60718), "0102030405060708a1b2c3d4e5f60718");
}

TEST(EventIdTest, LaterEventsSortAfterEarlierOnesWhateverTheirRandomHalf) {
  const absl::Time t = absl::FromUnixSeconds(1790000000);
  EXPECT_LT(EventIdAt(t, ~uint64_t{0}), EventIdAt(t + absl::Microseconds(1), 0));
  EXPECT_NE(EventIdAt(t, 1), EventIdAt(t, 2));
}

TEST(EventIdTest, ANewIdIsTheTimeNowThenBitsFromTheSource) {
  DeterministicRandom random(7);
  const absl::Time before = absl::Now();
  const std::string id = NewEventId(random);
  const absl::Time after = absl::Now();
  ASSERT_EQ(id.size(), 32u);
  EXPECT_GE(id.substr(0, 16), EventIdAt(before, 0).substr(0, 16));
  EXPECT_LE(id.substr(0, 16), EventIdAt(after, 0).substr(0, 16));
  EXPECT_NE(NewEventId(random).substr(16), id.substr(16));  // Fresh bits each time.
}

}  // namespace
}  // namespace eid::audit
