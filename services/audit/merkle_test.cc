#include "services/audit/merkle.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace eid::audit {
namespace {

constexpr uint64_t kMax = UINT64_MAX;

Hash FromHex(absl::string_view hex) {
  const std::string bytes = absl::HexStringToBytes(hex);
  Hash h{};
  EXPECT_EQ(bytes.size(), h.size()) << hex;
  std::copy_n(bytes.begin(), std::min(bytes.size(), h.size()), h.begin());
  return h;
}

std::vector<Hash> HashesFromHex(const std::vector<std::string>& hexes) {
  std::vector<Hash> out;
  for (const std::string& hex : hexes) out.push_back(FromHex(hex));
  return out;
}

// The eight leaves of the certificate-transparency reference test data.
std::vector<Hash> CtLeaves() {
  const std::vector<std::string> data = {
      std::string(""),
      std::string("\x00", 1),
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  std::vector<Hash> leaves;
  for (const std::string& d : data) leaves.push_back(LeafHash(d));
  return leaves;
}

// Leaf hashes of "leaf-0", "leaf-1", ...
std::vector<Hash> NumberedLeaves(int n) {
  std::vector<Hash> leaves;
  for (int i = 0; i < n; ++i)
    leaves.push_back(LeafHash(absl::StrCat("leaf-", i)));
  return leaves;
}

Hash Flipped(Hash h, int byte) {
  h[byte] ^= 0x01;
  return h;
}

Hash CompactRoot(absl::Span<const Hash> leaves) {
  CompactRange range;
  for (const Hash& leaf : leaves) EXPECT_TRUE(range.Append(leaf).ok());
  EXPECT_EQ(range.size(), leaves.size());
  return range.Root();
}

TEST(MerkleTest, EmptyRootIsSha256OfTheEmptyString) {
  const std::string want =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  EXPECT_EQ(HexOf(EmptyRootHash()), want);
  EXPECT_EQ(HexOf(RootFromLeafHashes({})), want);
  EXPECT_EQ(HexOf(CompactRange().Root()), want);
}

TEST(MerkleTest, RootsMatchCertificateTransparencyVectors) {
  // MTH of the first n CT leaves, n = 1..8 (also checked with a Python
  // implementation of RFC 6962 written from the RFC's definitions).
  const std::vector<std::string> want = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  const std::vector<Hash> leaves = CtLeaves();
  for (size_t n = 1; n <= 8; ++n) {
    absl::Span<const Hash> prefix = absl::MakeConstSpan(leaves).first(n);
    EXPECT_EQ(HexOf(RootFromLeafHashes(prefix)), want[n - 1]) << n;
    EXPECT_EQ(HexOf(CompactRoot(prefix)), want[n - 1]) << n;
  }
}

TEST(MerkleTest, ProofsMatchReferenceVectors) {
  // From the Python reference implementation (PATH and PROOF of RFC 6962).
  const std::vector<Hash> leaves = CtLeaves();
  const std::string h0 =
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7";
  const std::string h1 =
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e";
  const std::string h2 =
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4";
  const std::string h3 =
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b";
  const std::string h4 =
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0";
  const std::string h5 =
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7";
  const std::string h6 =
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
  const std::string h7 =
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125";
  EXPECT_EQ(*InclusionProof(0, 8, leaves), HashesFromHex({h0, h1, h2}));
  EXPECT_EQ(*InclusionProof(5, 8, leaves), HashesFromHex({h3, h4, h5}));
  EXPECT_EQ(*InclusionProof(2, 3, leaves), HashesFromHex({h7}));
  EXPECT_EQ(*InclusionProof(1, 5, leaves), HashesFromHex({h6, h1, h3}));

  EXPECT_EQ(*ConsistencyProof(1, 8, leaves), HashesFromHex({h0, h1, h2}));
  EXPECT_EQ(
      *ConsistencyProof(6, 8, leaves),
      HashesFromHex(
          {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           h4, h5}));
  EXPECT_EQ(*ConsistencyProof(2, 5, leaves), HashesFromHex({h1, h3}));
  EXPECT_EQ(
      *ConsistencyProof(3, 7, leaves),
      HashesFromHex(
          {"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
           "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
           h7,
           "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0"
           "e"}));
}

TEST(MerkleTest, LargerRootsMatchIndependentImplementation) {
  // Roots of "leaf-0".."leaf-(n-1)" from the Python reference.
  const std::vector<Hash> leaves = NumberedLeaves(1000);
  const std::vector<std::pair<size_t, std::string>> want = {
      {1000,
       "84453b515db221e015241f91778d541a91e27472a3cbbd4922b023b180456359"},
      {999, "b538497298a618ea95f4a901501d19451c3e0e98c104d5dd2121cfe172f758e8"},
      {513, "af9162912d14693fe9099150494d98d7718b80c7eebaa56f381b2cb193f8918b"},
      {64, "11206652df8512a0fbdc024270fcb6e4f72b5a9414f34e92f880242f6926f9a9"}};
  for (const auto& [n, hex] : want) {
    absl::Span<const Hash> prefix = absl::MakeConstSpan(leaves).first(n);
    EXPECT_EQ(HexOf(RootFromLeafHashes(prefix)), hex) << n;
    EXPECT_EQ(HexOf(CompactRoot(prefix)), hex) << n;
  }
}

TEST(MerkleTest, CompactRangeAgreesWithRecursiveRootUpTo70Leaves) {
  const std::vector<Hash> leaves = NumberedLeaves(70);
  CompactRange range;
  for (size_t n = 0; n <= leaves.size(); ++n) {
    EXPECT_EQ(range.size(), n);
    EXPECT_EQ(range.hashes().size(),
              static_cast<size_t>(__builtin_popcountll(n)));
    EXPECT_EQ(range.Root(),
              RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n)))
        << n;
    if (n < leaves.size()) {
      ASSERT_TRUE(range.Append(leaves[n]).ok());
    }
  }
}

TEST(MerkleTest, CompactRangeRebuiltFromItsHashesContinuesTheSameTree) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  CompactRange range;
  for (size_t n = 0; n <= leaves.size(); ++n) {
    absl::StatusOr<CompactRange> rebuilt =
        CompactRange::FromHashes(n, range.hashes());
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
    EXPECT_EQ(rebuilt->Root(), range.Root());
    for (size_t i = n; i < leaves.size(); ++i)
      ASSERT_TRUE(rebuilt->Append(leaves[i]).ok());
    EXPECT_EQ(rebuilt->Root(), RootFromLeafHashes(leaves)) << n;
    if (n < leaves.size()) {
      ASSERT_TRUE(range.Append(leaves[n]).ok());
    }
  }
}

TEST(MerkleTest, CompactRangeRejectsHashesThatDoNotFitItsSize) {
  const std::vector<Hash> two(2, LeafHash("x"));
  EXPECT_EQ(CompactRange::FromHashes(4, two).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompactRange::FromHashes(0, two).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompactRange::FromHashes(7, two).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CompactRange::FromHashes(5, two).ok());
  EXPECT_TRUE(CompactRange::FromHashes(0, {}).ok());
}

TEST(MerkleTest, CompactRangeRefusesToAppendWhenFull) {
  absl::StatusOr<CompactRange> full =
      CompactRange::FromHashes(kMax, std::vector<Hash>(64, LeafHash("x")));
  ASSERT_TRUE(full.ok());
  const Hash root = full->Root();
  EXPECT_EQ(full->Append(LeafHash("y")).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(full->size(), kMax);
  EXPECT_EQ(full->hashes().size(), 64u);
  EXPECT_EQ(full->Root(), root);
}

TEST(MerkleTest, InclusionProofVerifiesForEveryIndexAndSizeUpTo40) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash root = RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n));
    for (uint64_t i = 0; i < n; ++i) {
      absl::StatusOr<std::vector<Hash>> proof = InclusionProof(i, n, leaves);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(VerifyInclusion(i, n, leaves[i], *proof, root).ok())
          << "index " << i << " size " << n;
      // The callback overload asks for nothing past the tree and agrees.
      absl::StatusOr<std::vector<Hash>> by_callback =
          InclusionProof(i, n, [&](uint64_t j) {
            EXPECT_LT(j, n);
            return leaves[j];
          });
      EXPECT_EQ(*by_callback, *proof);
    }
  }
}

TEST(MerkleTest, InclusionProofFailsWhenAnyByteChanges) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash root = RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n));
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> proof = *InclusionProof(i, n, leaves);
      for (int b = 0; b < 32; ++b) {
        EXPECT_EQ(
            VerifyInclusion(i, n, Flipped(leaves[i], b), proof, root).code(),
            absl::StatusCode::kDataLoss);
        EXPECT_EQ(
            VerifyInclusion(i, n, leaves[i], proof, Flipped(root, b)).code(),
            absl::StatusCode::kDataLoss);
        for (size_t p = 0; p < proof.size(); ++p) {
          std::vector<Hash> bad = proof;
          bad[p] = Flipped(bad[p], b);
          EXPECT_EQ(VerifyInclusion(i, n, leaves[i], bad, root).code(),
                    absl::StatusCode::kDataLoss)
              << "index " << i << " size " << n << " hash " << p << " byte "
              << b;
        }
      }
    }
  }
}

TEST(MerkleTest, InclusionProofFailsForAnyOtherIndex) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash root = RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n));
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> proof = *InclusionProof(i, n, leaves);
      for (uint64_t j = 0; j < n + 3; ++j) {
        if (j == i) continue;
        EXPECT_FALSE(VerifyInclusion(j, n, leaves[i], proof, root).ok())
            << "proved index " << i << " as " << j << " in size " << n;
      }
      EXPECT_FALSE(VerifyInclusion(kMax, n, leaves[i], proof, root).ok());
    }
  }
}

TEST(MerkleTest, InclusionProofFailsWhenTruncatedOrExtended) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash root = RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n));
    for (uint64_t i = 0; i < n; ++i) {
      std::vector<Hash> proof = *InclusionProof(i, n, leaves);
      if (!proof.empty()) {
        absl::Span<const Hash> all(proof);
        EXPECT_EQ(
            VerifyInclusion(i, n, leaves[i], all.first(all.size() - 1), root)
                .code(),
            absl::StatusCode::kInvalidArgument);
        EXPECT_EQ(VerifyInclusion(i, n, leaves[i], all.subspan(1), root).code(),
                  absl::StatusCode::kInvalidArgument);
      }
      proof.push_back(root);
      EXPECT_EQ(VerifyInclusion(i, n, leaves[i], proof, root).code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(MerkleTest, ConsistencyProofVerifiesForEverySizePairUpTo40) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash second =
        RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n));
    for (uint64_t m = 0; m <= n; ++m) {
      const Hash first =
          RootFromLeafHashes(absl::MakeConstSpan(leaves).first(m));
      absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(m, n, leaves);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_EQ(proof->empty(), m == 0 || m == n);
      EXPECT_TRUE(VerifyConsistency(m, n, first, second, *proof).ok())
          << "sizes " << m << " " << n << ": "
          << VerifyConsistency(m, n, first, second, *proof);
      absl::StatusOr<std::vector<Hash>> by_callback =
          ConsistencyProof(m, n, [&](uint64_t j) {
            EXPECT_LT(j, n);
            return leaves[j];
          });
      EXPECT_EQ(*by_callback, *proof);
    }
  }
}

TEST(MerkleTest, ConsistencyProofFailsWhenAnyByteChanges) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash second =
        RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n));
    for (uint64_t m = 1; m <= n; ++m) {
      const Hash first =
          RootFromLeafHashes(absl::MakeConstSpan(leaves).first(m));
      const std::vector<Hash> proof = *ConsistencyProof(m, n, leaves);
      for (int b = 0; b < 32; ++b) {
        EXPECT_EQ(
            VerifyConsistency(m, n, Flipped(first, b), second, proof).code(),
            absl::StatusCode::kDataLoss)
            << m << " " << n;
        EXPECT_EQ(
            VerifyConsistency(m, n, first, Flipped(second, b), proof).code(),
            absl::StatusCode::kDataLoss)
            << m << " " << n;
        for (size_t p = 0; p < proof.size(); ++p) {
          std::vector<Hash> bad = proof;
          bad[p] = Flipped(bad[p], b);
          EXPECT_EQ(VerifyConsistency(m, n, first, second, bad).code(),
                    absl::StatusCode::kDataLoss)
              << "sizes " << m << " " << n << " hash " << p << " byte " << b;
        }
      }
    }
  }
}

TEST(MerkleTest, ConsistencyProofFailsWithSwappedRootsOrSizes) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 2; n <= leaves.size(); ++n) {
    const Hash second =
        RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n));
    for (uint64_t m = 1; m < n; ++m) {
      const Hash first =
          RootFromLeafHashes(absl::MakeConstSpan(leaves).first(m));
      const std::vector<Hash> proof = *ConsistencyProof(m, n, leaves);
      EXPECT_FALSE(VerifyConsistency(m, n, second, first, proof).ok())
          << m << " " << n;
      EXPECT_EQ(VerifyConsistency(n, m, second, first, proof).code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(MerkleTest, ConsistencyProofFailsWhenTruncatedOrExtended) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash second =
        RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n));
    for (uint64_t m = 0; m <= n; ++m) {
      const Hash first =
          RootFromLeafHashes(absl::MakeConstSpan(leaves).first(m));
      std::vector<Hash> proof = *ConsistencyProof(m, n, leaves);
      if (!proof.empty()) {
        absl::Span<const Hash> all(proof);
        EXPECT_EQ(
            VerifyConsistency(m, n, first, second, all.first(all.size() - 1))
                .code(),
            absl::StatusCode::kInvalidArgument);
        EXPECT_EQ(VerifyConsistency(m, n, first, second, all.subspan(1)).code(),
                  absl::StatusCode::kInvalidArgument);
      }
      proof.push_back(second);
      EXPECT_EQ(VerifyConsistency(m, n, first, second, proof).code(),
                absl::StatusCode::kInvalidArgument)
          << m << " " << n;
    }
  }
}

TEST(MerkleTest, EqualSizesVerifyOnlyWithEmptyProofAndEqualRoots) {
  const Hash a = RootFromLeafHashes(NumberedLeaves(5));
  const Hash b = RootFromLeafHashes(NumberedLeaves(6));
  EXPECT_TRUE(VerifyConsistency(5, 5, a, a, {}).ok());
  EXPECT_EQ(VerifyConsistency(5, 5, a, b, {}).code(),
            absl::StatusCode::kDataLoss);
  const std::vector<Hash> one = {a};
  EXPECT_EQ(VerifyConsistency(5, 5, a, a, one).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(VerifyConsistency(kMax, kMax, a, a, {}).ok());
}

TEST(MerkleTest, ConsistencyFromTheEmptyTreeNeedsTheEmptyRootAndNoProof) {
  const Hash empty = EmptyRootHash();
  const Hash root = RootFromLeafHashes(NumberedLeaves(7));
  EXPECT_TRUE(VerifyConsistency(0, 7, empty, root, {}).ok());
  EXPECT_TRUE(VerifyConsistency(0, 0, empty, empty, {}).ok());
  EXPECT_EQ(VerifyConsistency(0, 0, empty, root, {}).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(VerifyConsistency(0, 7, root, root, {}).code(),
            absl::StatusCode::kDataLoss);
  const std::vector<Hash> one = {root};
  EXPECT_EQ(VerifyConsistency(0, 7, empty, root, one).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MerkleTest, ProofGenerationRejectsImpossibleArguments) {
  const std::vector<Hash> leaves = NumberedLeaves(8);
  EXPECT_EQ(InclusionProof(0, 0, leaves).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(8, 8, leaves).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(kMax, kMax, leaves).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(0, 9, leaves).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(5, 4, leaves).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(1, 9, leaves).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(kMax, kMax - 1, leaves).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ConsistencyProof(0, 0, leaves)->empty());
  EXPECT_TRUE(ConsistencyProof(8, 8, leaves)->empty());
}

TEST(MerkleTest, VerificationRejectsImpossibleArgumentsWithClearMessages) {
  const Hash h = LeafHash("x");
  const absl::Status out_of_range = VerifyInclusion(3, 3, h, {}, h);
  EXPECT_EQ(out_of_range.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out_of_range.message().find("out of range"),
            absl::string_view::npos)
      << out_of_range;
  EXPECT_EQ(VerifyInclusion(0, 0, h, {}, h).code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status length = VerifyInclusion(0, 2, h, {}, h);
  EXPECT_EQ(length.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(length.message().find("expected 1"), absl::string_view::npos)
      << length;
  const absl::Status order = VerifyConsistency(2, 1, h, h, {});
  EXPECT_EQ(order.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(order.message().find("exceeds"), absl::string_view::npos) << order;
  EXPECT_EQ(VerifyConsistency(1, 2, h, h, {}).code(),
            absl::StatusCode::kInvalidArgument);
  // A one-leaf tree's root is its leaf hash, and the proof is empty.
  EXPECT_TRUE(VerifyInclusion(0, 1, h, {}, h).ok());
  const absl::Status mismatch = VerifyInclusion(0, 1, h, {}, LeafHash("y"));
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(mismatch.message().find(HexOf(h)), absl::string_view::npos)
      << mismatch;
}

TEST(MerkleTest, GarbageProofsNeverVerifyOrCrash) {
  std::mt19937_64 rng(6962);
  const uint64_t edges[] = {0,
                            1,
                            2,
                            3,
                            (uint64_t{1} << 63) - 1,
                            uint64_t{1} << 63,
                            (uint64_t{1} << 63) + 1,
                            kMax - 2,
                            kMax - 1,
                            kMax};
  auto random_size = [&]() -> uint64_t {
    switch (rng() % 4) {
      case 0:
        return edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
      case 1:
        return rng() % 100;
      case 2:
        return kMax - rng() % 100;
      default:
        return rng();
    }
  };
  auto random_hash = [&] {
    Hash h;
    for (uint8_t& byte : h) byte = static_cast<uint8_t>(rng());
    return h;
  };
  for (int round = 0; round < 20000; ++round) {
    std::vector<Hash> proof(rng() % 70);
    for (Hash& h : proof) h = random_hash();
    const uint64_t a = random_size(), b = random_size();
    EXPECT_FALSE(
        VerifyInclusion(a, b, random_hash(), proof, random_hash()).ok());
    const absl::Status s =
        VerifyConsistency(a, b, random_hash(), random_hash(), proof);
    EXPECT_FALSE(s.ok()) << a << " " << b << " " << proof.size();
  }
}

// A tree whose leaves all hash to the same value has O(log n)-computable
// subtree roots, so proofs in trees of up to 2^64 - 1 leaves can be built (by
// the RFC's recursive definitions, independently of the library's generators)
// and checked.
class UniformTree {
 public:
  UniformTree() {
    perfect_[0] = LeafHash("same");
    for (int k = 1; k < 64; ++k)
      perfect_[k] = NodeHash(perfect_[k - 1], perfect_[k - 1]);
  }

  Hash Root(uint64_t n) const {
    std::vector<Hash> hashes;
    for (int k = 63; k >= 0; --k) {
      if (n >> k & 1) hashes.push_back(perfect_[k]);
    }
    return CompactRange::FromHashes(n, hashes)->Root();
  }

  std::vector<Hash> Path(uint64_t m, uint64_t n) const {
    if (n <= 1) return {};
    const uint64_t k = Split(n);
    std::vector<Hash> path = m < k ? Path(m, k) : Path(m - k, n - k);
    path.push_back(m < k ? Root(n - k) : Root(k));
    return path;
  }

  std::vector<Hash> SubProof(uint64_t m, uint64_t n, bool whole) const {
    if (m == n) return whole ? std::vector<Hash>{} : std::vector<Hash>{Root(n)};
    const uint64_t k = Split(n);
    std::vector<Hash> proof =
        m <= k ? SubProof(m, k, whole) : SubProof(m - k, n - k, false);
    proof.push_back(m <= k ? Root(n - k) : Root(k));
    return proof;
  }

 private:
  static uint64_t Split(uint64_t n) {
    uint64_t k = 1;
    while (k < n - k) k <<= 1;
    return k;
  }

  Hash perfect_[64];
};

TEST(MerkleTest, UniformTreeAgreesWithTheLibraryOnSmallTrees) {
  const UniformTree tree;
  const std::vector<Hash> leaves(40, LeafHash("same"));
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    EXPECT_EQ(tree.Root(n),
              RootFromLeafHashes(absl::MakeConstSpan(leaves).first(n)));
    for (uint64_t i = 0; i < n; ++i)
      EXPECT_EQ(tree.Path(i, n), *InclusionProof(i, n, leaves));
    for (uint64_t m = 1; m < n; ++m) {
      EXPECT_EQ(tree.SubProof(m, n, true), *ConsistencyProof(m, n, leaves));
    }
  }
}

TEST(MerkleTest, ProofsVerifyInTreesNearUint64Max) {
  const UniformTree tree;
  const uint64_t sizes[] = {kMax,
                            kMax - 1,
                            uint64_t{1} << 63,
                            (uint64_t{1} << 63) + 1,
                            (uint64_t{1} << 63) - 1,
                            0x5555555555555555u};
  for (uint64_t n : sizes) {
    const Hash root = tree.Root(n);
    for (uint64_t i : {uint64_t{0}, uint64_t{1}, n / 2, n - 2, n - 1}) {
      const std::vector<Hash> path = tree.Path(i, n);
      EXPECT_TRUE(VerifyInclusion(i, n, LeafHash("same"), path, root).ok())
          << i << " " << n << ": "
          << VerifyInclusion(i, n, LeafHash("same"), path, root);
      EXPECT_FALSE(VerifyInclusion(i, n, LeafHash("other"), path, root).ok());
    }
    for (uint64_t m :
         {uint64_t{1}, uint64_t{2}, uint64_t{3}, n / 2, n - 2, n - 1}) {
      const std::vector<Hash> proof = tree.SubProof(m, n, true);
      EXPECT_TRUE(VerifyConsistency(m, n, tree.Root(m), root, proof).ok())
          << m << " " << n << ": "
          << VerifyConsistency(m, n, tree.Root(m), root, proof);
      EXPECT_FALSE(
          VerifyConsistency(m, n, tree.Root(m), Flipped(root, 0), proof).ok());
    }
  }
}

TEST(MerkleTest, MakeProofsReadOneSubtreePerProofHashWithinTheTree) {
  const std::vector<Hash> leaves = NumberedLeaves(40);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    int reads = 0;
    auto subtree_hash = [&](uint64_t begin, uint64_t end) {
      ++reads;
      EXPECT_LT(begin, end);
      EXPECT_LE(end, n);
      return RootFromLeafHashes(
          absl::MakeConstSpan(leaves).subspan(begin, end - begin));
    };
    for (uint64_t i = 0; i < n; ++i) {
      reads = 0;
      const std::vector<Hash> proof = MakeInclusionProof(i, n, subtree_hash);
      EXPECT_EQ(proof, *InclusionProof(i, n, leaves));
      EXPECT_EQ(reads, static_cast<int>(proof.size()));
    }
    for (uint64_t m = 1; m <= n; ++m) {
      reads = 0;
      const std::vector<Hash> proof = MakeConsistencyProof(m, n, subtree_hash);
      EXPECT_EQ(proof, *ConsistencyProof(m, n, leaves));
      EXPECT_EQ(reads, static_cast<int>(proof.size()));
    }
  }
}

TEST(MerkleTest, MakeProofsReturnNothingForImpossibleArguments) {
  auto never = [](uint64_t, uint64_t) {
    ADD_FAILURE() << "read a subtree for an impossible proof";
    return Hash{};
  };
  EXPECT_TRUE(MakeInclusionProof(0, 0, never).empty());
  EXPECT_TRUE(MakeInclusionProof(5, 5, never).empty());
  EXPECT_TRUE(MakeInclusionProof(kMax, 1, never).empty());
  EXPECT_TRUE(MakeConsistencyProof(0, 5, never).empty());
  EXPECT_TRUE(MakeConsistencyProof(5, 5, never).empty());
  EXPECT_TRUE(MakeConsistencyProof(6, 5, never).empty());
}

TEST(MerkleTest, MakeProofsMatchTheRfcDefinitionsNearUint64Max) {
  const UniformTree tree;
  auto subtree_hash = [&](uint64_t begin, uint64_t end) {
    return tree.Root(end - begin);
  };
  for (uint64_t n : {kMax, kMax - 1, uint64_t{1} << 63, (uint64_t{1} << 63) + 1,
                     uint64_t{0x5555555555555555u}}) {
    for (uint64_t i : {uint64_t{0}, uint64_t{1}, n / 2, n - 2, n - 1}) {
      EXPECT_EQ(MakeInclusionProof(i, n, subtree_hash), tree.Path(i, n));
    }
    for (uint64_t m : {uint64_t{1}, uint64_t{3}, n / 2, n - 1}) {
      EXPECT_EQ(MakeConsistencyProof(m, n, subtree_hash),
                tree.SubProof(m, n, true));
    }
  }
}

}  // namespace
}  // namespace eid::audit
