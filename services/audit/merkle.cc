#include "services/audit/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace eid::audit {
namespace {

absl::string_view View(const Hash& h) {
  return absl::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}

const EVP_MD* Sha256Md() {
  // Fetched once: OpenSSL 3's implicit fetch on every digest is slow.
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// SHA-256 of the concatenation of `parts`. Aborts only if OpenSSL itself fails
// (out of memory, broken provider): no input can cause that.
Hash Sha256(std::initializer_list<absl::string_view> parts) {
  // One context per thread, reused: allocating one per hash would dominate.
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  Hash out;
  unsigned int len = 0;
  bool ok =
      ctx != nullptr && EVP_DigestInit_ex(ctx.get(), Sha256Md(), nullptr) == 1;
  for (absl::string_view part : parts) {
    ok = ok && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
  }
  ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 &&
       len == out.size();
  if (!ok) {
    std::fprintf(stderr, "eid::audit: OpenSSL SHA-256 failed\n");
    std::abort();
  }
  return out;
}

// Number of bits needed to write x: 0 for 0, 64 for 2^63 and above.
int BitLength(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

int PopCount(uint64_t x) { return __builtin_popcountll(x); }

// x >> n that is defined for n == 64 too.
uint64_t Shr(uint64_t x, int n) { return n >= 64 ? 0 : x >> n; }

// Both RFC 9162 counters move up one level.
void Halve(uint64_t& fn, uint64_t& sn) {
  fn >>= 1;
  sn >>= 1;
}

// The largest power of two smaller than n (RFC 6962's k), for n >= 2.
uint64_t Split(uint64_t n) { return uint64_t{1} << (BitLength(n - 1) - 1); }

// MTH(D[begin:end]) by the RFC's recursive definition; depth <= 64.
Hash SubtreeRoot(uint64_t begin, uint64_t end,
                 absl::FunctionRef<Hash(uint64_t)> leaf_hash_at) {
  if (begin == end) return EmptyRootHash();
  if (end - begin == 1) return leaf_hash_at(begin);
  const uint64_t mid = begin + Split(end - begin);
  return NodeHash(SubtreeRoot(begin, mid, leaf_hash_at),
                  SubtreeRoot(mid, end, leaf_hash_at));
}

absl::Status Mismatch(absl::string_view what, const Hash& got,
                      const Hash& want) {
  return absl::DataLossError(absl::StrCat(what, " mismatch: got ", HexOf(got),
                                          ", expected ", HexOf(want)));
}

absl::Status IndexOutOfRange(uint64_t leaf_index, uint64_t tree_size) {
  return absl::InvalidArgumentError(absl::StrCat(
      "leaf index ", leaf_index, " is out of range for tree size ", tree_size));
}

absl::Status SizesOutOfOrder(uint64_t first_size, uint64_t second_size) {
  return absl::InvalidArgumentError(absl::StrCat(
      "first size ", first_size, " exceeds second size ", second_size));
}

absl::Status WrongLength(absl::string_view what, size_t got, size_t want) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " proof has ", got, " hashes, expected ", want));
}

}  // namespace

Hash LeafHash(absl::string_view leaf_data) {
  return Sha256({absl::string_view("\x00", 1), leaf_data});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  return Sha256({absl::string_view("\x01", 1), View(left), View(right)});
}

Hash EmptyRootHash() { return Sha256({}); }

std::string HexOf(const Hash& hash) {
  return absl::BytesToHexString(View(hash));
}

Hash RootFromLeafHashes(absl::Span<const Hash> leaves) {
  return SubtreeRoot(0, leaves.size(), [&](uint64_t i) { return leaves[i]; });
}

absl::StatusOr<CompactRange> CompactRange::FromHashes(
    uint64_t size, std::vector<Hash> hashes) {
  if (hashes.size() != static_cast<size_t>(PopCount(size))) {
    return absl::InvalidArgumentError(
        absl::StrCat("a compact range of ", size, " leaves has ",
                     PopCount(size), " hashes, got ", hashes.size()));
  }
  return CompactRange(size, std::move(hashes));
}

absl::Status CompactRange::Append(const Hash& leaf_hash) {
  return Append(leaf_hash, [](int, uint64_t, const Hash&) {});
}

absl::Status CompactRange::Append(
    const Hash& leaf_hash,
    absl::FunctionRef<void(int level, uint64_t index, const Hash& hash)> completed) {
  if (size_ == UINT64_MAX) {
    return absl::OutOfRangeError("the Merkle tree is full (2^64 - 1 leaves)");
  }
  // Like binary increment: each trailing 1 bit of size_ is a perfect subtree
  // of the same size as the carry, so the two merge into one twice as large.
  Hash carry = leaf_hash;
  int level = 0;
  completed(level, size_, carry);
  for (uint64_t s = size_; s & 1; s >>= 1) {
    carry = NodeHash(hashes_.back(), carry);
    hashes_.pop_back();
    ++level;
    completed(level, size_ >> level, carry);
  }
  hashes_.push_back(carry);
  ++size_;
  return absl::OkStatus();
}

Hash CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRootHash();
  // MTH splits off the largest perfect subtree first, so fold from the right.
  Hash root = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) {
    root = NodeHash(hashes_[i], root);
  }
  return root;
}

std::vector<Hash> MakeInclusionProof(
    uint64_t leaf_index, uint64_t tree_size,
    absl::FunctionRef<Hash(uint64_t, uint64_t)> subtree_hash) {
  std::vector<Hash> path;
  if (leaf_index >= tree_size) return path;
  // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) or PATH(m - k, D[k:n]) :
  // MTH(D[0:k]); walking down collects the outermost sibling first.
  uint64_t begin = 0, end = tree_size;
  while (end - begin > 1) {
    const uint64_t mid = begin + Split(end - begin);
    if (leaf_index < mid) {
      path.push_back(subtree_hash(mid, end));
      end = mid;
    } else {
      path.push_back(subtree_hash(begin, mid));
      begin = mid;
    }
  }
  std::reverse(path.begin(), path.end());
  return path;
}

absl::StatusOr<std::vector<Hash>> InclusionProof(
    uint64_t leaf_index, uint64_t tree_size,
    absl::FunctionRef<Hash(uint64_t)> leaf_hash_at) {
  if (leaf_index >= tree_size) return IndexOutOfRange(leaf_index, tree_size);
  return MakeInclusionProof(leaf_index, tree_size, [&](uint64_t b, uint64_t e) {
    return SubtreeRoot(b, e, leaf_hash_at);
  });
}

absl::StatusOr<std::vector<Hash>> InclusionProof(
    uint64_t leaf_index, uint64_t tree_size, absl::Span<const Hash> leaves) {
  if (tree_size > leaves.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", tree_size, " exceeds the ", leaves.size(),
                     " leaves given"));
  }
  return InclusionProof(leaf_index, tree_size,
                        [&](uint64_t i) { return leaves[i]; });
}

std::vector<Hash> MakeConsistencyProof(
    uint64_t first_size, uint64_t second_size,
    absl::FunctionRef<Hash(uint64_t, uint64_t)> subtree_hash) {
  std::vector<Hash> proof;
  if (first_size == 0 || first_size >= second_size) return proof;
  // SUBPROOF(m, D[n], b), walking down from the root with first_size in
  // (begin, end]; `whole` is b: the old tree is still a complete left subtree.
  uint64_t begin = 0, end = second_size;
  bool whole = true;
  while (first_size != end) {
    const uint64_t mid = begin + Split(end - begin);
    if (first_size <= mid) {
      proof.push_back(subtree_hash(mid, end));
      end = mid;
    } else {
      proof.push_back(subtree_hash(begin, mid));
      begin = mid;
      whole = false;
    }
  }
  if (!whole) proof.push_back(subtree_hash(begin, end));
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(
    uint64_t first_size, uint64_t second_size,
    absl::FunctionRef<Hash(uint64_t)> leaf_hash_at) {
  if (first_size > second_size) return SizesOutOfOrder(first_size, second_size);
  return MakeConsistencyProof(
      first_size, second_size,
      [&](uint64_t b, uint64_t e) { return SubtreeRoot(b, e, leaf_hash_at); });
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(
    uint64_t first_size, uint64_t second_size, absl::Span<const Hash> leaves) {
  if (second_size > leaves.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", second_size, " exceeds the ", leaves.size(),
                     " leaves given"));
  }
  return ConsistencyProof(first_size, second_size,
                          [&](uint64_t i) { return leaves[i]; });
}

absl::Status VerifyInclusion(uint64_t leaf_index, uint64_t tree_size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root) {
  if (leaf_index >= tree_size) return IndexOutOfRange(leaf_index, tree_size);
  // One hash per level below where the paths to leaf_index and to the last
  // leaf diverge, plus one per left sibling above that.
  const int inner = BitLength(leaf_index ^ (tree_size - 1));
  const size_t want = inner + PopCount(Shr(leaf_index, inner));
  if (proof.size() != want) return WrongLength("inclusion", proof.size(), want);

  // RFC 9162 section 2.1.3.2.
  uint64_t fn = leaf_index, sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return WrongLength("inclusion", proof.size(), want);
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      while (!(fn & 1) && fn != 0) Halve(fn, sn);
    } else {
      r = NodeHash(r, p);
    }
    Halve(fn, sn);
  }
  if (sn != 0) return WrongLength("inclusion", proof.size(), want);
  if (r != root) return Mismatch("root", r, root);
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t first_size, uint64_t second_size,
                               const Hash& first_root, const Hash& second_root,
                               absl::Span<const Hash> proof) {
  if (first_size > second_size) return SizesOutOfOrder(first_size, second_size);
  if (first_size == second_size || first_size == 0) {
    // Nothing to prove beyond what the roots themselves say.
    if (!proof.empty()) return WrongLength("consistency", proof.size(), 0);
    if (first_size == 0 && first_root != EmptyRootHash()) {
      return Mismatch("empty tree root", first_root, EmptyRootHash());
    }
    if (first_size == second_size && second_root != first_root) {
      return Mismatch("same-size root", second_root, first_root);
    }
    return absl::OkStatus();
  }
  // As for the inclusion of leaf first_size - 1, except that the levels below
  // the old tree's lowest perfect subtree (2^shift leaves) are skipped, and
  // that subtree's root is sent unless it is the whole old tree.
  const int inner = BitLength((first_size - 1) ^ (second_size - 1));
  const int shift = __builtin_ctzll(first_size);  // < inner as first < second
  const bool first_is_perfect = (first_size & (first_size - 1)) == 0;
  const size_t want = (first_is_perfect ? 0 : 1) + (inner - shift) +
                      PopCount(Shr(first_size - 1, inner));
  if (proof.size() != want) {
    return WrongLength("consistency", proof.size(), want);
  }

  // RFC 9162 section 2.1.4.2; the seed stands for the prepended first_root.
  const Hash& seed = first_is_perfect ? first_root : proof[0];
  absl::Span<const Hash> rest = proof.subspan(first_is_perfect ? 0 : 1);
  uint64_t fn = first_size - 1, sn = second_size - 1;
  while (fn & 1) Halve(fn, sn);
  Hash fr = seed, sr = seed;
  for (const Hash& c : rest) {
    if (sn == 0) return WrongLength("consistency", proof.size(), want);
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while (!(fn & 1) && fn != 0) Halve(fn, sn);
    } else {
      sr = NodeHash(sr, c);
    }
    Halve(fn, sn);
  }
  if (sn != 0) return WrongLength("consistency", proof.size(), want);
  if (fr != first_root) return Mismatch("first root", fr, first_root);
  if (sr != second_root) return Mismatch("second root", sr, second_root);
  return absl::OkStatus();
}

}  // namespace eid::audit
