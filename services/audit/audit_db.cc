#include "services/audit/audit_db.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace eid::audit {
namespace {

rocksdb::DBOptions DbOptions() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_background_jobs = 4;
  // The next group's WAL write and fsync overlap this group's memtable
  // inserts. Write() still returns only after both, so what a caller was
  // acknowledged is readable at once (proofs need that; unordered_write
  // would break it).
  o.enable_pipelined_write = true;
  return o;
}

// Appends arrive at tens of MB/s: memtables waiting for their flush must
// not stop the writes.
rocksdb::ColumnFamilyOptions Common(size_t write_buffer) {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = write_buffer;
  o.max_write_buffer_number = 4;
  return o;
}

rocksdb::ColumnFamilyOptions RecordsOptions() {
  // Keys in order, values of ~400 bytes; no filters (no lookup of an absent
  // key), so a flush builds none.
  return Common(64 << 20);
}

rocksdb::ColumnFamilyOptions IdsOptions() {
  rocksdb::ColumnFamilyOptions o = Common(16 << 20);
  // Each group looks up its event ids, nearly all new: bloom filters answer
  // "absent" without searching. Without the memtable's the lookups took 17%
  // of the CPU; with it 3%. 2% of the memtable is ~13 bits an id; only ids
  // fill it now, not every key of an event.
  o.memtable_prefix_bloom_size_ratio = 0.02;
  o.memtable_whole_key_filtering = true;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

rocksdb::ColumnFamilyOptions IndexOptions() {
  // A vector memtable (append, sort once) cost 19% less CPU an event, but a
  // query then sorts a copy of the whole current memtable: 50-180 ms for one
  // citizen's history on this machine, which a citizen could repeat at will.
  // The skip list stays.
  return Common(16 << 20);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuditDb>> AuditDb::Open(const std::string& path) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, RecordsOptions()},
      {kIds, IdsOptions()},
      {kIndex, IndexOptions()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(DbOptions(), path, families, &handles, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the audit log at ", path, ": ", s.ToString()));
  }
  std::unique_ptr<AuditDb> out(new AuditDb());
  out->db_.reset(db);
  out->records_ = handles[0];
  out->ids_ = handles[1];
  out->index_ = handles[2];
  if (absl::Status moved = out->MoveLegacyIndex(); !moved.ok()) return moved;
  return out;
}

AuditDb::~AuditDb() {
  if (db_ == nullptr) return;
  for (auto* h : {records_, ids_, index_}) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  db_.reset();
}

absl::Status AuditDb::MoveLegacyIndex() {
  const std::pair<char, rocksdb::ColumnFamilyHandle*> moves[] = {
      {'A', index_}, {'E', ids_}, {'S', index_}};
  rocksdb::WriteOptions sync;
  sync.sync = true;  // The entries leave the default family only once safe.
  for (const auto& [kind, to] : moves) {
    const std::string begin(1, kind), end(1, kind + 1);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), records_));
    it->Seek(begin);
    while (it->Valid() && it->key().compare(end) < 0) {
      rocksdb::WriteBatch batch;
      for (int n = 0; n < 4096 && it->Valid() && it->key().compare(end) < 0;
           ++n, it->Next()) {
        batch.Put(to, it->key(), it->value());
        batch.Delete(records_, it->key());
      }
      if (!it->status().ok()) break;
      rocksdb::Status s = db_->Write(sync, &batch);
      if (!s.ok()) {
        return absl::UnavailableError(
            absl::StrCat("cannot move the audit log's old index: ", s.ToString()));
      }
    }
    if (!it->status().ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot read the audit log's old index: ", it->status().ToString()));
    }
  }
  return absl::OkStatus();
}

}  // namespace eid::audit
