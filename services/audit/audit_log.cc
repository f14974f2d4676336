#include "services/audit/audit_log.h"

#include <sys/stat.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "services/audit/audit_keys.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "storage/router/shard_hash.h"

namespace eid::audit {
namespace {

constexpr char kPartitionsKey[] = "M/partitions";
constexpr size_t kMaxEventIdBytes = 128;

// Event i of the group, for messages: "events[3]".
std::string At(size_t i) { return absl::StrCat("events[", i, "]"); }

// The exact bytes hashed as a leaf: the record, serialized deterministically
// (map entries sorted), so the same record always hashes the same.
std::string LeafData(const v1::AuditRecord& record) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    record.SerializeToCodedStream(&coded);
  }
  return out;
}

absl::Status DbError(const rocksdb::Status& s, absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", s.ToString()));
}

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// The largest power of two below n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

}  // namespace

struct AuditLog::Request {
  absl::Span<const v1::AuditEvent> events;
  absl::StatusOr<std::vector<Placement>> result;
  bool done = false;
};

AuditLog::AuditLog(const Options& options, Clock& clock)
    : options_(options), clock_(clock) {}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const Options& options,
                                                        Clock& clock) {
  if (options.partitions == 0) {
    return absl::InvalidArgumentError("the audit log needs a partition");
  }
  std::unique_ptr<AuditLog> log(new AuditLog(options, clock));
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the audit log at ", options.path, ": ", s.ToString()));
  }
  log->db_.reset(db);

  std::string stored;
  s = db->Get(rocksdb::ReadOptions(), kPartitionsKey, &stored);
  const std::string want = absl::StrCat(options.partitions);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    s = db->Put(sync, kPartitionsKey, want);
    if (!s.ok()) return DbError(s, "cannot initialise the audit log");
  } else if (!s.ok()) {
    return DbError(s, "cannot read the audit log");
  } else if (stored != want) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the audit log at ", options.path, " has ", stored,
        " partitions, not ", want, "; partitions cannot change"));
  }

  // Rebuild each frontier: the size from the last leaf, then the perfect
  // subtrees that size is made of, largest first.
  std::vector<CompactRange> trees(options.partitions);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (uint32_t p = 0; p < options.partitions; ++p) {
    const std::string first = LeafKey(p, 0);
    it->SeekForPrev(LeafKey(p, UINT64_MAX));
    uint64_t last = 0, size = 0;
    if (it->Valid() && it->key().starts_with(first.substr(0, 5)) &&
        GetBigEndian64(absl::string_view(it->key().data(), it->key().size()), 5,
                       &last)) {
      size = last + 1;
    }
    std::vector<Hash> hashes;
    uint64_t start = 0;
    for (int level = 63; level >= 0; --level) {
      if (!((size >> level) & 1)) continue;
      std::string hash;
      s = db->Get(rocksdb::ReadOptions(), NodeKey(p, level, start >> level), &hash);
      if (!s.ok() || hash.size() != 32) {
        return absl::DataLossError(absl::StrCat(
            "audit partition ", p, ": the subtree at level ", level, " index ",
            start >> level, " is missing; run eidctl audit verify"));
      }
      hashes.emplace_back();
      std::copy(hash.begin(), hash.end(), hashes.back().begin());
      start += uint64_t{1} << level;
    }
    absl::StatusOr<CompactRange> tree = CompactRange::FromHashes(size, std::move(hashes));
    if (!tree.ok()) return tree.status();
    trees[p] = std::move(*tree);
  }
  {
    absl::MutexLock lock(&log->trees_mu_);
    log->trees_ = std::move(trees);
  }
  log->committer_ = std::thread([l = log.get()] { l->CommitLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  if (committer_.joinable()) committer_.join();
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
  if (events.empty()) return std::vector<Placement>();
  Request request;
  request.events = events;
  absl::MutexLock lock(&queue_mu_);
  if (stopping_) return absl::UnavailableError("the audit log is closing");
  queue_.push_back(&request);
  queue_mu_.Await(absl::Condition(&request.done));
  return std::move(request.result);
}

void AuditLog::CommitLoop() {
  for (;;) {
    std::vector<Request*> group;
    {
      absl::MutexLock lock(&queue_mu_);
      const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        return !queue_.empty() || stopping_;
      };
      queue_mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // Stopping, nothing left to answer.
      size_t events = 0;
      while (!queue_.empty() &&
             (group.empty() ||
              events + queue_.front()->events.size() <= options_.max_group_events)) {
        events += queue_.front()->events.size();
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    Commit(group);
    absl::MutexLock lock(&queue_mu_);
    for (Request* r : group) r->done = true;
  }
}

void AuditLog::Commit(std::vector<Request*>& group) {
  std::vector<CompactRange> trees;
  {
    absl::MutexLock lock(&trees_mu_);
    trees = trees_;  // Only this thread changes them.
  }
  const absl::Time now = clock_.Now();
  // The group's writes, sorted before they go into one WriteBatch: RocksDB
  // inserts a batch into its memtable in order, and sorted keys let each
  // insert start from where the previous one ended (measured: unsorted, the
  // skip-list searches were most of a commit's CPU).
  std::vector<std::pair<std::string, std::string>> writes;
  const auto put = [&writes](std::string key, std::string value) {
    writes.emplace_back(std::move(key), std::move(value));
  };
  absl::flat_hash_map<std::string, Placement> placed;  // In this group.
  std::vector<std::vector<Placement>> results(group.size());
  for (size_t r = 0; r < group.size(); ++r) {
    for (const v1::AuditEvent& event : group[r]->events) {
      Placement place;
      if (auto it = placed.find(event.event_id()); it != placed.end()) {
        place = it->second;
        place.duplicate = true;
        results[r].push_back(place);
        continue;
      }
      std::string existing;
      rocksdb::Status s =
          db_->Get(rocksdb::ReadOptions(), EventIdKey(event.event_id()), &existing);
      if (s.ok() && ParsePlace(existing, &place.partition, &place.leaf_index)) {
        place.duplicate = true;
        results[r].push_back(place);
        continue;
      }
      place.partition = PartitionOf(event);
      CompactRange& tree = trees[place.partition];
      place.leaf_index = tree.size();

      v1::AuditRecord record;
      *record.mutable_event() = event;
      record.set_partition(place.partition);
      record.set_leaf_index(place.leaf_index);
      ToProtoTime(now, record.mutable_recorded_at());
      const std::string data = LeafData(record);
      put(LeafKey(place.partition, place.leaf_index), data);
      // Leaf hashes are stored too: an auditor can then tell which leaf's
      // bytes no longer match the hash the signed tree was built from.
      absl::Status appended =
          tree.Append(LeafHash(data), [&](int level, uint64_t index, const Hash& h) {
            put(NodeKey(place.partition, level, index),
                std::string(reinterpret_cast<const char*>(h.data()), h.size()));
          });
      if (!appended.ok()) {
        for (Request* r : group) r->result = appended;
        return;
      }
      put(EventIdKey(event.event_id()),
                PlaceValue(place.partition, place.leaf_index));
      const int64_t time_us = absl::ToUnixMicros(FromProtoTime(event.time()));
      if (!event.subject().empty()) {
        put(SubjectIndexKey(event.subject(), time_us, place.partition,
                                  place.leaf_index), "");
      }
      put(ActorIndexKey(event.actor(), time_us, place.partition,
                              place.leaf_index), "");
      placed[event.event_id()] = place;
      results[r].push_back(place);
    }
  }
  std::sort(writes.begin(), writes.end());
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : writes) batch.Put(key, value);
  rocksdb::WriteOptions sync;
  sync.sync = true;  // Acknowledged only once on disk.
  rocksdb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) {
    for (Request* r : group) r->result = DbError(s, "the audit log is not durable");
    return;
  }
  {
    absl::MutexLock lock(&trees_mu_);
    trees_ = std::move(trees);
  }
  for (size_t r = 0; r < group.size(); ++r) group[r]->result = std::move(results[r]);
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
  const uint64_t n = end - begin;
  if (IsPowerOfTwo(n) && begin % n == 0) {
    const int level = __builtin_ctzll(n);
    std::string stored;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(),
                                 NodeKey(partition, level, begin >> level), &stored);
    if (!s.ok() || stored.size() != 32) {
      return absl::DataLossError(absl::StrCat("audit partition ", partition,
                                              ": subtree [", begin, ", ", end,
                                              ") is missing"));
    }
    Hash h;
    std::copy(stored.begin(), stored.end(), h.begin());
    return h;
  }
  const uint64_t k = SplitPoint(n);  // n >= 3 here.
  absl::StatusOr<Hash> left = SubtreeHash(partition, begin, begin + k);
  if (!left.ok()) return left.status();
  absl::StatusOr<Hash> right = SubtreeHash(partition, begin + k, end);
  if (!right.ok()) return right.status();
  return NodeHash(*left, *right);
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
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  uint64_t expected = begin;
  for (it->Seek(LeafKey(partition, begin)); expected < end; it->Next(), ++expected) {
    if (!it->Valid() || it->key() != LeafKey(partition, expected)) {
      return absl::DataLossError(absl::StrCat("audit partition ", partition,
                                              ": leaf ", expected, " is missing"));
    }
    v1::AuditRecord record;
    if (!record.ParseFromArray(it->value().data(), it->value().size())) {
      // Returned as stored: the verifier will find the hash differs.
      record.Clear();
    }
    record.set_leaf_data(it->value().ToString());
    out.push_back(std::move(record));
  }
  return out;
}

namespace {

// An index key ends with time(8) partition(4) index(8).
constexpr size_t kPlaceSuffix = 20;

bool ActionMatches(absl::string_view want, absl::string_view action) {
  if (want.empty()) return true;
  if (want.back() == '.') return absl::StartsWith(action, want);
  return action == want;
}

}  // namespace

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
                           "reads everything)");
  }
  const int64_t start_us =
      filter.has_start_time() ? absl::ToUnixMicros(FromProtoTime(filter.start_time())) : 0;
  const int64_t end_us = filter.has_end_time()
                             ? absl::ToUnixMicros(FromProtoTime(filter.end_time()))
                             : INT64_MAX;
  if (end_us < start_us) {
    return InvalidArgument(v1::FIELD_INVALID, "filter.end_time is before start_time");
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  if (page_token.empty()) {
    std::string upper = prefix;
    PutBigEndian64(static_cast<uint64_t>(end_us), &upper);  // Exclusive.
    it->SeekForPrev(upper);
  } else {
    std::string after;
    if (!absl::WebSafeBase64Unescape(page_token, &after) ||
        !absl::StartsWith(after, prefix) || after.size() != prefix.size() + kPlaceSuffix) {
      return InvalidArgument(v1::PAGE_TOKEN_INVALID,
                             "page_token does not belong to this query");
    }
    it->SeekForPrev(after);
    if (it->Valid() && it->key() == after) it->Prev();
  }
  std::vector<v1::AuditRecord> out;
  std::string last_returned;  // Index key of the last record in `out`.
  for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    const absl::string_view key(it->key().data(), it->key().size());
    if (key.size() != prefix.size() + kPlaceSuffix) continue;  // Another actor.
    uint64_t time_us = 0, index = 0;
    GetBigEndian64(key, prefix.size(), &time_us);
    GetBigEndian64(key, prefix.size() + 12, &index);
    uint32_t partition = 0;
    for (int b = 0; b < 4; ++b) {
      partition = (partition << 8) | static_cast<uint8_t>(key[prefix.size() + 8 + b]);
    }
    if (static_cast<int64_t>(time_us) < start_us) break;
    if (static_cast<int>(out.size()) == limit) {  // More may follow.
      absl::WebSafeBase64Escape(last_returned, next_page_token);
      break;
    }
    std::string leaf;
    v1::AuditRecord record;
    if (!db_->Get(rocksdb::ReadOptions(), LeafKey(partition, index), &leaf).ok() ||
        !record.ParseFromString(leaf)) {
      return absl::DataLossError(absl::StrCat("audit partition ", partition, ": leaf ",
                                              index, " is missing or unreadable"));
    }
    if (!filter.actor().empty() && record.event().actor() != filter.actor()) continue;
    if (!ActionMatches(filter.action(), record.event().action())) continue;
    out.push_back(std::move(record));
    last_returned.assign(key.data(), key.size());
  }
  return out;
}

absl::Status AuditLog::PutCheckpoint(const v1::Checkpoint& checkpoint) {
  if (absl::Status s = CheckPartition(checkpoint.partition()); !s.ok()) return s;
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_->Put(
      sync, CheckpointKey(checkpoint.partition(), checkpoint.tree_size()),
      checkpoint.SerializeAsString());
  return s.ok() ? absl::OkStatus() : DbError(s, "cannot store a checkpoint");
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
