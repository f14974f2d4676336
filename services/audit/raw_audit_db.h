// For tests that change an audit store behind the service's back, as
// RocksDB's own tools would: the store opened with every column family it
// has (audit_db.h), no audit code in between.
#ifndef EID_SERVICES_AUDIT_RAW_AUDIT_DB_H_
#define EID_SERVICES_AUDIT_RAW_AUDIT_DB_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"

namespace eid::audit {

class RawAuditDb {
 public:
  static absl::StatusOr<std::unique_ptr<RawAuditDb>> Open(const std::string& path);
  ~RawAuditDb();  // Destroys the handles (dropped families' too), then closes.

  rocksdb::DB& db() { return *db_; }
  // Every column family, the default one included.
  const std::vector<rocksdb::ColumnFamilyHandle*>& families() const { return families_; }
  // The family of that name (null if none), e.g. "leaves-2".
  rocksdb::ColumnFamilyHandle* family(const std::string& name) const;

 private:
  RawAuditDb() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_RAW_AUDIT_DB_H_
