#include "services/audit/raw_audit_db.h"

#include "absl/strings/str_cat.h"

namespace eid::audit {

absl::StatusOr<std::unique_ptr<RawAuditDb>> RawAuditDb::Open(const std::string& path) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat(path, ": ", s.ToString()));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::unique_ptr<RawAuditDb> out(new RawAuditDb());
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &out->families_, &raw);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat(path, ": ", s.ToString()));
  out->db_.reset(raw);
  return out;
}

rocksdb::ColumnFamilyHandle* RawAuditDb::family(const std::string& name) const {
  for (rocksdb::ColumnFamilyHandle* h : families_) {
    if (h->GetName() == name) return h;
  }
  return nullptr;
}

RawAuditDb::~RawAuditDb() {
  for (rocksdb::ColumnFamilyHandle* h : families_) db_->DestroyColumnFamilyHandle(h);
}

}  // namespace eid::audit
