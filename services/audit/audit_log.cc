#include "services/audit/audit_log.h"

#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/options.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/write_batch.h"
#include "services/audit/audit_keys.h"
#include "services/audit/leaf_chunks.h"
#include "services/audit/leaf_encoding.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "storage/router/shard_hash.h"

namespace eid::audit {
namespace {

constexpr size_t kMaxEventIdBytes = 128;

// Event i of the group, for messages: "events[3]".
std::string At(size_t i) { return absl::StrCat("events[", i, "]"); }

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// The largest power of two below n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

}  // namespace

struct AuditLog::Pending {
  const v1::AuditEvent* event;
  IdRef id;                 // event->event_id() and its hash.
  std::string event_field;  // EncodeEventField(*event), made by the caller.
  int64_t time_us;          // The event's time, for the index keys.
  Placement* place;         // Where the caller reads the result.
};

struct AuditLog::Request {
  std::vector<Pending> events;
  absl::Status status;
  bool done = false;  // Guarded by the partition's mu.
};

struct AuditLog::Partition {
  absl::Mutex mu;
  std::deque<Request*> queue ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
  std::thread committer;
  // The time recorded in the last leaf; only the committer reads and sets
  // it once started. Leaves never go back in time: a clock set back would
  // otherwise hide later leaves from ScanRecorded's binary search.
  absl::Time last_recorded = absl::InfinitePast();
};

AuditLog::AuditLog(const Options& options, Clock& clock)
    : options_(options), clock_(clock) {}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const Options& options,
                                                        Clock& clock) {
  if (options.partitions == 0) {
    return absl::InvalidArgumentError("the audit log needs a partition");
  }
  std::unique_ptr<AuditLog> log(new AuditLog(options, clock));
  absl::StatusOr<std::unique_ptr<AuditDb>> store =
      AuditDb::Open(options.path, options.partitions);
  if (!store.ok()) return store.status();
  log->store_ = std::move(*store);
  log->db_ = log->store_->db();

  // Rebuild each frontier: the size from the last leaf, then the perfect
  // subtrees that size is made of, largest first.
  std::vector<CompactRange> trees(options.partitions);
  for (uint32_t p = 0; p < options.partitions; ++p) {
    absl::StatusOr<uint64_t> size = log->StoredTreeSize(p);
    if (!size.ok()) return size.status();
    std::vector<Hash> hashes;
    uint64_t start = 0;
    for (int level = 63; level >= 0; --level) {
      if (!((*size >> level) & 1)) continue;
      absl::StatusOr<Hash> hash = log->PerfectSubtreeHash(p, level, start >> level);
      if (!hash.ok()) {
        return absl::DataLossError(
            absl::StrCat(hash.status().message(), "; not appending over it"));
      }
      hashes.push_back(*hash);
      start += uint64_t{1} << level;
    }
    absl::StatusOr<CompactRange> tree = CompactRange::FromHashes(*size, std::move(hashes));
    if (!tree.ok()) return tree.status();
    trees[p] = std::move(*tree);
  }
  std::vector<uint64_t> sizes;
  for (const CompactRange& tree : trees) sizes.push_back(tree.size());
  absl::StatusOr<std::unique_ptr<SubjectIndex>> subjects =
      SubjectIndex::Open(*log->store_, sizes, options.subject_index);
  if (!subjects.ok()) return subjects.status();
  log->subjects_ = std::move(*subjects);
  {
    absl::MutexLock lock(&log->trees_mu_);
    log->trees_ = std::move(trees);
  }
  for (uint32_t p = 0; p < options.partitions; ++p) {
    log->parts_.push_back(std::make_unique<Partition>());
    const uint64_t size = log->TreeSize(p);
    if (size == 0) continue;
    absl::StatusOr<std::vector<v1::AuditRecord>> last = log->ReadLeaves(p, size - 1, size);
    if (!last.ok()) return last.status();
    // Its time carries on only if the leaf is the one the tree was built
    // from (an edited last leaf could set any time; verify names it).
    const v1::AuditRecord& record = (*last)[0];
    absl::StatusOr<Hash> stored = log->PerfectSubtreeHash(p, 0, size - 1);
    if (!stored.ok() || LeafHash(record.leaf_data()) != *stored ||
        !record.has_recorded_at()) {
      log::Warning("audit.last_leaf_unverified").With("partition", static_cast<int>(p));
      continue;
    }
    const absl::Time recorded = FromProtoTime(record.recorded_at());
    // A clock that once ran ahead pins the times recorded until real time
    // catches up (docs/audit-format.md): worth an operator's look.
    if (recorded > clock.Now() + absl::Hours(1)) {
      log::Warning("audit.last_leaf_in_the_future")
          .With("partition", static_cast<int>(p))
          .With("recorded_at", absl::FormatTime(recorded));
    }
    log->parts_[p]->last_recorded = recorded;
  }
  for (uint32_t p = 0; p < options.partitions; ++p) {
    log->parts_[p]->committer = std::thread([l = log.get(), p] { l->CommitLoop(p); });
  }
  return log;
}

AuditLog::~AuditLog() {
  for (auto& part : parts_) {
    absl::MutexLock lock(&part->mu);
    part->stopping = true;
  }
  for (auto& part : parts_) {
    if (part->committer.joinable()) part->committer.join();
  }
  subjects_.reset();  // Writes what the committers added, while store_ is open.
}

absl::Status AuditLog::Validate(absl::Span<const v1::AuditEvent> events) const {
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::AuditEvent& e = events[i];
    const auto required = [&](absl::string_view field) {
      return WithMetadata(InvalidArgument(v1::FIELD_REQUIRED,
                                          absl::StrCat(At(i), ".", field, " is required")),
                          "index", absl::StrCat(i));
    };
    const auto invalid = [&](absl::string_view what) {
      return WithMetadata(
          InvalidArgument(v1::FIELD_INVALID, absl::StrCat(At(i), ": ", what)), "index",
          absl::StrCat(i));
    };
    if (e.event_id().empty()) return required("event_id");
    if (e.event_id().size() > kMaxEventIdBytes) return invalid("event_id is too long");
    if (!e.has_time()) return required("time");
    if (e.service().empty()) return required("service");
    if (e.action().empty()) return required("action");
    if (e.actor().empty()) return required("actor");
    if (e.actor().find('\0') != std::string::npos) {
      return invalid("actor holds a NUL byte");  // It ends the actor index key.
    }
    if (e.outcome() == v1::AUDIT_OUTCOME_UNSPECIFIED) return required("outcome");
    if (!e.subject().empty() && e.subject().size() != 32) {
      return invalid("subject is a 32-byte keyed hash");
    }
    if (e.ByteSizeLong() > options_.max_event_bytes) {
      return invalid(absl::StrCat("larger than ", options_.max_event_bytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

uint32_t AuditLog::PartitionOf(const v1::AuditEvent& event) const {
  // A citizen's events share a partition: their history is one tree.
  const std::string& key = event.subject().empty() ? event.actor() : event.subject();
  return static_cast<uint32_t>(storage::StableHash64(key) % options_.partitions);
}

absl::StatusOr<std::vector<AuditLog::Placement>> AuditLog::Append(
    absl::Span<const v1::AuditEvent> events) {
  if (absl::Status s = Validate(events); !s.ok()) return s;
  std::vector<Placement> out(events.size());
  if (events.empty()) return out;
  // The costly, placement-free work happens here, on the caller's thread:
  // serialising each event and picking its partition. An id repeated within
  // the call is sent once and answered from its first occurrence.
  std::vector<Request> requests(options_.partitions);
  absl::flat_hash_map<IdRef, size_t> first;
  std::vector<std::pair<size_t, size_t>> repeats;  // (i, its first occurrence)
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::AuditEvent& e = events[i];
    const IdRef id{e.event_id(), absl::Hash<absl::string_view>()(e.event_id())};
    if (events.size() > 1) {
      auto [it, fresh] = first.try_emplace(id, i);
      if (!fresh) {
        repeats.emplace_back(i, it->second);
        continue;
      }
    }
    requests[PartitionOf(e)].events.push_back(
        Pending{&e, id, EncodeEventField(e),
                absl::ToUnixMicros(FromProtoTime(e.time())), &out[i]});
  }
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    Request& r = requests[p];
    if (r.events.empty()) continue;
    absl::MutexLock lock(&parts_[p]->mu);
    if (parts_[p]->stopping) {
      r.status = absl::UnavailableError("the audit log is closing");
      r.done = true;
      continue;
    }
    parts_[p]->queue.push_back(&r);
  }
  absl::Status status;
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    Request& r = requests[p];
    if (r.events.empty()) continue;
    absl::MutexLock lock(&parts_[p]->mu);
    parts_[p]->mu.Await(absl::Condition(&r.done));
    if (status.ok()) status = r.status;
  }
  // Some partitions may have written theirs: a retry finds those by id.
  if (!status.ok()) return status;
  for (const auto& [i, j] : repeats) {
    out[i] = out[j];
    out[i].duplicate = true;
  }
  return out;
}

void AuditLog::CommitLoop(uint32_t partition) {
  // RocksDB counts every key comparison in a thread-local perf context by
  // default (kEnableCount); nobody reads this thread's counts.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  Partition& part = *parts_[partition];
  for (;;) {
    std::vector<Request*> group;
    {
      absl::MutexLock lock(&part.mu);
      const auto ready = [&part]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(part.mu) {
        return !part.queue.empty() || part.stopping;
      };
      part.mu.Await(absl::Condition(&ready));
      if (part.queue.empty()) return;  // Stopping, nothing left to answer.
      size_t events = 0;
      while (!part.queue.empty() &&
             (group.empty() || events + part.queue.front()->events.size() <=
                                   options_.max_group_events)) {
        events += part.queue.front()->events.size();
        group.push_back(part.queue.front());
        part.queue.pop_front();
      }
    }
    Commit(partition, group);
    absl::MutexLock lock(&part.mu);
    for (Request* r : group) r->done = true;
  }
}

void AuditLog::Commit(uint32_t partition, const std::vector<Request*>& group) {
  // Claim the group's ids (waiting while another committer holds one), so
  // the lookup below sees every earlier write of them.
  {
    absl::MutexLock lock(&claims_mu_);
    const auto free = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(claims_mu_) {
      for (const Request* r : group) {
        for (const Pending& e : r->events) {
          if (claims_.contains(e.id)) return false;
        }
      }
      return true;
    };
    claims_mu_.Await(absl::Condition(&free));
    for (const Request* r : group) {
      for (const Pending& e : r->events) claims_.insert(e.id);
    }
  }
  const absl::Status status = WriteGroup(partition, group);
  {
    absl::MutexLock lock(&claims_mu_);
    for (const Request* r : group) {
      for (const Pending& e : r->events) claims_.erase(e.id);
    }
  }
  for (Request* r : group) r->status = status;
}

absl::Status AuditLog::WriteGroup(uint32_t partition,
                                  const std::vector<Request*>& group) {
  std::vector<const Pending*> events;
  for (const Request* r : group) {
    for (const Pending& e : r->events) events.push_back(&e);
  }
  // Which ids are in the log already: one batched lookup.
  std::vector<std::string> id_keys;
  id_keys.reserve(events.size());
  for (const Pending* e : events) id_keys.push_back(EventIdKey(e->event->event_id()));
  std::vector<rocksdb::Slice> id_slices(id_keys.begin(), id_keys.end());
  std::vector<rocksdb::PinnableSlice> existing(events.size());
  std::vector<rocksdb::Status> found(events.size());
  db_->MultiGet(rocksdb::ReadOptions(), store_->ids(), events.size(),
                id_slices.data(), existing.data(), found.data());

  CompactRange tree;
  {
    absl::MutexLock lock(&trees_mu_);
    tree = trees_[partition];  // Only this thread changes it.
  }
  Partition& part = *parts_[partition];
  const absl::Time now = std::max(clock_.Now(), part.last_recorded);
  // The writes by kind, each kind in key order: RocksDB inserts a batch into
  // its memtable in order, and each insert starting near where the previous
  // ended is what makes a large batch cheap (unsorted, the skip-list searches
  // were most of a commit's CPU). Leaves and nodes come in order already.
  using Write = std::pair<std::string, std::string>;
  std::vector<Write> nodes, ids, actors;
  ChunkBuilder chunks(partition);  // The leaves and their hashes.
  std::vector<SubjectIndex::Entry> subjects;  // Written apart, in bulk.
  ids.reserve(events.size());
  actors.reserve(events.size());
  size_t bytes = 0;
  absl::flat_hash_map<IdRef, Placement> placed;  // In this group.
  for (size_t i = 0; i < events.size(); ++i) {
    const Pending& e = *events[i];
    const std::string& id = e.event->event_id();
    Placement place;
    if (auto it = placed.find(e.id); it != placed.end()) {
      *e.place = it->second;
      e.place->duplicate = true;
      continue;
    }
    if (found[i].ok() &&
        ParsePlace(absl::string_view(existing[i].data(), existing[i].size()),
                   &place.partition, &place.leaf_index)) {
      place.duplicate = true;
      *e.place = place;
      continue;
    }
    if (!found[i].ok() && !found[i].IsNotFound()) {
      return DbUnavailable(found[i], "cannot look up audit event ids");
    }
    place.partition = partition;
    place.leaf_index = tree.size();
    const std::string data = LeafData(e.event_field, partition, place.leaf_index, now);
    const Hash leaf_hash = LeafHash(data);
    absl::Status appended =
        tree.Append(leaf_hash, [&](int level, uint64_t index, const Hash& h) {
          // Level 0 is in the chunks; the levels between are computed when read.
          if (level == 0 || level % kNodeLevelStep != 0) return;
          nodes.emplace_back(NodeKey(partition, level, index),
                             std::string(reinterpret_cast<const char*>(h.data()), h.size()));
        });
    if (!appended.ok()) return appended;
    bytes += data.size() + 100 + id.size() + e.event->actor().size();
    // Leaf hashes are stored too: an auditor can then tell which leaf's
    // bytes no longer match the hash the signed tree was built from.
    chunks.Add(place.leaf_index, data, leaf_hash);
    ids.emplace_back(std::move(id_keys[i]), PlaceValue(partition, place.leaf_index));
    if (!e.event->subject().empty()) {  // Validated: 32 bytes.
      SubjectIndex::Entry& entry = subjects.emplace_back();
      std::copy_n(e.event->subject().data(), entry.subject.size(), entry.subject.data());
      entry.time_us = e.time_us;
      entry.partition = partition;
      entry.leaf_index = place.leaf_index;
    }
    actors.emplace_back(
        ActorIndexKey(e.event->actor(), e.time_us, partition, place.leaf_index),
        std::string());
    placed[e.id] = place;
    *e.place = place;
  }
  if (chunks.leaves().empty()) return absl::OkStatus();  // Only duplicates.
  const auto by_key = [](const Write& a, const Write& b) { return a.first < b.first; };
  std::sort(nodes.begin(), nodes.end(), by_key);  // Levels interleave.
  std::sort(ids.begin(), ids.end(), by_key);
  std::sort(actors.begin(), actors.end(), by_key);
  if (!subjects.empty() && subjects_->Full()) {  // Its files are not being written.
    return absl::UnavailableError("the audit log's subject index is behind; retry");
  }
  rocksdb::WriteBatch batch(bytes + 64 * nodes.size());
  // Each column family's keys in order (audit_db.h says which holds what).
  for (const Write& w : chunks.leaves()) batch.Put(store_->leaves(partition), w.first, w.second);
  for (const Write& w : nodes) batch.Put(w.first, w.second);
  for (const Write& w : chunks.hashes()) {
    batch.Put(store_->leaf_hashes(partition), w.first, w.second);
  }
  for (const Write& w : ids) batch.Put(store_->ids(), w.first, w.second);
  for (const Write& w : actors) batch.Put(store_->index(), w.first, w.second);
  rocksdb::WriteOptions sync;
  sync.sync = true;  // Acknowledged only once on disk.
  sync.memtable_insert_hint_per_batch = true;  // Partitions insert concurrently.
  rocksdb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) return DbUnavailable(s, "the audit log is not durable");
  subjects_->Add(partition, tree.size(), subjects);  // Before the callers hear.
  part.last_recorded = now;
  absl::MutexLock lock(&trees_mu_);
  trees_[partition] = std::move(tree);
  return absl::OkStatus();
}

absl::Status AuditLog::CheckPartition(uint32_t partition) const {
  if (partition >= options_.partitions) {
    return NotFound(v1::PARTITION_UNKNOWN,
                    absl::StrCat("no audit partition ", partition, "; there are ",
                                 options_.partitions));
  }
  return absl::OkStatus();
}

absl::Status AuditLog::CheckRange(uint32_t partition, uint64_t size) const {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  const uint64_t current = TreeSize(partition);
  if (size > current) {
    return Error(absl::StatusCode::kOutOfRange, v1::TREE_SIZE_NOT_REACHED,
                 absl::StrCat("partition ", partition, " has ", current,
                              " leaves, not ", size));
  }
  return absl::OkStatus();
}

uint64_t AuditLog::TreeSize(uint32_t partition) const {
  absl::MutexLock lock(&trees_mu_);
  return partition < trees_.size() ? trees_[partition].size() : 0;
}

Hash AuditLog::Root(uint32_t partition) const {
  absl::MutexLock lock(&trees_mu_);
  return partition < trees_.size() ? trees_[partition].Root() : EmptyRootHash();
}

absl::StatusOr<Hash> AuditLog::SubtreeHash(uint32_t partition, uint64_t begin,
                                           uint64_t end) const {
  if (begin >= end) return EmptyRootHash();
  if (absl::Status s = CheckRange(partition, end); !s.ok()) return s;
  return StoredSubtreeHash(partition, begin, end);
}

absl::StatusOr<Hash> AuditLog::StoredSubtreeHash(uint32_t partition, uint64_t begin,
                                                 uint64_t end) const {
  const uint64_t n = end - begin;
  if (IsPowerOfTwo(n) && begin % n == 0) {
    const int level = __builtin_ctzll(n);
    return PerfectSubtreeHash(partition, level, begin >> level);
  }
  const uint64_t k = SplitPoint(n);  // n >= 3 here.
  absl::StatusOr<Hash> left = StoredSubtreeHash(partition, begin, begin + k);
  if (!left.ok()) return left.status();
  absl::StatusOr<Hash> right = StoredSubtreeHash(partition, begin + k, end);
  if (!right.ok()) return right.status();
  return NodeHash(*left, *right);
}

absl::StatusOr<v1::AuditRecord> AuditLog::ReadRecord(ChunkCursor& leaves, uint32_t partition,
                                                     uint64_t index) {
  leaves.Seek(index);
  if (absl::Status s = leaves.At(index); !s.ok()) return s;
  return ParseLeafRecord(partition, index, leaves.value());
}

absl::StatusOr<uint64_t> AuditLog::StoredTreeSize(uint32_t partition) const {
  // From the last entry of the leaves and of their hashes (one batch wrote
  // both): neither is ever skipped, since a size read short would let
  // appends overwrite what was there.
  uint64_t sizes[2] = {0, 0};
  ChunkCursor last[2] = {ChunkCursor::Leaves(db_, store_->leaves(partition), partition),
                         ChunkCursor::LeafHashes(db_, store_->leaf_hashes(partition), partition)};
  for (int k = 0; k < 2; ++k) {
    const bool readable = last[k].SeekToLast();
    if (!last[k].status().ok()) return DbUnavailable(last[k].status(), "cannot read the audit log");
    if (!readable) {
      return absl::DataLossError(absl::StrCat("audit partition ", partition, ": its last ",
                                              k == 0 ? "leaves" : "leaf hashes",
                                              " are unreadable; not appending over them"));
    }
    sizes[k] = last[k].Valid() ? last[k].index() + 1 : 0;
  }
  if (sizes[0] != sizes[1]) {
    return absl::DataLossError(absl::StrCat("audit partition ", partition, " has ", sizes[0],
                                            " leaves but ", sizes[1], " leaf hashes"));
  }
  // Fewer leaves than a signed checkpoint (its size read from its key, so an
  // altered value does not hide it): some were lost or removed.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(CheckpointKey(partition, UINT64_MAX));
  const std::string prefix = CheckpointPrefix(partition);
  uint64_t signed_size = 0;
  if (it->Valid() && it->key().starts_with(prefix) &&
      GetBigEndian64(absl::string_view(it->key().data(), it->key().size()), prefix.size(),
                     &signed_size) &&
      signed_size > sizes[0]) {
    return absl::DataLossError(absl::StrCat("audit partition ", partition, " has ", sizes[0],
                                            " leaves, but a checkpoint signed ", signed_size));
  }
  if (!it->status().ok()) return DbUnavailable(it->status(), "cannot read the audit log");
  return sizes[0];
}

absl::StatusOr<Hash> AuditLog::PerfectSubtreeHash(uint32_t partition, int level,
                                                  uint64_t index) const {
  // The stored level at or below, and the run of its subtrees that tile
  // this one: adjacent keys, read with one seek.
  const int stored = level - level % kNodeLevelStep;
  const uint64_t count = uint64_t{1} << (level - stored);
  const uint64_t from = index << (level - stored);
  std::vector<Hash> hashes;
  hashes.reserve(count);
  const auto keep = [&](uint64_t, absl::string_view h) {
    hashes.emplace_back();
    std::copy(h.begin(), h.end(), reinterpret_cast<char*>(hashes.back().data()));
  };
  if (stored == 0) {
    ChunkCursor leaf_hashes =
        ChunkCursor::LeafHashes(db_, store_->leaf_hashes(partition), partition);
    if (absl::Status s = leaf_hashes.ReadRange(from, from + count, keep); !s.ok()) return s;
  } else {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), store_->records()));
    it->Seek(NodeKey(partition, stored, from));
    for (uint64_t i = 0; i < count; ++i, it->Next()) {
      if (!it->Valid() || it->key() != NodeKey(partition, stored, from + i) ||
          it->value().size() != 32) {
        return absl::DataLossError(absl::StrCat(
            "audit partition ", partition, ": the subtree at level ", stored,
            " index ", from + i, " is missing"));
      }
      keep(from + i, absl::string_view(it->value().data(), it->value().size()));
    }
  }
  // `count` is a power of two, so MTH over the sub-roots is the subtree's.
  return count == 1 ? hashes[0] : RootFromLeafHashes(hashes);
}

std::function<Hash(uint64_t, uint64_t)> AuditLog::SubtreeReader(
    uint32_t partition, absl::Status* error) const {
  return [this, partition, error](uint64_t begin, uint64_t end) {
    absl::StatusOr<Hash> h = SubtreeHash(partition, begin, end);
    if (h.ok()) return *h;
    if (error->ok()) *error = h.status();
    return Hash{};
  };
}

absl::StatusOr<std::vector<Hash>> AuditLog::InclusionProof(uint32_t partition,
                                                           uint64_t leaf_index,
                                                           uint64_t tree_size) const {
  if (leaf_index >= tree_size) {
    return InvalidArgument(v1::PROOF_RANGE_INVALID,
                           absl::StrCat("leaf ", leaf_index, " is not below tree size ",
                                        tree_size));
  }
  if (absl::Status s = CheckRange(partition, tree_size); !s.ok()) return s;
  absl::Status error;
  std::vector<Hash> proof = MakeInclusionProof(leaf_index, tree_size,
                                               SubtreeReader(partition, &error));
  if (!error.ok()) return error;
  return proof;
}

absl::StatusOr<std::vector<Hash>> AuditLog::ConsistencyProof(
    uint32_t partition, uint64_t first_size, uint64_t second_size) const {
  if (first_size == 0 || first_size > second_size) {
    return InvalidArgument(v1::PROOF_RANGE_INVALID,
                           absl::StrCat("no consistency proof from size ", first_size,
                                        " to ", second_size));
  }
  if (absl::Status s = CheckRange(partition, second_size); !s.ok()) return s;
  absl::Status error;
  std::vector<Hash> proof = MakeConsistencyProof(first_size, second_size,
                                                 SubtreeReader(partition, &error));
  if (!error.ok()) return error;
  return proof;
}

absl::StatusOr<std::vector<v1::AuditRecord>> AuditLog::ReadLeaves(
    uint32_t partition, uint64_t begin, uint64_t end) const {
  if (begin >= end) {
    return InvalidArgument(v1::PROOF_RANGE_INVALID,
                           absl::StrCat("empty leaf range [", begin, ", ", end, ")"));
  }
  if (absl::Status s = CheckRange(partition, end); !s.ok()) return s;
  std::vector<v1::AuditRecord> out;
  ChunkCursor leaves = ChunkCursor::Leaves(db_, store_->leaves(partition), partition);
  absl::Status read = leaves.ReadRange(begin, end, [&](uint64_t, absl::string_view data) {
    v1::AuditRecord& record = out.emplace_back();
    if (!record.ParseFromArray(data.data(), data.size())) {
      // Returned as stored: the verifier will find the hash differs.
      record.Clear();
    }
    record.set_leaf_data(std::string(data));
  });
  if (!read.ok()) return read;
  return out;
}

namespace {

// An index key ends with time(8) partition(4) index(8).
constexpr size_t kPlaceSuffix = 20;

}  // namespace

bool ActionMatches(absl::string_view want, absl::string_view action) {
  if (want.empty()) return true;
  if (want.back() == '.') return absl::StartsWith(action, want);
  return action == want;
}

absl::StatusOr<std::vector<v1::AuditRecord>> AuditLog::Query(
    const v1::AuditFilter& filter, int limit, const std::string& page_token,
    std::string* next_page_token) const {
  next_page_token->clear();
  std::string prefix;
  if (!filter.subject().empty()) {
    if (filter.subject().size() != 32) {
      return InvalidArgument(v1::FIELD_INVALID, "filter.subject is a 32-byte keyed hash");
    }
    prefix = "S" + filter.subject();
  } else if (!filter.actor().empty()) {
    prefix = "A" + filter.actor() + std::string(1, '\0');
  } else {
    return InvalidArgument(v1::FIELD_REQUIRED,
                           "a query names a subject or an actor (ExportEvents "
                           "without them reads the whole log)");
  }
  const int64_t start_us =
      filter.has_start_time() ? absl::ToUnixMicros(FromProtoTime(filter.start_time())) : 0;
  const int64_t end_us = filter.has_end_time()
                             ? absl::ToUnixMicros(FromProtoTime(filter.end_time()))
                             : INT64_MAX;
  if (end_us < start_us) {
    return InvalidArgument(v1::FIELD_INVALID, "filter.end_time is before start_time");
  }
  // Index keys below `bound`, newest first: the subject index's buffered
  // ones (read before the iterator opens: subject_index.h) merged with
  // RocksDB's.
  std::string bound;
  if (page_token.empty()) {
    bound = prefix;
    PutBigEndian64(static_cast<uint64_t>(end_us), &bound);  // Exclusive.
  } else if (!absl::WebSafeBase64Unescape(page_token, &bound) ||
             !absl::StartsWith(bound, prefix) ||
             bound.size() != prefix.size() + kPlaceSuffix) {
    return InvalidArgument(v1::PAGE_TOKEN_INVALID,
                           "page_token does not belong to this query");
  }
  std::vector<std::string> buffered;
  if (!filter.subject().empty()) buffered = subjects_->BufferedKeys(filter.subject(), bound);
  size_t b = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), store_->index()));
  it->SeekForPrev(bound);
  if (it->Valid() && it->key() == bound) it->Prev();
  std::vector<v1::AuditRecord> out;
  std::vector<std::unique_ptr<ChunkCursor>> cursors(options_.partitions);  // Made when needed.
  std::string last_returned;  // Index key of the last record in `out`.
  std::string key;
  for (;;) {
    const bool in_db = it->Valid() && it->key().starts_with(prefix);
    if (!in_db && b == buffered.size()) break;
    if (in_db && (b == buffered.size() || it->key().compare(buffered[b]) >= 0)) {
      key.assign(it->key().data(), it->key().size());
      if (b < buffered.size() && buffered[b] == key) ++b;  // Just ingested.
      it->Prev();
    } else {
      key = std::move(buffered[b++]);
    }
    if (key.size() != prefix.size() + kPlaceSuffix) continue;  // Another actor.
    uint64_t time_us = 0, index = 0;
    GetBigEndian64(key, prefix.size(), &time_us);
    GetBigEndian64(key, prefix.size() + 12, &index);
    uint32_t partition = 0;
    for (int i = 0; i < 4; ++i) {
      partition = (partition << 8) | static_cast<uint8_t>(key[prefix.size() + 8 + i]);
    }
    if (static_cast<int64_t>(time_us) < start_us) break;
    if (static_cast<int>(out.size()) == limit) {  // More may follow.
      absl::WebSafeBase64Escape(last_returned, next_page_token);
      break;
    }
    if (partition >= options_.partitions) {
      return absl::DataLossError(absl::StrCat("the audit index names partition ", partition));
    }
    std::unique_ptr<ChunkCursor>& leaves = cursors[partition];
    if (leaves == nullptr) {
      leaves = std::make_unique<ChunkCursor>(
          ChunkCursor::Leaves(db_, store_->leaves(partition), partition));
    }
    absl::StatusOr<v1::AuditRecord> read = ReadRecord(*leaves, partition, index);
    if (!read.ok()) return read.status();
    v1::AuditRecord& record = *read;
    // An index entry of a leaf since lost and refilled names another event.
    if (!filter.subject().empty() && record.event().subject() != filter.subject()) continue;
    if (!filter.actor().empty() && record.event().actor() != filter.actor()) continue;
    if (!ActionMatches(filter.action(), record.event().action())) continue;
    out.push_back(std::move(record));
    last_returned = key;
  }
  if (!it->status().ok()) return DbUnavailable(it->status(), "cannot read the audit index");
  return out;
}

absl::Status AuditLog::PutCheckpoint(const v1::Checkpoint& checkpoint) {
  if (absl::Status s = CheckPartition(checkpoint.partition()); !s.ok()) return s;
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_->Put(
      sync, CheckpointKey(checkpoint.partition(), checkpoint.tree_size()),
      checkpoint.SerializeAsString());
  return s.ok() ? absl::OkStatus() : DbUnavailable(s, "cannot store a checkpoint");
}

absl::StatusOr<v1::Checkpoint> AuditLog::LatestCheckpoint(uint32_t partition) const {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(CheckpointKey(partition, UINT64_MAX));
  v1::Checkpoint checkpoint;
  if (!it->Valid() || !it->key().starts_with(CheckpointPrefix(partition)) ||
      !checkpoint.ParseFromArray(it->value().data(), it->value().size())) {
    return NotFound(v1::PARTITION_UNKNOWN,
                    absl::StrCat("partition ", partition, " has no checkpoint yet"));
  }
  return checkpoint;
}

absl::StatusOr<std::vector<v1::Checkpoint>> AuditLog::ListCheckpoints(
    uint32_t partition, uint64_t from_size, int limit) const {
  if (absl::Status s = CheckPartition(partition); !s.ok()) return s;
  std::vector<v1::Checkpoint> out;
  const std::string prefix = CheckpointPrefix(partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(CheckpointKey(partition, from_size));
       it->Valid() && it->key().starts_with(prefix) &&
       static_cast<int>(out.size()) < limit;
       it->Next()) {
    v1::Checkpoint checkpoint;
    if (!checkpoint.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError("an unreadable checkpoint");
    }
    out.push_back(std::move(checkpoint));
  }
  return out;
}

}  // namespace eid::audit
