// Merkle tree hashing, proofs and proof verification for the audit log, as
// defined by RFC 6962 section 2.1 and clarified by RFC 9162 section 2.1.
//
// The free functions are pure, so thread-safe. CompactRange is
// thread-compatible: its const methods may run concurrently, but Append()
// needs external synchronization. Verification trusts no input: any index,
// size or proof (empty, too long, garbage) yields an error Status, never a
// crash or an out-of-bounds read.
//
// Error codes: kInvalidArgument when the arguments cannot describe a valid
// proof whatever the hashes (index out of range, wrong proof length);
// kDataLoss when the hashes do not match (a tampered log, proof or root).
#ifndef EID_SERVICES_AUDIT_MERKLE_H_
#define EID_SERVICES_AUDIT_MERKLE_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace eid::audit {

// A SHA-256 digest: of a leaf, of an inner node or of a whole tree.
using Hash = std::array<uint8_t, 32>;

// SHA-256(0x00 || leaf_data): the hash of one log entry.
Hash LeafHash(absl::string_view leaf_data);

// SHA-256(0x01 || left || right): the hash of an inner node.
Hash NodeHash(const Hash& left, const Hash& right);

// SHA-256(""): the root of the empty tree.
Hash EmptyRootHash();

// Lower-case hex of `hash` (64 characters), for messages and logs.
std::string HexOf(const Hash& hash);

// MTH(D[n]) of the tree whose leaf hashes are `leaves`, in order.
// EmptyRootHash() when `leaves` is empty. O(n) time, O(log n) memory.
Hash RootFromLeafHashes(absl::Span<const Hash> leaves);

// The root of a growing tree, kept as the O(log n) roots of the perfect
// subtrees that tile its leaves (its "compact range" [0, size)), so the root
// of billions of leaves fits in 64 hashes. Append() computes at most 64
// hashes, one on average.
//
// hashes()[i] is the root of the i-th perfect subtree from the left; the
// subtree sizes are the set bits of size(), largest first. E.g. size 13 =
// 8 + 4 + 1: hashes() are MTH of leaves [0, 8), [8, 12) and [12, 13).
//
// Thread-compatible (see the file comment). Copyable and movable.
class CompactRange {
 public:
  // The empty tree.
  CompactRange() = default;

  // Rebuilds a range of `size` leaves from stored subtree roots, laid out as
  // hashes() describes. Fails with kInvalidArgument if hashes.size() is not
  // the number of set bits of `size`. The hashes themselves cannot be checked
  // here: compare Root() with a trusted root to detect corrupt input.
  static absl::StatusOr<CompactRange> FromHashes(uint64_t size,
                                                 std::vector<Hash> hashes);

  // Adds the leaf whose hash is `leaf_hash` (see LeafHash()) at index size().
  // Fails with kOutOfRange, changing nothing, if the tree already holds
  // 2^64 - 1 leaves.
  absl::Status Append(const Hash& leaf_hash);
  // The same, telling `completed` of every perfect subtree the leaf
  // completes, the leaf itself first: the 2^level leaves starting at
  // index << level now hash to `hash` (for storing inner nodes).
  absl::Status Append(
      const Hash& leaf_hash,
      absl::FunctionRef<void(int level, uint64_t index, const Hash& hash)> completed);

  // The number of leaves appended (or restored by FromHashes()).
  uint64_t size() const { return size_; }

  // MTH of all the leaves; EmptyRootHash() when size() is 0. O(log n).
  Hash Root() const;

  // The subtree roots, for persisting and FromHashes().
  const std::vector<Hash>& hashes() const { return hashes_; }

 private:
  CompactRange(uint64_t size, std::vector<Hash> hashes)
      : size_(size), hashes_(std::move(hashes)) {}

  uint64_t size_ = 0;
  std::vector<Hash> hashes_;  // one per set bit of size_, largest first
};

// Proof generation. `leaf_hash_at(i)` must return the hash of leaf i for
// every i < tree_size; it is called only for such i. Subtree hashes are
// recomputed from leaf hashes, so one proof costs O(tree_size) hashes; that is
// acceptable while proofs are rare. With stored inner nodes, use the
// Make*Proof() forms below, which cost O(log n) subtree reads.

// PATH(leaf_index, D[tree_size]): the audit path from leaf `leaf_index` to the
// root of the first `tree_size` leaves, lowest sibling first. Fails with
// kInvalidArgument if leaf_index >= tree_size (so for any empty tree).
absl::StatusOr<std::vector<Hash>> InclusionProof(
    uint64_t leaf_index, uint64_t tree_size,
    absl::FunctionRef<Hash(uint64_t)> leaf_hash_at);
// As above over in-memory leaf hashes; also fails with kInvalidArgument if
// tree_size > leaves.size().
absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t leaf_index,
                                                 uint64_t tree_size,
                                                 absl::Span<const Hash> leaves);

// PROOF(first_size, D[second_size]): the hashes that show the tree of
// `first_size` leaves is a prefix of the tree of `second_size` leaves. Empty
// when first_size is 0 or equal to second_size (nothing to prove). Fails with
// kInvalidArgument if first_size > second_size.
absl::StatusOr<std::vector<Hash>> ConsistencyProof(
    uint64_t first_size, uint64_t second_size,
    absl::FunctionRef<Hash(uint64_t)> leaf_hash_at);
// As above over in-memory leaf hashes; also fails with kInvalidArgument if
// second_size > leaves.size().
absl::StatusOr<std::vector<Hash>> ConsistencyProof(
    uint64_t first_size, uint64_t second_size, absl::Span<const Hash> leaves);

// The same proofs, reading each subtree hash MTH(D[begin:end]) from
// `subtree_hash(begin, end)`, which is called only with begin < end <=
// tree_size (second_size), O(log n) times; the ranges need not be perfect
// subtrees. The arguments are the caller's to check: these return an empty
// vector when leaf_index >= tree_size, or when first_size is 0 or
// >= second_size (the cases where the checked forms above fail or are empty).
std::vector<Hash> MakeInclusionProof(
    uint64_t leaf_index, uint64_t tree_size,
    absl::FunctionRef<Hash(uint64_t begin, uint64_t end)> subtree_hash);
std::vector<Hash> MakeConsistencyProof(
    uint64_t first_size, uint64_t second_size,
    absl::FunctionRef<Hash(uint64_t begin, uint64_t end)> subtree_hash);

// Verification, by the iterative algorithms of RFC 9162.

// OK iff `proof` shows that the leaf with hash `leaf_hash` is at `leaf_index`
// in the tree of `tree_size` leaves whose root is `root`. Fails with
// kInvalidArgument if leaf_index >= tree_size or the proof has the wrong
// length for (leaf_index, tree_size); with kDataLoss if the hashes do not
// lead to `root`.
absl::Status VerifyInclusion(uint64_t leaf_index, uint64_t tree_size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root);

// OK iff `proof` shows that the tree of `first_size` leaves with root
// `first_root` is a prefix of the tree of `second_size` leaves with root
// `second_root`. When first_size == second_size the proof must be empty and
// the roots equal; when first_size is 0 the proof must be empty and
// first_root must be EmptyRootHash(). Fails with kInvalidArgument if
// first_size > second_size or the proof has the wrong length; with kDataLoss
// if the hashes do not match either root.
absl::Status VerifyConsistency(uint64_t first_size, uint64_t second_size,
                               const Hash& first_root, const Hash& second_root,
                               absl::Span<const Hash> proof);

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_MERKLE_H_
