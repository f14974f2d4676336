// AuditLog: the tamper-evident event log of the audit service, on its own
// RocksDB (layout: audit_keys.h, docs/audit-format.md).
//
// Events go to one of `partitions` append-only logs (by their subject, so a
// citizen's history is one tree). Each partition is an RFC 6962 Merkle tree:
// the leaf data of event i is a deterministic AuditRecord (event, partition,
// index, time recorded). Every leaf hash and the hash of every complete
// subtree at a level that is a multiple of kNodeLevelStep is stored as it
// forms; a proof reads O(log n) of them and at most 2^(step-1) per subtree.
//
// Appends are group-committed, each partition by its own committer thread:
// a caller serialises its events (leaf_encoding.h) and queues each
// partition's share; a committer takes everything queued for its partition,
// places and hashes it, and writes it as one RocksDB batch with an fsync'd
// WAL (RocksDB merges the committers' concurrent synced writes into one
// fsync), then answers its callers. An append is acknowledged only once
// durable; if a write fails, that group's callers get UNAVAILABLE and its
// partition's tree is as before. The index by subject is written apart, in
// bulk (subject_index.h); the other index, ids and hashes go with the group.
//
// Thread-safe.
#ifndef EID_SERVICES_AUDIT_AUDIT_LOG_H_
#define EID_SERVICES_AUDIT_AUDIT_LOG_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "eid/v1/audit.pb.h"
#include "rocksdb/db.h"
#include "services/audit/audit_db.h"
#include "services/audit/merkle.h"
#include "services/audit/subject_index.h"
#include "services/common/clock.h"

namespace eid::audit {

class ChunkCursor;  // leaf_chunks.h

// Whether an event's `action` is what a filter `want`s: exactly, or under
// a prefix ending with "." ("activation."); an empty `want` takes all.
bool ActionMatches(absl::string_view want, absl::string_view action);

class AuditLog {
 public:
  struct Options {
    std::string path;              // RocksDB directory (created).
    uint32_t partitions = 4;       // Fixed for the life of the log.
    size_t max_group_events = 8192;  // Most events in one partition's group.
    size_t max_event_bytes = 16 << 10;  // Larger events are refused.
    SubjectIndex::Options subject_index;
  };

  // Opens the log and rebuilds each partition's tree frontier from the
  // stored node hashes. FAILED_PRECONDITION if RocksDB cannot open it or
  // the stored partition count differs.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const Options& options,
                                                        Clock& clock);
  ~AuditLog();  // Stops the committers after answering what is queued.

  // Subtree hashes are stored at levels 0, kNodeLevelStep, 2 * kNodeLevelStep...
  // (leaf hashes, then 16, 256... leaves); the levels between are computed
  // from the stored level below. Logs written with every level stored read
  // the same.
  static constexpr int kNodeLevelStep = 4;

  struct Placement {
    uint32_t partition = 0;
    uint64_t leaf_index = 0;
    bool duplicate = false;  // Already in the log under this event_id.
  };

  // Appends `events` and returns once they are durable, in request order.
  // INVALID_ARGUMENT (FIELD_REQUIRED / FIELD_INVALID, with "events[i]" in the
  // message) if any event is malformed: nothing is appended. UNAVAILABLE if
  // the log could not be made durable: nothing is acknowledged, retry.
  absl::StatusOr<std::vector<Placement>> Append(
      absl::Span<const v1::AuditEvent> events);

  uint32_t partitions() const { return options_.partitions; }
  // The current (unsigned) size and root of a partition's tree.
  uint64_t TreeSize(uint32_t partition) const;
  Hash Root(uint32_t partition) const;

  // The hash of leaves [begin, end) of a partition, end <= TreeSize.
  absl::StatusOr<Hash> SubtreeHash(uint32_t partition, uint64_t begin,
                                   uint64_t end) const;
  // RFC 6962 proofs. INVALID_ARGUMENT (PROOF_RANGE_INVALID) for impossible
  // bounds, OUT_OF_RANGE (TREE_SIZE_NOT_REACHED) past the current size.
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint32_t partition,
                                                   uint64_t leaf_index,
                                                   uint64_t tree_size) const;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint32_t partition,
                                                     uint64_t first_size,
                                                     uint64_t second_size) const;

  // Leaves [begin, end), with leaf_data set. Same errors as the proofs.
  absl::StatusOr<std::vector<v1::AuditRecord>> ReadLeaves(uint32_t partition,
                                                          uint64_t begin,
                                                          uint64_t end) const;

  // Events matching `filter`, newest first (by event time), at most `limit`,
  // continuing after `page_token` (empty: from the newest). The filter must
  // name a subject or an actor (their indexes are what is scanned); action
  // ("x.y" exact, "x." prefix) and time bounds narrow it. Sets
  // `*next_page_token` (empty on the last page). INVALID_ARGUMENT:
  // FIELD_REQUIRED without subject and actor, FIELD_INVALID for a subject
  // not 32 bytes or an end before the start, PAGE_TOKEN_INVALID.
  absl::StatusOr<std::vector<v1::AuditRecord>> Query(const v1::AuditFilter& filter,
                                                     int limit,
                                                     const std::string& page_token,
                                                     std::string* next_page_token) const;

  // Events matching `filter` (action and time bounds only: no subject or
  // actor), in the order recorded: partition 0 from its oldest leaf, then
  // partition 1... (audit_log_scan.cc). For exports of the whole log. A
  // page holds at most `limit` records and reads at most kScanLeavesPerPage
  // leaves, so it may hold fewer, or none, with a next_page_token to go on;
  // each partition is read up to its size when the scan reaches it. With a
  // start time, each partition is entered at its first leaf recorded at or
  // after start - kScanClockSlack (an event is recorded after it happens).
  // INVALID_ARGUMENT: FIELD_INVALID for a subject or actor or an end before
  // the start, PAGE_TOKEN_INVALID.
  absl::StatusOr<std::vector<v1::AuditRecord>> ScanRecorded(
      const v1::AuditFilter& filter, int limit, const std::string& page_token,
      std::string* next_page_token) const;
  static constexpr uint64_t kScanLeavesPerPage = 20000;
  static constexpr absl::Duration kScanClockSlack = absl::Minutes(5);
  // The first leaf of partition p below `size` recorded at or after `t`
  // (binary search: leaves are recorded in time order); `size` if none.
  absl::StatusOr<uint64_t> FirstRecordedAtOrAfter(uint32_t partition, uint64_t size,
                                                  absl::Time t) const;

  // Checkpoints, stored durably under their tree size.
  absl::Status PutCheckpoint(const v1::Checkpoint& checkpoint);
  // NOT_FOUND if the partition has none yet.
  absl::StatusOr<v1::Checkpoint> LatestCheckpoint(uint32_t partition) const;
  // Up to `limit` checkpoints with tree_size >= `from_size`, oldest first.
  absl::StatusOr<std::vector<v1::Checkpoint>> ListCheckpoints(
      uint32_t partition, uint64_t from_size, int limit) const;

  // Writes the buffered index by subject to RocksDB now; it writes itself
  // when due (subject_index.h). UNAVAILABLE if RocksDB fails.
  absl::Status FlushSubjectIndex() { return subjects_->Flush(); }
  size_t BufferedSubjectEntries() const { return subjects_->buffered(); }

  // The underlying database and its families (tests tamper with them).
  rocksdb::DB* db() const { return store_->db(); }
  const AuditDb& store() const { return *store_; }

 private:
  // An event id and its hash, computed once by Append's caller: the id goes
  // through three hash sets on its way (the call's, the claims, the group's).
  struct IdRef {
    absl::string_view id;
    size_t hash;
    bool operator==(const IdRef& other) const {
      return hash == other.hash && id == other.id;
    }
    template <typename H>
    friend H AbslHashValue(H h, const IdRef& ref) {
      return H::combine(std::move(h), ref.hash);
    }
  };
  struct Pending;    // One event, prepared by its caller.
  struct Request;    // One call's events of one partition.
  struct Partition;  // A partition's queue and committer.

  AuditLog(const Options& options, Clock& clock);
  absl::Status Validate(absl::Span<const v1::AuditEvent> events) const;
  absl::Status CheckPartition(uint32_t partition) const;
  absl::Status CheckRange(uint32_t partition, uint64_t size) const;
  uint32_t PartitionOf(const v1::AuditEvent& event) const;
  // The hash of the perfect subtree of 2^level leaves from index << level,
  // from the stored hashes; DATA_LOSS if they are missing.
  // Leaf `index` of `leaves`' partition, parsed; DATA_LOSS if missing or
  // unreadable, UNAVAILABLE if RocksDB cannot read.
  static absl::StatusOr<v1::AuditRecord> ReadRecord(ChunkCursor& leaves, uint32_t partition,
                                                    uint64_t index);
  // Partition p's size on disk, at Open; DATA_LOSS if its tail does not
  // read or is shorter than its latest signed checkpoint.
  absl::StatusOr<uint64_t> StoredTreeSize(uint32_t partition) const;
  absl::StatusOr<Hash> PerfectSubtreeHash(uint32_t partition, int level,
                                          uint64_t index) const;
  // SubtreeHash without the bounds check.
  absl::StatusOr<Hash> StoredSubtreeHash(uint32_t partition, uint64_t begin,
                                         uint64_t end) const;
  // Subtree hashes of a partition for proof building; the first failure
  // lands in `*error`.
  std::function<Hash(uint64_t, uint64_t)> SubtreeReader(uint32_t partition,
                                                         absl::Status* error) const;
  void CommitLoop(uint32_t partition);
  // Writes one group of a partition; sets each request's status.
  void Commit(uint32_t partition, const std::vector<Request*>& group);
  absl::Status WriteGroup(uint32_t partition, const std::vector<Request*>& group);

  const Options options_;
  Clock& clock_;
  std::unique_ptr<AuditDb> store_;
  rocksdb::DB* db_ = nullptr;  // store_->db()
  std::unique_ptr<SubjectIndex> subjects_;  // Closed before store_.

  mutable absl::Mutex trees_mu_;
  std::vector<CompactRange> trees_ ABSL_GUARDED_BY(trees_mu_);

  // Event ids some committer is writing now. Another committer waits until
  // its group's ids are free, so an id sent to two partitions at once (the
  // same id with another subject) is still recorded once.
  absl::Mutex claims_mu_;
  absl::flat_hash_set<IdRef> claims_ ABSL_GUARDED_BY(claims_mu_);

  std::vector<std::unique_ptr<Partition>> parts_;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_LOG_H_
