// The audit log's RocksDB, opened with its column families, each with the
// options that suit what it holds (layout: audit_keys.h,
// docs/audit-format.md):
//
//   default  'M' 'N' 'C' 'K'  partition count, subtree hashes (levels 4, 8...), checkpoints,
//                             signing keys: read by seeks and ranges, so no
//                             bloom filters
//   leaves-<p> 'L'            partition p's leaves, and
//   leaf-hashes-<p> 'N' level 0  their hashes, one family each: every flush
//                             of one holds the entries after the last
//                             flush's, so compactions move its files down
//                             instead of merging them (all partitions'
//                             leaves in one family overlapped every file)
//   ids      'E'              event id -> place: random keys, looked up for
//                             every event appended, so bloom filters in the
//                             memtable and the tables answer "absent"
//   index    'S' 'A'          subject and actor index: random keys, only
//                             scanned by prefix, so no bloom filters
//
// Apart, each kind gets the memtable and filters that suit it
// (docs/audit-format.md, "Throughput").
//
// A store written before the column families existed (every key in the
// default one), or before the leaves had theirs, is still read: Open moves
// its 'E', 'S', 'A', 'L' and level-0 'N' entries once.
#ifndef EID_SERVICES_AUDIT_AUDIT_DB_H_
#define EID_SERVICES_AUDIT_AUDIT_DB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"

namespace eid::audit {

// UNAVAILABLE with `what` and RocksDB's own message: a retry may succeed.
absl::Status DbUnavailable(const rocksdb::Status& s, absl::string_view what);

class AuditDb {
 public:
  // Opens `path` (created if missing) with a leaves family for each of
  // `partitions`, a count stored with a new log and fixed for its life.
  // FAILED_PRECONDITION if RocksDB cannot open it or it has another count
  // (then nothing is added); UNAVAILABLE if an old store's entries cannot
  // be moved.
  static absl::StatusOr<std::unique_ptr<AuditDb>> Open(const std::string& path,
                                                        uint32_t partitions);
  ~AuditDb();  // Releases the handles, then closes the database.

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* records() const { return records_; }
  rocksdb::ColumnFamilyHandle* ids() const { return ids_; }
  rocksdb::ColumnFamilyHandle* index() const { return index_; }
  // Partition p's leaves and their hashes (p < the partitions Open was
  // given).
  rocksdb::ColumnFamilyHandle* leaves(uint32_t p) const { return leaves_[p]; }
  rocksdb::ColumnFamilyHandle* leaf_hashes(uint32_t p) const { return leaf_hashes_[p]; }
  uint32_t partitions() const { return static_cast<uint32_t>(leaves_.size()); }

  static constexpr char kIds[] = "ids";
  static constexpr char kIndex[] = "index";
  static std::string LeavesFamily(uint32_t partition);
  static std::string LeafHashesFamily(uint32_t partition);

 private:
  AuditDb() = default;
  // Moves the 'E', 'S', 'A', 'L' and level-0 'N' keys an older store has in
  // the default family to theirs; a no-op once done, safe to redo if
  // interrupted.
  absl::Status MoveLegacyEntries();

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* records_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_ = nullptr;
  rocksdb::ColumnFamilyHandle* index_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> leaves_;       // By partition.
  std::vector<rocksdb::ColumnFamilyHandle*> leaf_hashes_;  // By partition.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // All of the above.
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_DB_H_
