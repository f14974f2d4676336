#include "services/activation/argon2_memory.h"

#include <sodium.h>
#include <sys/mman.h>

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "services/common/sodium.h"

namespace eid::activation {
namespace {

constexpr unsigned long long kOps = 2;
constexpr size_t kMiB = size_t{1} << 20;

// The raw Argon2id key for `password` under a fixed salt, so that two runs
// can be compared byte for byte.
std::string RawHash(const std::string& password, size_t memory_bytes) {
  unsigned char salt[crypto_pwhash_SALTBYTES];
  std::memset(salt, 7, sizeof(salt));
  unsigned char out[32];
  EXPECT_EQ(crypto_pwhash(out, sizeof(out), password.data(), password.size(), salt, kOps,
                          memory_bytes, crypto_pwhash_ALG_ARGON2ID13),
            0);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

class Argon2MemoryTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(SodiumReady()); }
};

TEST_F(Argon2MemoryTest, HashesUnderALendShareOneMapping) {
  Argon2Memory memory;
  for (int i = 0; i < 3; ++i) {
    Argon2Memory::Lend lend(&memory);
    RawHash("482913", 2 * kMiB);
  }
  EXPECT_EQ(memory.kernel_mappings(), 1);
  EXPECT_EQ(memory.reuses(), 2);
}

TEST_F(Argon2MemoryTest, WithoutALendNothingIsKept) {
  Argon2Memory memory;
  RawHash("482913", 2 * kMiB);
  EXPECT_EQ(memory.kernel_mappings(), 0);
  EXPECT_EQ(memory.reuses(), 0);
}

// Whatever a previous hash left in the region, the result is the one
// libsodium gives in fresh memory.
TEST_F(Argon2MemoryTest, TheHashIsTheSameInKeptMemory) {
  const std::string fresh = RawHash("482913", 2 * kMiB);
  Argon2Memory memory;
  {
    Argon2Memory::Lend lend(&memory);
    RawHash("other passcode", 2 * kMiB);
  }
  std::string kept;
  {
    Argon2Memory::Lend lend(&memory);
    kept = RawHash("482913", 2 * kMiB);
  }
  EXPECT_EQ(memory.reuses(), 1);
  EXPECT_EQ(kept, fresh);
}

TEST_F(Argon2MemoryTest, AStringHashMadeInKeptMemoryVerifiesOutsideIt) {
  Argon2Memory memory;
  char stored[crypto_pwhash_STRBYTES];
  for (int i = 0; i < 2; ++i) {
    Argon2Memory::Lend lend(&memory);
    ASSERT_EQ(crypto_pwhash_str_alg(stored, "482913", 6, kOps, 2 * kMiB,
                                    crypto_pwhash_ALG_ARGON2ID13),
              0);
  }
  EXPECT_EQ(memory.reuses(), 1);
  EXPECT_EQ(crypto_pwhash_str_verify(stored, "482913", 6), 0);
  EXPECT_NE(crypto_pwhash_str_verify(stored, "482914", 6), 0);
}

TEST_F(Argon2MemoryTest, ALargerHashGetsALargerRegion) {
  Argon2Memory memory;
  for (size_t mib : {1, 2, 1}) {
    Argon2Memory::Lend lend(&memory);
    RawHash("482913", mib * kMiB);
  }
  EXPECT_EQ(memory.kernel_mappings(), 2);  // 1 MiB, then 2 MiB, kept for 1.
  EXPECT_EQ(memory.reuses(), 1);
}

// Under a Lend, mappings that are not an Argon2 region's, and a second one
// while the region is in use, go to the kernel and are really unmapped.
TEST_F(Argon2MemoryTest, OtherMappingsAreLeftToTheKernel) {
  Argon2Memory memory;
  {
    Argon2Memory::Lend lend(&memory);
    RawHash("482913", kMiB);
  }
  Argon2Memory::Lend lend(&memory);
  void* read_only = mmap(nullptr, kMiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void* shared = mmap(nullptr, kMiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  void* first = mmap(nullptr, kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void* second = mmap(nullptr, kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(read_only, MAP_FAILED);
  ASSERT_NE(shared, MAP_FAILED);
  ASSERT_NE(second, MAP_FAILED);
  EXPECT_EQ(memory.reuses(), 1);  // `first` only.
  EXPECT_NE(second, first);
  EXPECT_EQ(memory.kernel_mappings(), 1);
  EXPECT_EQ(munmap(read_only, kMiB), 0);
  EXPECT_EQ(munmap(shared, kMiB), 0);
  EXPECT_EQ(munmap(second, kMiB), 0);
  // Really gone: mincore refuses an unmapped range.
  unsigned char resident[kMiB / 4096];
  EXPECT_NE(mincore(second, kMiB, resident), 0);
  EXPECT_EQ(munmap(first, kMiB), 0);
  EXPECT_EQ(mincore(first, kMiB, resident), 0);  // Kept.
}

}  // namespace
}  // namespace eid::activation
