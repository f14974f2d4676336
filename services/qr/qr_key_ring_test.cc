#include "services/qr/qr_key_ring.h"

#include "gtest/gtest.h"

namespace eid::qr {
namespace {

const std::string kSeed(32, 'm');

std::unique_ptr<QrKeyRing> Ring(QrKeyRing::Options options = {}) {
  auto ring = QrKeyRing::Create(kSeed, options);
  EXPECT_TRUE(ring.ok()) << ring.status();
  return std::move(*ring);
}

const absl::Time kDayStart = absl::FromUnixSeconds(20000 * 86400);

TEST(QrKeyRingTest, KeyIdIsThePeriodAndKeysAreStable) {
  auto ring = Ring();
  auto key = ring->SigningKeyAt(kDayStart + absl::Hours(3));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*key)->key_id(), 20000u);
  // Another ring from the same seed (another replica) derives the same key.
  auto again = Ring()->SigningKeyAt(kDayStart + absl::Hours(20));
  EXPECT_EQ((*again)->public_key(), (*key)->public_key());
  auto next = ring->SigningKeyAt(kDayStart + absl::Hours(24));
  EXPECT_EQ((*next)->key_id(), 20001u);
  EXPECT_NE((*next)->public_key(), (*key)->public_key());
}

TEST(QrKeyRingTest, OtherMasterSeedOtherKeys) {
  auto other = QrKeyRing::Create(std::string(32, 'x'), {});
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*(*other)->SigningKeyAt(kDayStart))->public_key(),
            (*Ring()->SigningKeyAt(kDayStart))->public_key());
}

TEST(QrKeyRingTest, PublishesNextKeyBeforeItSignsAndPreviousDuringOverlap) {
  auto ring = Ring();
  auto ids = [&](absl::Time t) {
    std::vector<uint32_t> out;
    for (const auto& k : ring->PublishedAt(t)) out.push_back(k.key_id);
    return out;
  };
  EXPECT_EQ(ids(kDayStart + absl::Hours(12)), std::vector<uint32_t>({20000}));
  EXPECT_EQ(ids(kDayStart + absl::Hours(24) - absl::Minutes(5)),
            std::vector<uint32_t>({20001, 20000}));
  EXPECT_EQ(ids(kDayStart + absl::Hours(24) + absl::Minutes(5)),
            std::vector<uint32_t>({20001, 20000}));
  EXPECT_EQ(ids(kDayStart + absl::Hours(24) + absl::Minutes(10)),
            std::vector<uint32_t>({20001}));
  const auto keys = ring->PublishedAt(kDayStart + absl::Hours(24) - absl::Minutes(5));
  EXPECT_EQ(keys[1].not_before, kDayStart);
  EXPECT_EQ(keys[1].signing_until, kDayStart + absl::Hours(24));
  EXPECT_EQ(keys[1].not_after, kDayStart + absl::Hours(24) + absl::Minutes(10));
}

TEST(QrKeyRingTest, NextChangeIsWhenTheListChanges) {
  auto ring = Ring();
  EXPECT_EQ(ring->NextChangeAfter(kDayStart + absl::Minutes(1)),
            kDayStart + absl::Minutes(10));
  EXPECT_EQ(ring->NextChangeAfter(kDayStart + absl::Hours(1)),
            kDayStart + absl::Hours(24) - absl::Minutes(10));
  EXPECT_EQ(ring->NextChangeAfter(kDayStart + absl::Hours(24) - absl::Minutes(1)),
            kDayStart + absl::Hours(24) + absl::Minutes(10));
}

TEST(QrKeyRingTest, RejectsShortSeedAndBadSchedule) {
  EXPECT_FALSE(QrKeyRing::Create(std::string(16, 'm'), {}).ok());
  QrKeyRing::Options short_overlap;
  short_overlap.overlap = absl::Seconds(30);
  EXPECT_FALSE(QrKeyRing::Create(kSeed, short_overlap).ok());
  QrKeyRing::Options short_rotation;
  short_rotation.rotation = absl::Minutes(15);
  EXPECT_FALSE(QrKeyRing::Create(kSeed, short_rotation).ok());
}

}  // namespace
}  // namespace eid::qr
