#include "services/activation/argon2_memory.h"

#include <sodium.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "services/common/sodium.h"

namespace eid::activation {
namespace {

constexpr unsigned long long kOps = 2;
constexpr size_t kMiB = size_t{1} << 20;
// How libsodium 1.0.18's Argon2 maps its memory.
constexpr int kArgon2Flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
constexpr int kReadWrite = PROT_READ | PROT_WRITE;

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

// The mapping starting at `base` in /proc/self/smaps: its "start-end" and
// its VmFlags line (both empty if there is none).
struct Mapping {
  std::string range;
  std::string flags;
};
Mapping MappingAt(const void* base) {
  std::ifstream smaps("/proc/self/smaps");
  char start[32];
  std::snprintf(start, sizeof(start), "%lx-", reinterpret_cast<unsigned long>(base));
  Mapping found;
  for (std::string line; std::getline(smaps, line);) {
    if (line.find('-') != std::string::npos && line.find(' ') > line.find('-') &&
        std::isxdigit(static_cast<unsigned char>(line[0]))) {
      if (!found.range.empty()) break;  // Past it.
      if (line.rfind(start, 0) == 0) found.range = line.substr(0, line.find(' '));
    } else if (!found.range.empty() && line.rfind("VmFlags:", 0) == 0) {
      found.flags = line + " ";
    }
  }
  return found;
}

std::string RangeOf(const void* start, size_t length) {
  char range[64];
  std::snprintf(range, sizeof(range), "%lx-%lx", reinterpret_cast<unsigned long>(start),
                reinterpret_cast<unsigned long>(start) + length);
  return range;
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

TEST_F(Argon2MemoryTest, AfterItsLendAThreadsHashMapsItsOwn) {
  Argon2Memory memory;
  {
    Argon2Memory::Lend lend(&memory);
    RawHash("482913", 2 * kMiB);
  }
  RawHash("482913", 2 * kMiB);
  EXPECT_EQ(memory.kernel_mappings(), 1);
  EXPECT_EQ(memory.reuses(), 0);
}

// Whatever is in the region, the result is the one libsodium gives in
// fresh memory.
TEST_F(Argon2MemoryTest, TheHashIsTheSameInUsedMemory) {
  const std::string fresh = RawHash("482913", 2 * kMiB);
  Argon2Memory memory;
  {
    Argon2Memory::Lend lend(&memory);
    void* region = mmap(nullptr, 2 * kMiB, kReadWrite, kArgon2Flags, -1, 0);
    ASSERT_NE(region, MAP_FAILED);
    std::memset(region, 0xA5, 2 * kMiB);
    ASSERT_EQ(munmap(region, 2 * kMiB), 0);
  }
  std::string kept;
  {
    Argon2Memory::Lend lend(&memory);
    kept = RawHash("482913", 2 * kMiB);
  }
  {
    Argon2Memory::Lend lend(&memory);
    RawHash("another passcode", 2 * kMiB);
  }
  std::string again;
  {
    Argon2Memory::Lend lend(&memory);
    again = RawHash("482913", 2 * kMiB);
  }
  EXPECT_EQ(memory.kernel_mappings(), 1);
  EXPECT_EQ(memory.reuses(), 3);
  EXPECT_EQ(kept, fresh);
  EXPECT_EQ(again, fresh);
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

TEST_F(Argon2MemoryTest, ARegionTradedForALargerOneIsUnmapped) {
  Argon2Memory memory;
  Argon2Memory::Lend lend(&memory);
  void* small = mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0);
  ASSERT_NE(small, MAP_FAILED);
  ASSERT_EQ(munmap(small, kMiB), 0);  // Kept.
  void* large = mmap(nullptr, 2 * kMiB, kReadWrite, kArgon2Flags, -1, 0);
  ASSERT_NE(large, MAP_FAILED);
  ASSERT_EQ(munmap(large, 2 * kMiB), 0);  // Kept instead.
  unsigned char resident[2 * kMiB / 4096];
  EXPECT_NE(large, small);  // The larger one is mapped before the smaller goes.
  EXPECT_NE(mincore(small, kMiB, resident), 0);  // Not leaked.
  EXPECT_EQ(mincore(large, 2 * kMiB, resident), 0);
  EXPECT_EQ(memory.kernel_mappings(), 2);
}

// Two threads, each with its own region, hashing at once: each result is
// libsodium's.
TEST_F(Argon2MemoryTest, ConcurrentHashesInTheirOwnRegions) {
  const std::string fresh_a = RawHash("482913", kMiB);
  const std::string fresh_b = RawHash("130572", kMiB);
  Argon2Memory a, b;
  int wrong_a = 0, wrong_b = 0;
  const auto hash_20_times = [](Argon2Memory* memory, const std::string& passcode,
                                const std::string& want, int* wrong) {
    for (int i = 0; i < 20; ++i) {
      Argon2Memory::Lend lend(memory);
      if (RawHash(passcode, kMiB) != want) ++*wrong;
    }
  };
  std::thread t1(hash_20_times, &a, "482913", fresh_a, &wrong_a);
  std::thread t2(hash_20_times, &b, "130572", fresh_b, &wrong_b);
  t1.join();
  t2.join();
  EXPECT_EQ(wrong_a, 0);
  EXPECT_EQ(wrong_b, 0);
  EXPECT_EQ(a.kernel_mappings(), 1);
  EXPECT_EQ(b.kernel_mappings(), 1);
  EXPECT_EQ(a.reuses(), 19);
  EXPECT_EQ(b.reuses(), 19);
}

// A Lend is its thread's alone: another thread's Argon2-shaped mapping, at
// the same time, goes to the kernel.
TEST_F(Argon2MemoryTest, ALendServesOnlyItsOwnThread) {
  Argon2Memory memory;
  Argon2Memory::Lend lend(&memory);
  void* mine = mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0);
  ASSERT_NE(mine, MAP_FAILED);
  ASSERT_EQ(munmap(mine, kMiB), 0);  // Kept.
  void* theirs = MAP_FAILED;
  std::thread other([&] {
    theirs = mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0);
  });
  other.join();
  ASSERT_NE(theirs, MAP_FAILED);
  EXPECT_NE(theirs, mine);
  EXPECT_EQ(memory.kernel_mappings(), 1);
  EXPECT_EQ(munmap(theirs, kMiB), 0);
  unsigned char resident[kMiB / 4096];
  EXPECT_NE(mincore(theirs, kMiB, resident), 0);  // Really unmapped.
}

// Under a Lend, mappings not shaped like Argon2's (sodium_malloc's and
// allocators' have no MAP_POPULATE), and a second one while the region is
// out, go to the kernel and are really unmapped.
TEST_F(Argon2MemoryTest, OtherMappingsAreLeftToTheKernel) {
  Argon2Memory memory;
  Argon2Memory::Lend lend(&memory);
  void* region = mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  ASSERT_EQ(munmap(region, kMiB), 0);  // Kept, free.
  unsigned char resident[kMiB / 4096];
  const auto to_the_kernel = [&](void* other) {
    ASSERT_NE(other, MAP_FAILED);
    EXPECT_NE(other, region);
    EXPECT_EQ(munmap(other, kMiB), 0);
    EXPECT_NE(mincore(other, kMiB, resident), 0);  // Really unmapped.
  };
  to_the_kernel(mmap(nullptr, kMiB, PROT_READ, kArgon2Flags, -1, 0));
  to_the_kernel(mmap(nullptr, kMiB, kReadWrite, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
  to_the_kernel(mmap(nullptr, kMiB, kReadWrite, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  to_the_kernel(
      mmap(nullptr, kMiB, kReadWrite, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  EXPECT_EQ(memory.reuses(), 0);

  void* taken = mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0);
  EXPECT_EQ(taken, region);
  to_the_kernel(mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0));  // The region is out.
  EXPECT_EQ(memory.kernel_mappings(), 1);
  EXPECT_EQ(memory.reuses(), 1);
  EXPECT_EQ(munmap(taken, kMiB), 0);
  EXPECT_EQ(mincore(region, kMiB, resident), 0);  // Kept.
}

// The region is left out of core dumps ("dd"), and asked for huge pages
// ("hg") on a 2 MiB boundary, where Argon2's random reads miss the TLB less.
TEST_F(Argon2MemoryTest, TheRegionIsNotDumpedAndAskedForHugePages) {
  Argon2Memory memory;
  Argon2Memory::Lend lend(&memory);
  void* region = mmap(nullptr, 3 * kMiB, kReadWrite, kArgon2Flags, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  const Mapping mapping = MappingAt(region);
  EXPECT_EQ(mapping.range, RangeOf(region, 3 * kMiB));  // The padding is unmapped.
  const std::string& flags = mapping.flags;
  EXPECT_NE(flags.find(" dd "), std::string::npos) << flags;
  if (std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good()) {
    EXPECT_NE(flags.find(" hg "), std::string::npos) << flags;  // A kernel with THP.
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(region) % (2 * kMiB), 0u);
  std::memset(region, 1, 3 * kMiB);  // All of it is usable.
  EXPECT_EQ(munmap(region, 3 * kMiB), 0);
}

// A region its taker never gave back may still be in use: it is never handed
// out again.
TEST_F(Argon2MemoryTest, ARegionNotGivenBackIsNotHandedOutAgain) {
  Argon2Memory memory;
  void* kept_by_taker;
  {
    Argon2Memory::Lend lend(&memory);
    kept_by_taker = mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0);
    ASSERT_NE(kept_by_taker, MAP_FAILED);
  }
  {
    Argon2Memory::Lend lend(&memory);
    void* next = mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0);
    ASSERT_NE(next, MAP_FAILED);
    EXPECT_NE(next, kept_by_taker);
    EXPECT_EQ(munmap(next, kMiB), 0);
  }
  EXPECT_EQ(memory.kernel_mappings(), 2);
  EXPECT_EQ(munmap(kept_by_taker, kMiB), 0);  // Its taker's to unmap.
}

// A mapping the kernel refuses fails as libc's would, and leaves the region
// as it was.
TEST_F(Argon2MemoryTest, AMappingTheKernelRefusesFailsWithItsErrno) {
  Argon2Memory memory;
  Argon2Memory::Lend lend(&memory);
  void* region = mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  ASSERT_EQ(munmap(region, kMiB), 0);
  errno = 0;
  void* huge = mmap(nullptr, size_t{1} << 50, kReadWrite, kArgon2Flags, -1, 0);
  const int refused = errno;
  EXPECT_EQ(huge, MAP_FAILED);
  EXPECT_EQ(refused, ENOMEM);
  // One that would wrap around the address space is refused the same way.
  errno = 0;
  void* wrapping = mmap(nullptr, SIZE_MAX - 4096, kReadWrite, kArgon2Flags, -1, 0);
  const int refused_wrapping = errno;
  EXPECT_EQ(wrapping, MAP_FAILED);
  EXPECT_EQ(refused_wrapping, ENOMEM);
  // The region was not given up for the mappings that failed: still mapped,
  // and handed out again.
  unsigned char resident[kMiB / 4096];
  EXPECT_EQ(mincore(region, kMiB, resident), 0);
  EXPECT_EQ(mmap(nullptr, kMiB, kReadWrite, kArgon2Flags, -1, 0), region);
  EXPECT_EQ(munmap(region, kMiB), 0);
  EXPECT_EQ(memory.kernel_mappings(), 1);
}

TEST_F(Argon2MemoryTest, AnInnerLendGivesWayToTheOuterOneWhenItEnds) {
  Argon2Memory outer, inner;
  Argon2Memory::Lend outer_lend(&outer);
  RawHash("482913", kMiB);
  {
    Argon2Memory::Lend inner_lend(&inner);
    RawHash("482913", kMiB);
  }
  RawHash("482913", kMiB);
  EXPECT_EQ(outer.kernel_mappings(), 1);
  EXPECT_EQ(outer.reuses(), 1);
  EXPECT_EQ(inner.kernel_mappings(), 1);
}

}  // namespace
}  // namespace eid::activation
