#include "services/activation/passcode_hasher.h"

#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/activation/hash_gate.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

PasscodeHasher::Options Fast() {
  PasscodeHasher::Options o;
  o.ops_limit = 1;
  o.mem_limit_bytes = 64 << 10;
  return o;
}

TEST(PasscodeHasherTest, VerifiesTheRightPasscodeOnly) {
  PasscodeHasher hasher(std::string(32, 'p'), Fast());
  absl::StatusOr<std::string> hash = hasher.Hash("482913");
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(*hasher.Verify("482913", *hash));
  EXPECT_FALSE(*hasher.Verify("482914", *hash));
}

TEST(PasscodeHasherTest, StoredFormIsArgon2idWithItsOwnSaltAndNoPasscode) {
  PasscodeHasher hasher(std::string(32, 'p'), Fast());
  const std::string a = *hasher.Hash("482913");
  const std::string b = *hasher.Hash("482913");
  EXPECT_NE(a, b);  // A fresh salt each time.
  EXPECT_EQ(a.rfind("$argon2id$", 0), 0u) << a;
  EXPECT_EQ(a.find("482913"), std::string::npos);
}

TEST(PasscodeHasherTest, APepperOtherThanTheServersDoesNotVerify) {
  PasscodeHasher server(std::string(32, 'p'), Fast());
  PasscodeHasher thief(std::string(32, 'q'), Fast());
  const std::string stored = *server.Hash("482913");
  EXPECT_FALSE(*thief.Verify("482913", stored));
}

TEST(PasscodeHasherTest, MalformedStoredHashDoesNotVerify) {
  PasscodeHasher hasher(std::string(32, 'p'), Fast());
  EXPECT_FALSE(*hasher.Verify("482913", ""));
  EXPECT_FALSE(*hasher.Verify("482913", "$argon2id$garbage"));
}

TEST(PasscodeHasherTest, GatedHashesReleaseTheirSlot) {
  prometheus::Registry registry;
  HashGate gate(1, registry);
  PasscodeHasher hasher(std::string(32, 'p'), Fast(), &gate);
  const std::string stored = *hasher.Hash("482913");
  EXPECT_TRUE(*hasher.Verify("482913", stored));
  // Both gave their slot back: one is free at once.
  EXPECT_TRUE(gate.Enter(absl::Now() - absl::Seconds(1)).ok());
}

// With a gate, hashes work in the slot's memory, kept between them
// (argon2_memory.h): the second and later ones map nothing.
TEST(PasscodeHasherTest, GatedHashesReuseTheirSlotsMemory) {
  prometheus::Registry registry;
  HashGate gate(1, registry);
  PasscodeHasher hasher(std::string(32, 'p'), Fast(), &gate);
  const std::string stored = *hasher.Hash("482913");
  EXPECT_TRUE(*hasher.Verify("482913", stored));
  EXPECT_FALSE(*hasher.Verify("482914", stored));
  absl::StatusOr<HashGate::Slot> slot = gate.Enter(absl::InfiniteFuture());
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->memory()->kernel_mappings(), 1);
  EXPECT_EQ(slot->memory()->reuses(), 2);
}

TEST(PasscodeHasherTest, NoSlotBeforeTheDeadlineHashesNothing) {
  prometheus::Registry registry;
  HashGate gate(1, registry);
  PasscodeHasher ungated(std::string(32, 'p'), Fast());
  PasscodeHasher hasher(std::string(32, 'p'), Fast(), &gate);
  const std::string stored = *ungated.Hash("482913");
  absl::StatusOr<HashGate::Slot> busy = gate.Enter(absl::InfiniteFuture());
  ASSERT_TRUE(busy.ok());

  const absl::Time passed = absl::Now() - absl::Seconds(1);
  absl::StatusOr<std::string> hash = hasher.Hash("482913", passed);
  EXPECT_EQ(hash.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(hash.status()), "PASSCODE_HASHING_BUSY");
  absl::StatusOr<bool> verified = hasher.Verify("482913", stored, passed);
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace eid::activation
