#include "services/audit/subject_index.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eid/v1/audit.pb.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "services/audit/audit_keys.h"
#include "services/audit/leaf_chunks.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"

namespace eid::audit {
namespace {

constexpr size_t kReadBackBatch = 4096;
// Slots are numbered in 32 bits, and Full() multiplies by 4.
constexpr size_t kMaxFlushEntries = size_t{1} << 28;

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
  if (!inserted) slots.back().older = std::exchange(it->second, at);
}

SubjectIndex::SubjectIndex(AuditDb& store, const Options& options, size_t partitions)
    : store_(store),
      options_(options),
      spill_dir_(store.db()->GetName() + "/subject-index-spill"),
      marks_(partitions, 0),
      own_metrics_(options.metrics ? nullptr : std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& metrics = options.metrics ? *options.metrics : *own_metrics_;
  buffered_entries_ = &prometheus::BuildGauge()
                           .Name("audit_subject_index_buffered_entries")
                           .Help("Audit subject index entries in memory, not yet "
                                 "written to RocksDB.")
                           .Register(metrics)
                           .Add({});
  last_write_ = &prometheus::BuildGauge()
                     .Name("audit_subject_index_last_write_timestamp_seconds")
                     .Help("When the audit subject index was last written (or "
                           "opened), Unix seconds.")
                     .Register(metrics)
                     .Add({});
  last_write_->SetToCurrentTime();
  write_failures_ = &prometheus::BuildCounter()
                         .Name("audit_subject_index_write_failures_total")
                         .Help("Audit subject index files that could not be written "
                               "or ingested.")
                         .Register(metrics)
                         .Add({});
}

absl::StatusOr<std::unique_ptr<SubjectIndex>> SubjectIndex::Open(
    AuditDb& store, absl::Span<const uint64_t> tree_sizes, const Options& options) {
  if (options.flush_entries == 0 || options.flush_entries > kMaxFlushEntries ||
      options.flush_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the subject index needs a flush size of 1 to ", kMaxFlushEntries,
        " entries and a positive interval"));
  }
  std::unique_ptr<SubjectIndex> index(new SubjectIndex(store, options, tree_sizes.size()));
  std::error_code error;
  std::filesystem::remove_all(index->spill_dir_, error);  // A crash's leftovers.
  if (!std::filesystem::create_directories(index->spill_dir_, error) && error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", index->spill_dir_, ": ", error.message()));
  }
  std::vector<uint64_t> marks(tree_sizes.size(), 0);
  bool marked = false, changed = false;
  for (uint32_t p = 0; p < tree_sizes.size(); ++p) {
    std::string value;
    rocksdb::Status s = store.db()->Get(rocksdb::ReadOptions(), store.index(),
                                        SubjectIndexMarkKey(p), &value);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return DbUnavailable(s, "cannot read the subject index's marks");
    marked = true;
    if (!GetBigEndian64(value, 0, &marks[p])) {  // Unreadable: read back all.
      marks[p] = 0;
      changed = true;
    }
    if (marks[p] > tree_sizes[p]) {  // Leaves lost: the mark comes down.
      marks[p] = tree_sizes[p];
      changed = true;
    }
  }
  // New, or every entry went in with its group: all written.
  if (!marked) marks.assign(tree_sizes.begin(), tree_sizes.end());
  if (!marked || changed) {
    // Stored before any append: a mark left above the leaves appended
    // again would hide their entries from the next read-back.
    absl::MutexLock lock(&index->flush_mu_);
    if (absl::Status s = index->Ingest({}, marks); !s.ok()) return s;
  }
  {
    absl::MutexLock lock(&index->mu_);
    index->marks_ = marks;  // Each advances as its leaves are read back.
  }
  for (uint32_t p = 0; p < tree_sizes.size(); ++p) {
    if (absl::Status s = index->ReadBack(p, marks[p], tree_sizes[p]); !s.ok()) return s;
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
  ChunkCursor leaves = ChunkCursor::Leaves(store_.db(), store_.leaves(partition), partition);
  leaves.Seek(from);
  bool writable = true;
  for (uint64_t next = from; next < to;) {
    std::vector<Entry> entries;  // Of up to kReadBackBatch leaves.
    for (size_t read = 0; leaves.Valid() && next < to && read < kReadBackBatch;
         ++read, leaves.Next()) {
      const uint64_t index = leaves.index();
      if (index >= to) {
        next = to;
        break;
      }
      next = index + 1;
      v1::AuditRecord record;
      // A leaf missing or altered is eidctl audit verify's to name (as
      // TAMPERED); its entry, if any, is left out.
      if (!record.ParseFromArray(leaves.value().data(), leaves.value().size()) ||
          record.event().subject().size() != sizeof(Subject)) {
        continue;
      }
      Entry& e = entries.emplace_back();
      std::memcpy(e.subject.data(), record.event().subject().data(), e.subject.size());
      e.time_us = absl::ToUnixMicros(FromProtoTime(record.event().time()));
      e.partition = partition;
      e.leaf_index = index;
    }
    if (!leaves.status().ok()) {
      return DbUnavailable(leaves.status(), "cannot read the audit leaves");
    }
    if (!leaves.Valid()) next = to;  // The rest are missing: verify names them.
    Add(partition, next, entries);
    if (!writable || buffered() < options_.flush_entries) continue;
    if (absl::Status s = Flush(); !s.ok()) {
      // Read on into memory: a log that will not open is worse than one
      // whose index waits (its thread retries; appends are refused past
      // Full()). Tried once, not for every chunk.
      log::Warning("audit.subject_index.flush_failed").With(s);
      writable = false;
    }
  }
  return absl::OkStatus();
}

void SubjectIndex::Add(uint32_t partition, uint64_t tree_size,
                       absl::Span<const Entry> entries) {
  absl::MutexLock lock(&mu_);
  if (!dirty_) dirty_since_ = std::chrono::steady_clock::now();
  dirty_ = true;
  for (const Entry& e : entries) active_.Add(e);
  marks_[partition] = tree_size;
  buffered_entries_->Set(static_cast<double>(active_.slots.size() + flushing_.slots.size()));
}

bool SubjectIndex::Full() const {
  absl::MutexLock lock(&mu_);
  return active_.slots.size() + flushing_.slots.size() >= 4 * options_.flush_entries;
}

std::vector<std::string> SubjectIndex::BufferedKeys(absl::string_view subject,
                                                    absl::string_view bound) const {
  Subject s;
  if (subject.size() != s.size()) return {};
  std::memcpy(s.data(), subject.data(), s.size());
  std::vector<Entry> found;  // Copied under the lock, keys made after.
  {
    absl::MutexLock lock(&mu_);
    for (const Buffer* b : {&active_, &flushing_}) {
      auto it = b->newest.find(s);
      if (it == b->newest.end()) continue;
      for (uint32_t i = it->second; i != Buffer::kNone; i = b->slots[i].older) {
        found.push_back(b->slots[i].entry);
      }
    }
  }
  std::vector<std::string> keys;
  for (const Entry& e : found) {
    std::string key = SubjectIndexKey(View(e.subject), e.time_us, e.partition, e.leaf_index);
    if (key < bound) keys.push_back(std::move(key));
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
  std::vector<uint64_t> marks;
  SteadyTime since;
  {
    absl::MutexLock lock(&mu_);
    if (!dirty_) return absl::OkStatus();
    std::swap(active_, flushing_);  // flushing_ was empty.
    marks = marks_;
    since = dirty_since_;
    dirty_ = false;
  }
  // Only this function, holding flush_mu_, changes flushing_; readers
  // share it meanwhile.
  std::vector<Entry> entries;
  [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    entries.reserve(flushing_.slots.size());
    for (const Buffer::Slot& slot : flushing_.slots) entries.push_back(slot.entry);
  }();
  const absl::Status s = Ingest(std::move(entries), marks);
  absl::MutexLock lock(&mu_);
  if (!s.ok()) {
    // Kept for the next try, in no order that matters (readers sort): the
    // fewer entries added to the more, under the lock queries and commits
    // wait for.
    if (active_.slots.size() > flushing_.slots.size()) std::swap(active_, flushing_);
    for (const Buffer::Slot& slot : flushing_.slots) active_.Add(slot.entry);
    dirty_ = true;
    dirty_since_ = since;
    write_failures_->Increment();
  } else {
    last_write_->SetToCurrentTime();
  }
  flushing_ = Buffer();
  buffered_entries_->Set(static_cast<double>(active_.slots.size()));
  return s;
}

absl::Status SubjectIndex::Ingest(std::vector<Entry> entries,
                                  const std::vector<uint64_t>& marks) {
  std::sort(entries.begin(), entries.end(), KeyLess);
  rocksdb::DB* db = store_.db();
  std::error_code missing;
  std::filesystem::create_directories(spill_dir_, missing);  // Removed meanwhile.
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
    if (key == previous) continue;  // A safety net: keys must increase.
    s = writer.Put(key, rocksdb::Slice());
    std::swap(key, previous);
  }
  if (s.ok()) s = writer.Finish();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;  // A hard link: the file is not copied.
    // The sequence number goes in the MANIFEST only, not rewritten into the
    // file (with an fsync) while the database's writes wait.
    ingest.write_global_seqno = false;
    s = db->IngestExternalFile(store_.index(), {path}, ingest);
  }
  std::remove(path.c_str());  // After a failure; RocksDB removed it if not.
  return s.ok() ? absl::OkStatus() : DbUnavailable(s, "cannot write the subject index");
}

void SubjectIndex::FlushLoop() {
  // Polled, and slept with absl::SleepFor (a relative, monotonic sleep): a
  // Mutex's timed wait ends at a wall-clock deadline, which a clock set back
  // would postpone.
  constexpr absl::Duration kPoll = absl::Milliseconds(100);
  absl::Duration backoff = absl::Seconds(1);
  SteadyTime retry_at;
  for (;;) {
    bool due;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      const auto now = std::chrono::steady_clock::now();
      due = now >= retry_at &&
            (active_.slots.size() >= options_.flush_entries ||
             (dirty_ && absl::FromChrono(now - dirty_since_) >= options_.flush_interval));
    }
    if (!due) {
      absl::SleepFor(kPoll);
      continue;
    }
    if (absl::Status s = Flush(); !s.ok()) {
      log::Warning("audit.subject_index.flush_failed").With(s);
      retry_at = std::chrono::steady_clock::now() + absl::ToChronoSeconds(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(30));
    } else {
      backoff = absl::Seconds(1);
    }
  }
}

}  // namespace eid::audit
