#include "services/audit/audit_db.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/audit/audit_keys.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace eid::audit {
namespace {

constexpr char kPartitionsKey[] = "M/partitions";

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
  // Bounds, with two families a partition: all memtables together (the
  // largest is flushed past it; the audit pod's memory limit is 1 GiB),
  // and the open table files (moved down whole, the partitions' files are
  // never merged, so there are many).
  o.db_write_buffer_size = size_t{512} << 20;
  o.max_open_files = 4096;
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
  // Subtree hashes, checkpoints: read by seeks; no filters (no lookup of an
  // absent key), so a flush builds none.
  return Common(16 << 20);
}

rocksdb::ColumnFamilyOptions LeavesOptions() {
  // One partition's leaves, in chunks of up to 64 (~25 KB; leaf_chunks.h),
  // each key after the last: no filters either.
  return Common(32 << 20);
}

rocksdb::ColumnFamilyOptions LeafHashesOptions() {
  // The same, 32 bytes a leaf: a tenth of the bytes, so smaller memtables
  // (a memtable not yet flushed keeps its WAL files).
  return Common(8 << 20);
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

absl::Status DbUnavailable(const rocksdb::Status& s, absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", s.ToString()));
}

std::string AuditDb::LeavesFamily(uint32_t partition) {
  return absl::StrCat("leaves-", partition);
}

std::string AuditDb::LeafHashesFamily(uint32_t partition) {
  return absl::StrCat("leaf-hashes-", partition);
}

absl::StatusOr<std::unique_ptr<AuditDb>> AuditDb::Open(const std::string& path,
                                                        uint32_t partitions) {
  // The families a store has already (none for a new one), so that a store
  // opened with the wrong partition count is refused before any is added.
  std::vector<std::string> existing;
  rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &existing).PermitUncheckedError();
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, RecordsOptions()},
      {kIds, IdsOptions()},
      {kIndex, IndexOptions()},
  };
  for (const std::string& name : existing) {
    if (absl::StartsWith(name, "leaves-")) families.push_back({name, LeavesOptions()});
    if (absl::StartsWith(name, "leaf-hashes-")) families.push_back({name, LeafHashesOptions()});
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(DbOptions(), path, families, &handles, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the audit log at ", path, ": ", s.ToString()));
  }
  std::unique_ptr<AuditDb> out(new AuditDb());
  out->db_.reset(db);
  out->handles_ = handles;  // Destroyed with `out`, whatever happens next.
  out->records_ = handles[0];
  out->ids_ = handles[1];
  out->index_ = handles[2];

  std::string stored;
  s = db->Get(rocksdb::ReadOptions(), kPartitionsKey, &stored);
  if (!s.ok() && !s.IsNotFound()) {
    return DbUnavailable(s, "cannot read the audit log");
  }
  const std::string want = absl::StrCat(partitions);
  if (s.ok() && stored != want) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the audit log at ", path, " has ", stored, " partitions, not ", want,
        "; partitions cannot change"));
  }
  // Each partition's families, opened above or added now.
  auto family = [&](const std::string& name, const rocksdb::ColumnFamilyOptions& options)
      -> absl::StatusOr<rocksdb::ColumnFamilyHandle*> {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (h->GetName() == name) return h;
    }
    rocksdb::ColumnFamilyHandle* added = nullptr;
    rocksdb::Status created = db->CreateColumnFamily(options, name, &added);
    if (!created.ok()) {
      return DbUnavailable(created, absl::StrCat("cannot add the audit log's family ", name));
    }
    out->handles_.push_back(added);
    return added;
  };
  for (uint32_t p = 0; p < partitions; ++p) {
    absl::StatusOr<rocksdb::ColumnFamilyHandle*> leaves = family(LeavesFamily(p), LeavesOptions());
    if (!leaves.ok()) return leaves.status();
    absl::StatusOr<rocksdb::ColumnFamilyHandle*> hashes =
        family(LeafHashesFamily(p), LeafHashesOptions());
    if (!hashes.ok()) return hashes.status();
    out->leaves_.push_back(*leaves);
    out->leaf_hashes_.push_back(*hashes);
  }
  if (s.IsNotFound()) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    s = db->Put(sync, kPartitionsKey, want);
    if (!s.ok()) return DbUnavailable(s, "cannot initialise the audit log");
  }
  if (absl::Status moved = out->MoveLegacyEntries(); !moved.ok()) return moved;
  return out;
}

AuditDb::~AuditDb() {
  if (db_ == nullptr) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_.reset();
}

absl::Status AuditDb::MoveLegacyEntries() {
  // [begin, end) of the default family, and where its entries belong.
  struct Move {
    std::string begin, end;
    rocksdb::ColumnFamilyHandle* to;
  };
  std::vector<Move> moves = {{"A", "B", index_}, {"E", "F", ids_}, {"S", "T", index_}};
  for (uint32_t p = 0; p < leaves_.size(); ++p) {
    // LeafKey(p, i) is 'L' then p (4 bytes, big-endian) then i; NodeKey(p,
    // 0, i) the same after 'N', then the level, 0.
    std::string begin = LeafKey(p, 0).substr(0, 5);
    std::string end = p + 1 < leaves_.size() ? LeafKey(p + 1, 0).substr(0, 5) : "M";
    moves.push_back({std::move(begin), std::move(end), leaves_[p]});
    moves.push_back({NodeKey(p, 0, 0).substr(0, 6), NodeKey(p, 1, 0).substr(0, 6),
                     leaf_hashes_[p]});
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;  // The entries leave the default family only once safe.
  for (const Move& move : moves) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), records_));
    it->Seek(move.begin);
    while (it->Valid() && it->key().compare(move.end) < 0) {
      rocksdb::WriteBatch batch;
      for (int n = 0; n < 4096 && it->Valid() && it->key().compare(move.end) < 0;
           ++n, it->Next()) {
        batch.Put(move.to, it->key(), it->value());
        batch.Delete(records_, it->key());
      }
      if (!it->status().ok()) break;
      rocksdb::Status s = db_->Write(sync, &batch);
      if (!s.ok()) return DbUnavailable(s, "cannot move the audit log's old entries");
    }
    if (!it->status().ok()) {
      return DbUnavailable(it->status(), "cannot read the audit log's old entries");
    }
  }
  return absl::OkStatus();
}

}  // namespace eid::audit
