// Leaves and their hashes are stored in chunks: one RocksDB entry holds a
// run of consecutive leaves of one commit group, keyed by the first one's
// index (docs/audit-format.md, "Chunks"). Every key costs a memtable insert,
// a WAL record and a table entry; at ~200,000 events a second one entry per
// leaf was a fifth of the log's CPU.
//
//   LeafKey(p, first)       -> 0x00, then for each leaf: length(4) bytes
//   NodeKey(p, 0, first)    -> the leaves' hashes, 32 bytes each
//
// Stores written before chunks hold one leaf or one hash an entry: a leaf
// is a serialized AuditRecord, whose first byte is a field tag and never 0,
// and one hash is a chunk of one. Both are read as they are.
#ifndef EID_SERVICES_AUDIT_LEAF_CHUNKS_H_
#define EID_SERVICES_AUDIT_LEAF_CHUNKS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"
#include "services/audit/merkle.h"

namespace eid::audit {

// Gathers a commit group's leaves, in index order, into chunks of at most
// kMaxLeaves leaves or about kMaxBytes: a reader of one leaf reads its
// whole chunk.
class ChunkBuilder {
 public:
  static constexpr size_t kMaxLeaves = 64;
  static constexpr size_t kMaxBytes = 32 << 10;

  explicit ChunkBuilder(uint32_t partition) : partition_(partition) {}

  // Leaves come in index order; one that does not follow the last added
  // starts a chunk.
  void Add(uint64_t index, absl::string_view leaf, const Hash& hash);

  // (key, value) of each chunk, in key order.
  using Entries = std::vector<std::pair<std::string, std::string>>;
  const Entries& leaves() const { return leaves_; }
  const Entries& hashes() const { return hashes_; }

 private:
  uint32_t partition_;
  size_t in_chunk_ = 0;
  uint64_t next_ = 0;  // The index that continues the last chunk.
  Entries leaves_, hashes_;
};

// The leaves of a stored leaves entry (pointing into `value`); false if it
// is not one (altered or truncated).
bool SplitLeafChunk(absl::string_view value, std::vector<absl::string_view>* leaves);
// The same for a leaf-hashes entry.
bool SplitHashChunk(absl::string_view value, std::vector<absl::string_view>* hashes);

// Walks one partition's stored leaves, or their hashes, in index order
// across chunks. An entry that does not split is skipped (its leaves read
// as missing), and a walk stops at an entry that overlaps the one before
// (the leaves after read as missing): ReadRange reports either as
// DATA_LOSS, and eidctl audit verify a leaf it cannot read as TAMPERED.
class ChunkCursor {
 public:
  static ChunkCursor Leaves(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                            uint32_t partition);
  static ChunkCursor LeafHashes(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                                uint32_t partition);

  // To the stored item at `index`, or else the first after it.
  void Seek(uint64_t index);
  // To the last item of the last entry (not Valid if there is none); false
  // if that entry does not split. Never skips one: the tree size comes from
  // it, and a size read short would let appends overwrite what was there.
  bool SeekToLast();
  bool Valid() const { return item_ < items_.size(); }
  uint64_t index() const { return first_ + item_; }
  absl::string_view value() const { return items_[item_]; }
  void Next();
  // Not OK if RocksDB could not read (the cursor is then not Valid).
  rocksdb::Status status() const { return it_->status(); }
  // OK if the cursor is on item `index`; else UNAVAILABLE if RocksDB could
  // not read, DATA_LOSS naming the item missing or unreadable.
  absl::Status At(uint64_t index) const;

  // Items [begin, end), in order. DATA_LOSS naming the first one missing
  // or unreadable, UNAVAILABLE if RocksDB cannot read.
  absl::Status ReadRange(uint64_t begin, uint64_t end,
                         absl::FunctionRef<void(uint64_t index, absl::string_view value)> visit);

 private:
  using Split = bool (*)(absl::string_view, std::vector<absl::string_view>*);
  ChunkCursor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, uint32_t partition,
              std::string prefix, Split split, const char* noun);
  std::string Key(uint64_t index) const;
  // Splits the entry under the iterator into items_ (first_ its index);
  // false, items_ empty, if it does not split.
  bool SplitEntry();
  // Splits the entry under the iterator, moving on past entries that do
  // not split or end before `from`; `continuing` (from Next) stops at one
  // that starts before `from`.
  void Load(uint64_t from, bool continuing);

  std::unique_ptr<rocksdb::Iterator> it_;
  uint32_t partition_;
  std::string prefix_;  // Of every key of the partition's kind.
  Split split_;
  const char* noun_;  // "leaf", "leaf hash": for errors.
  uint64_t first_ = 0;  // Index of items_[0].
  std::vector<absl::string_view> items_;  // Of the entry under it_.
  size_t item_ = 0;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_LEAF_CHUNKS_H_
