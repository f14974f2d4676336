#include "services/verification/verification_key_cache.h"

#include <atomic>

#include "gtest/gtest.h"
#include "services/common/proto_time.h"

namespace eid::verification {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1772355600);

v1::GetVerificationKeysResponse List(uint32_t key_id, absl::Time not_after,
                                     absl::Time refresh_after) {
  v1::GetVerificationKeysResponse r;
  v1::VerificationKey& k = *r.add_keys();
  k.set_key_id(key_id);
  k.set_public_key(std::string(32, static_cast<char>(key_id)));
  *k.mutable_not_after() = ToProtoTime(not_after);
  *r.mutable_refresh_after() = ToProtoTime(refresh_after);
  return r;
}

TEST(VerificationKeyCacheTest, FetchesOnceUntilRefreshAfter) {
  std::atomic<int> fetches{0};
  VerificationKeyCache cache([&]() -> absl::StatusOr<v1::GetVerificationKeysResponse> {
    ++fetches;
    return List(7, kT0 + absl::Hours(2), kT0 + absl::Hours(1));
  });
  for (int i = 0; i < 100; ++i) {
    auto keys = cache.Keys(kT0 + absl::Seconds(i));
    ASSERT_TRUE(keys.ok());
    EXPECT_EQ((*keys)->keys.count(7), 1u);
  }
  EXPECT_EQ(fetches.load(), 1);
  ASSERT_TRUE(cache.Keys(kT0 + absl::Hours(1)).ok());
  EXPECT_EQ(fetches.load(), 2);
}

TEST(VerificationKeyCacheTest, KeepsServingCachedKeysWhenARefreshFails) {
  bool up = true;
  int fetches = 0;
  VerificationKeyCache cache([&]() -> absl::StatusOr<v1::GetVerificationKeysResponse> {
    ++fetches;
    if (!up) return absl::UnavailableError("qr is down");
    return List(7, kT0 + absl::Hours(2), kT0 + absl::Hours(1));
  });
  ASSERT_TRUE(cache.Keys(kT0).ok());
  up = false;
  auto keys = cache.Keys(kT0 + absl::Hours(1));
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)->keys.count(7), 1u);
  // Not retried within the retry interval.
  ASSERT_TRUE(cache.Keys(kT0 + absl::Hours(1) + absl::Milliseconds(500)).ok());
  EXPECT_EQ(fetches, 2);
  ASSERT_TRUE(cache.Keys(kT0 + absl::Hours(1) + absl::Seconds(2)).ok());
  EXPECT_EQ(fetches, 3);
}

TEST(VerificationKeyCacheTest, UnavailableWithoutAnyList) {
  VerificationKeyCache cache([]() -> absl::StatusOr<v1::GetVerificationKeysResponse> {
    return absl::UnavailableError("qr is down");
  });
  auto keys = cache.Keys(kT0);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kUnavailable);
}

TEST(VerificationKeyCacheTest, SkipsKeysOfTheWrongSize) {
  VerificationKeyCache cache([]() -> absl::StatusOr<v1::GetVerificationKeysResponse> {
    auto r = List(7, kT0 + absl::Hours(2), kT0 + absl::Hours(1));
    r.mutable_keys(0)->set_public_key("short");
    return r;
  });
  auto keys = cache.Keys(kT0);
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE((*keys)->keys.empty());
}

}  // namespace
}  // namespace eid::verification
