// SubjectIndex: the audit log's index by subject (the 'S' keys of
// audit_keys.h), held in memory as groups commit and written to RocksDB in
// bulk.
//
// Subjects are keyed hashes, so their index keys land at random. Put one by
// one into RocksDB's skip-list memtable with the rest of a group, each was a
// search of the whole memtable: a quarter of an append's CPU
// (docs/audit-format.md, "The subject index, written in bulk"). Here a
// committed group's entries go to a buffer instead; when it holds
// `flush_entries`, or `flush_interval` after the first change since the
// last write, a thread of its own sorts it, writes it as one table file and
// ingests that file into the index family. A query reads the buffer beside
// RocksDB.
//
// The buffer need not be durable: the leaves it is made of are, before
// their entries are added. Each file also holds, for every partition, the
// mark 'I' p -> n: the entries of p's leaves below n are in RocksDB. Open
// reads each partition's leaves from its mark to the end of its tree back
// into the buffer (writing it out whenever it fills).
//
// Metrics (in Options::metrics, if set):
//   audit_subject_index_buffered_entries   entries in memory, not yet written
//   audit_subject_index_write_failures_total  files that could not be
//                                          written or ingested
//   audit_subject_index_last_write_timestamp_seconds  when a file (or the
//                                          open) last left nothing older
//                                          unwritten
//
// Thread-safe.
#ifndef EID_SERVICES_AUDIT_SUBJECT_INDEX_H_
#define EID_SERVICES_AUDIT_SUBJECT_INDEX_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/audit/audit_db.h"

namespace eid::audit {

class SubjectIndex {
 public:
  struct Options {
    // Both at least 1; flush_entries at most 2^28.
    size_t flush_entries = size_t{1} << 18;  // ~30 MB of buffer.
    // Also bounds, with flush_entries, what Open reads back after a crash.
    absl::Duration flush_interval = absl::Seconds(30);
    prometheus::Registry* metrics = nullptr;  // Null: not exported.
  };
  using Subject = std::array<char, 32>;
  struct Entry {
    Subject subject;
    int64_t time_us;  // The event's time.
    uint32_t partition;
    uint64_t leaf_index;
  };

  // `tree_sizes`: each partition's, as stored. A store without marks (new,
  // or written when the entries went in with each group) is marked at
  // those sizes. INVALID_ARGUMENT for options of 0; UNAVAILABLE if RocksDB
  // fails.
  static absl::StatusOr<std::unique_ptr<SubjectIndex>> Open(
      AuditDb& store, absl::Span<const uint64_t> tree_sizes, const Options& options);
  ~SubjectIndex();  // Writes what is buffered.

  // The entries of a group just made durable, which brought `partition`'s
  // tree to `tree_size`. A partition's groups are added in order.
  void Add(uint32_t partition, uint64_t tree_size, absl::Span<const Entry> entries)
      ABSL_LOCKS_EXCLUDED(mu_);
  // True once the buffer holds four times flush_entries: its files are not
  // being written (or not as fast as entries come), and appends that would
  // add to it are refused rather than grow it without bound.
  bool Full() const ABSL_LOCKS_EXCLUDED(mu_);

  // The buffered index keys of `subject` (32 bytes) below `bound`, largest
  // (newest) first. A query calls it before opening its RocksDB iterator:
  // an entry leaves the buffer only once its file is ingested, so the two
  // together miss none, and may hold a key twice.
  std::vector<std::string> BufferedKeys(absl::string_view subject,
                                        absl::string_view bound) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Writes the buffer to RocksDB now; the index's thread does when due.
  absl::Status Flush() ABSL_LOCKS_EXCLUDED(flush_mu_, mu_);
  size_t buffered() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Entries, and for each subject its newest one; each entry links to the
  // subject's one before.
  struct Buffer {
    struct Slot {
      Entry entry;
      uint32_t older;  // kNone: the subject's oldest here.
    };
    static constexpr uint32_t kNone = UINT32_MAX;
    std::vector<Slot> slots;
    absl::flat_hash_map<Subject, uint32_t> newest;
    void Add(const Entry& e);
  };

  using SteadyTime = std::chrono::steady_clock::time_point;

  SubjectIndex(AuditDb& store, const Options& options, size_t partitions);
  // Reads partition p's leaves [from, to) into the buffer, writing it out
  // whenever it fills.
  absl::Status ReadBack(uint32_t partition, uint64_t from, uint64_t to)
      ABSL_LOCKS_EXCLUDED(flush_mu_, mu_);
  // One table file of `entries` (sorted here) and `marks`, ingested.
  absl::Status Ingest(std::vector<Entry> entries, const std::vector<uint64_t>& marks)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(flush_mu_);
  void FlushLoop() ABSL_LOCKS_EXCLUDED(flush_mu_, mu_);

  AuditDb& store_;
  const Options options_;
  const std::string spill_dir_;  // Where files are written before ingestion.

  absl::Mutex flush_mu_;  // One flush at a time; taken before mu_.
  uint64_t files_ ABSL_GUARDED_BY(flush_mu_) = 0;

  mutable absl::Mutex mu_;
  Buffer active_ ABSL_GUARDED_BY(mu_);
  Buffer flushing_ ABSL_GUARDED_BY(mu_);  // Being written; still read.
  // Each partition's tree size whose entries are all in the buffer or
  // RocksDB: the marks the next file stores.
  std::vector<uint64_t> marks_ ABSL_GUARDED_BY(mu_);
  // Something (entries or a mark) changed since the last file, since when.
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  SteadyTime dirty_since_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;

  std::shared_ptr<prometheus::Registry> own_metrics_;  // When none is given.
  prometheus::Gauge* buffered_entries_;
  prometheus::Counter* write_failures_;
  prometheus::Gauge* last_write_;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_SUBJECT_INDEX_H_
