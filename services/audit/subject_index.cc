#include "services/audit/subject_index.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eid/v1/audit.pb.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "services/audit/audit_keys.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"

namespace eid::audit {
namespace {

absl::Status DbError(const rocksdb::Status& s, absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", s.ToString()));
}

// The order of SubjectIndexKey's bytes: subject, time (clamped at 0, as the
// key does), partition, leaf index.
bool KeyLess(const SubjectIndex::Entry& a, const SubjectIndex::Entry& b) {
  if (const int c = std::memcmp(a.subject.data(), b.subject.data(), a.subject.size()); c != 0) {
    return c < 0;
  }
  const uint64_t ta = a.time_us < 0 ? 0 : a.time_us, tb = b.time_us < 0 ? 0 : b.time_us;
  if (ta != tb) return ta < tb;
  if (a.partition != b.partition) return a.partition < b.partition;
  return a.leaf_index < b.leaf_index;
}

absl::string_view View(const SubjectIndex::Subject& s) { return {s.data(), s.size()}; }

}  // namespace

void SubjectIndex::Buffer::Add(const Entry& e) {
  const uint32_t at = static_cast<uint32_t>(slots.size());
  slots.push_back(Slot{e, kNone});
  auto [it, inserted] = newest.try_emplace(e.subject, at);
  if (!inserted) {
    slots.back().older = it->second;
    it->second = at;
  }
}

SubjectIndex::SubjectIndex(AuditDb& store, const Options& options, size_t partitions)
    : store_(store),
      options_(options),
      spill_dir_(store.db()->GetName() + "/subject-index-spill"),
      written_(partitions, 0),
      added_(partitions, 0) {}

absl::StatusOr<std::unique_ptr<SubjectIndex>> SubjectIndex::Open(
    AuditDb& store, absl::Span<const uint64_t> tree_sizes, const Options& options) {
  std::unique_ptr<SubjectIndex> index(new SubjectIndex(store, options, tree_sizes.size()));
  std::error_code error;
  std::filesystem::remove_all(index->spill_dir_, error);  // A crash's leftovers.
  if (!std::filesystem::create_directories(index->spill_dir_, error) && error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", index->spill_dir_, ": ", error.message()));
  }
  std::vector<uint64_t> marks(tree_sizes.size(), 0);
  bool marked = false;
  for (uint32_t p = 0; p < tree_sizes.size(); ++p) {
    std::string value;
    rocksdb::Status s = store.db()->Get(rocksdb::ReadOptions(), store.index(),
                                        SubjectIndexMarkKey(p), &value);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return DbError(s, "cannot read the subject index's marks");
    marked = true;
    if (!GetBigEndian64(value, 0, &marks[p])) marks[p] = 0;  // Read back all.
    marks[p] = std::min(marks[p], tree_sizes[p]);
  }
  {
    absl::MutexLock lock(&index->flush_mu_);
    if (!marked) {
      // New, or every entry went in with its group: all written.
      marks.assign(tree_sizes.begin(), tree_sizes.end());
      if (absl::Status s = index->Ingest({}, marks); !s.ok()) return s;
    }
    index->written_ = marks;
  }
  for (uint32_t p = 0; p < tree_sizes.size(); ++p) {
    if (absl::Status s = index->ReadBack(p, marks[p], tree_sizes[p]); !s.ok()) return s;
  }
  {
    absl::MutexLock lock(&index->mu_);
    index->added_.assign(tree_sizes.begin(), tree_sizes.end());
  }
  index->flusher_ = std::thread([i = index.get()] { i->FlushLoop(); });
  return index;
}

SubjectIndex::~SubjectIndex() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (flusher_.joinable()) flusher_.join();
  if (absl::Status s = Flush(); !s.ok()) {
    // Nothing is lost: the next Open reads these leaves back.
    log::Warning("audit.subject_index.unwritten").With(s);
  }
}

absl::Status SubjectIndex::ReadBack(uint32_t partition, uint64_t from, uint64_t to) {
  if (from >= to) return absl::OkStatus();
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db()->NewIterator(rocksdb::ReadOptions(), store_.leaves(partition)));
  absl::MutexLock lock(&mu_);
  if (active_.slots.empty()) oldest_ = absl::Now();
  for (it->Seek(LeafKey(partition, from)); it->Valid(); it->Next()) {
    uint64_t index = 0;
    if (!GetBigEndian64(absl::string_view(it->key().data(), it->key().size()), 5, &index) ||
        index >= to) {
      break;
    }
    v1::AuditRecord record;
    // A leaf missing or altered is eidctl audit verify's to name; its
    // entry, if any, is left out.
    if (!record.ParseFromArray(it->value().data(), it->value().size()) ||
        record.event().subject().size() != sizeof(Subject)) {
      continue;
    }
    Entry e;
    std::memcpy(e.subject.data(), record.event().subject().data(), e.subject.size());
    e.time_us = absl::ToUnixMicros(FromProtoTime(record.event().time()));
    e.partition = partition;
    e.leaf_index = index;
    active_.Add(e);
  }
  if (!it->status().ok()) return DbError(it->status(), "cannot read the audit leaves");
  return absl::OkStatus();
}

void SubjectIndex::Add(uint32_t partition, uint64_t tree_size,
                       absl::Span<const Entry> entries) {
  absl::MutexLock lock(&mu_);
  if (active_.slots.empty() && !entries.empty()) oldest_ = absl::Now();
  for (const Entry& e : entries) active_.Add(e);
  added_[partition] = tree_size;
}

std::vector<std::string> SubjectIndex::BufferedKeys(absl::string_view subject) const {
  std::vector<std::string> keys;
  Subject s;
  if (subject.size() != s.size()) return keys;
  std::memcpy(s.data(), subject.data(), s.size());
  {
    absl::MutexLock lock(&mu_);
    for (const Buffer* b : {&active_, &flushing_}) {
      auto it = b->newest.find(s);
      if (it == b->newest.end()) continue;
      for (uint32_t i = it->second; i != Buffer::kNone; i = b->slots[i].older) {
        const Entry& e = b->slots[i].entry;
        keys.push_back(SubjectIndexKey(View(e.subject), e.time_us, e.partition, e.leaf_index));
      }
    }
  }
  std::sort(keys.begin(), keys.end(), std::greater<>());
  return keys;
}

size_t SubjectIndex::buffered() const {
  absl::MutexLock lock(&mu_);
  return active_.slots.size() + flushing_.slots.size();
}

absl::Status SubjectIndex::Flush() {
  absl::MutexLock flush_lock(&flush_mu_);
  std::vector<Entry> entries;
  std::vector<uint64_t> marks;
  {
    absl::MutexLock lock(&mu_);
    if (active_.slots.empty() && added_ == written_) return absl::OkStatus();
    std::swap(active_, flushing_);  // flushing_ was empty.
    marks = added_;
    entries.reserve(flushing_.slots.size());
    for (const Buffer::Slot& slot : flushing_.slots) entries.push_back(slot.entry);
  }
  const absl::Status s = Ingest(std::move(entries), marks);
  absl::MutexLock lock(&mu_);
  if (s.ok()) {
    flushing_ = Buffer();
    written_ = marks;
  } else {
    // Kept for the next try; older than what came since, in no order that
    // matters (BufferedKeys sorts).
    if (active_.slots.empty()) oldest_ = absl::Now();
    for (const Buffer::Slot& slot : flushing_.slots) active_.Add(slot.entry);
    flushing_ = Buffer();
  }
  return s;
}

absl::Status SubjectIndex::Ingest(std::vector<Entry> entries,
                                  const std::vector<uint64_t>& marks) {
  std::sort(entries.begin(), entries.end(), KeyLess);
  rocksdb::DB* db = store_.db();
  const std::string path = absl::StrCat(spill_dir_, "/", ++files_, ".sst");
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db->GetOptions(store_.index()),
                                store_.index());
  rocksdb::Status s = writer.Open(path);
  // The marks ('I') sort before the entries ('S').
  for (uint32_t p = 0; s.ok() && p < marks.size(); ++p) {
    std::string mark;
    PutBigEndian64(marks[p], &mark);
    s = writer.Put(SubjectIndexMarkKey(p), mark);
  }
  std::string key, previous;
  for (const Entry& e : entries) {
    if (!s.ok()) break;
    SetSubjectIndexKey(View(e.subject), e.time_us, e.partition, e.leaf_index, &key);
    if (key == previous) continue;  // Read back twice; keys must increase.
    s = writer.Put(key, rocksdb::Slice());
    std::swap(key, previous);
  }
  if (s.ok()) s = writer.Finish();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;  // A hard link: the file is not copied.
    s = db->IngestExternalFile(store_.index(), {path}, ingest);
  }
  std::remove(path.c_str());  // Linked into the database, or failed.
  return s.ok() ? absl::OkStatus() : DbError(s, "cannot write the subject index");
}

void SubjectIndex::FlushLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      const auto full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || active_.slots.size() >= options_.flush_entries;
      };
      while (!full()) {
        if (!active_.slots.empty() && absl::Now() >= oldest_ + options_.flush_interval) break;
        const absl::Duration wait = active_.slots.empty()
                                        ? options_.flush_interval
                                        : oldest_ + options_.flush_interval - absl::Now();
        mu_.AwaitWithTimeout(absl::Condition(&full), wait);
      }
      if (stopping_) return;
    }
    if (absl::Status s = Flush(); !s.ok()) {
      log::Warning("audit.subject_index.flush_failed").With(s);
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1));
    }
  }
}

}  // namespace eid::audit
