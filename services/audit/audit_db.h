// The audit log's RocksDB, opened with its three column families, each with
// the options that suit what it holds (layout: audit_keys.h,
// docs/audit-format.md):
//
//   default  'M' 'L' 'N' 'C'  partition count, leaves, subtree hashes,
//                             checkpoints: written in order, read by seeks
//                             and ranges, so no bloom filters
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
// default one) is still read: Open moves its 'E', 'S' and 'A' entries once.
#ifndef EID_SERVICES_AUDIT_AUDIT_DB_H_
#define EID_SERVICES_AUDIT_AUDIT_DB_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"

namespace eid::audit {

class AuditDb {
 public:
  // FAILED_PRECONDITION if RocksDB cannot open `path` (created if missing);
  // UNAVAILABLE if an old store's index cannot be moved.
  static absl::StatusOr<std::unique_ptr<AuditDb>> Open(const std::string& path);
  ~AuditDb();  // Releases the handles, then closes the database.

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* records() const { return records_; }
  rocksdb::ColumnFamilyHandle* ids() const { return ids_; }
  rocksdb::ColumnFamilyHandle* index() const { return index_; }

  static constexpr char kIds[] = "ids";
  static constexpr char kIndex[] = "index";

 private:
  AuditDb() = default;
  // Moves the 'E', 'S' and 'A' keys a store written with one column family
  // has in the default one; a no-op once done, safe to redo if interrupted.
  absl::Status MoveLegacyIndex();

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* records_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_ = nullptr;
  rocksdb::ColumnFamilyHandle* index_ = nullptr;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_DB_H_
