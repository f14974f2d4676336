#include "storage/shard/rocksdb_kv_store.h"

#include <algorithm>
#include <cstring>

#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "services/common/status.h"
#include "storage/shard/record_codec.h"

namespace eid::storage {
namespace {

int64_t ToMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

void SetTimestamp(int64_t micros, google::protobuf::Timestamp* t) {
  t->set_seconds(micros / 1000000);
  t->set_nanos((micros % 1000000) * 1000);
}

void FillRecord(const std::string& ns, const std::string& key,
                const StoredRecord& stored, bool keys_only, v1::Record* out) {
  out->set_namespace_(ns);
  out->set_key(key);
  if (!keys_only) out->set_value(std::string(stored.value));
  out->set_version(stored.version);
  if (stored.expires_at_us != 0) SetTimestamp(stored.expires_at_us, out->mutable_expires_at());
}

// Empty, or a key starting with the prefix.
bool InPrefix(const std::string& key, const std::string& prefix) {
  return key.empty() || absl::StartsWith(key, prefix);
}

// The first key after every key starting with the prefix; empty if none
// (an empty prefix, or one of only 0xff bytes).
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff)
    prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

// RocksDB tickers exported as Prometheus counters.
constexpr struct {
  rocksdb::Tickers ticker;
  const char* name;
  const char* help;
} kTickers[] = {
    {rocksdb::BLOCK_CACHE_HIT, "rocksdb_block_cache_hit_total", "Block cache hits."},
    {rocksdb::BLOCK_CACHE_MISS, "rocksdb_block_cache_miss_total", "Block cache misses."},
    {rocksdb::BLOOM_FILTER_USEFUL, "rocksdb_bloom_filter_useful_total",
     "Reads a bloom filter saved from touching a table."},
    {rocksdb::MEMTABLE_HIT, "rocksdb_memtable_hit_total", "Reads answered by a memtable."},
    {rocksdb::NUMBER_KEYS_READ, "rocksdb_keys_read_total", "Keys read."},
    {rocksdb::NUMBER_KEYS_WRITTEN, "rocksdb_keys_written_total", "Keys written."},
    {rocksdb::BYTES_WRITTEN, "rocksdb_bytes_written_total", "Bytes written."},
    {rocksdb::WAL_FILE_SYNCED, "rocksdb_wal_synced_total", "WAL fsyncs."},
    {rocksdb::COMPACTION_KEY_DROP_USER, "rocksdb_compaction_expired_dropped_total",
     "Expired records dropped by the compaction filter."},
    {rocksdb::STALL_MICROS, "rocksdb_write_stall_microseconds_total",
     "Time writers were stalled."},
};

class RocksDbMetrics : public prometheus::Collectable {
 public:
  RocksDbMetrics(std::shared_ptr<rocksdb::Statistics> statistics, rocksdb::DB* db,
                 std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : statistics_(std::move(statistics)), db_(db), handles_(std::move(handles)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    for (const auto& t : kTickers) {
      prometheus::MetricFamily f{t.name, t.help, prometheus::MetricType::Counter, {}};
      prometheus::ClientMetric m;
      m.counter.value = static_cast<double>(statistics_->getTickerCount(t.ticker));
      f.metric.push_back(m);
      out.push_back(std::move(f));
    }
    prometheus::MetricFamily keys{"rocksdb_estimated_keys",
                                  "RocksDB's estimate of live keys, by namespace.",
                                  prometheus::MetricType::Gauge, {}};
    prometheus::MetricFamily bytes{"rocksdb_live_sst_bytes",
                                   "Bytes of live SST files, by namespace.",
                                   prometheus::MetricType::Gauge, {}};
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      uint64_t n = 0, b = 0;
      db_->GetIntProperty(h, "rocksdb.estimate-num-keys", &n);
      db_->GetIntProperty(h, "rocksdb.live-sst-files-size", &b);
      prometheus::ClientMetric mk, mb;
      mk.label = mb.label = {{"namespace", h->GetName()}};
      mk.gauge.value = static_cast<double>(n);
      mb.gauge.value = static_cast<double>(b);
      keys.metric.push_back(mk);
      bytes.metric.push_back(mb);
    }
    out.push_back(std::move(keys));
    out.push_back(std::move(bytes));
    return out;
  }

 private:
  std::shared_ptr<rocksdb::Statistics> statistics_;
  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace

// Drops records whose expiry has passed when compaction meets them.
class RocksDbKvStore::ExpiryFilter : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryFilter(Clock& clock) : clock_(clock) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value,
              std::string*, bool*) const override {
    StoredRecord r;
    return DecodeRecord(absl::string_view(value.data(), value.size()), &r) &&
           r.ExpiredAt(absl::ToUnixMicros(clock_.Now()));
  }
  const char* Name() const override { return "eid.ExpiryFilter"; }

 private:
  Clock& clock_;
};

struct RocksDbKvStore::Write {
  rocksdb::ColumnFamilyHandle* cf;
  bool synced;
  const std::string* ns;
  const std::string* key;
  bool is_delete;
  const std::string* value;
  int64_t expires_at_us;
  bool has_expected;
  uint64_t expected;
};

RocksDbKvStore::RocksDbKvStore(const Options& options, Clock& clock)
    : options_(options), clock_(clock), filter_(std::make_unique<ExpiryFilter>(clock)) {}

absl::StatusOr<std::unique_ptr<RocksDbKvStore>> RocksDbKvStore::Open(
    const Options& options, Clock& clock) {
  std::unique_ptr<RocksDbKvStore> store(new RocksDbKvStore(options, clock));

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.compaction_filter = store->filter_.get();

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  store->statistics_ = rocksdb::CreateDBStatistics();
  store->statistics_->set_stats_level(rocksdb::StatsLevel::kExceptTimeForMutex);
  db_options.statistics = store->statistics_;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options}};
  for (const NamespaceSpec& spec : Namespaces()) {
    families.emplace_back(std::string(spec.name), cf_options);
  }
  // Families of a newer release that this one does not know stay opened
  // (RocksDB requires it) but unserved.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing).ok()) {
    for (const std::string& name : existing) {
      if (std::none_of(families.begin(), families.end(),
                       [&](const auto& f) { return f.name == name; })) {
        families.emplace_back(name, cf_options);
      }
    }
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, families, &store->handles_, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open RocksDB at ", options.path, ": ", s.ToString()));
  }
  store->db_.reset(db);
  for (rocksdb::ColumnFamilyHandle* h : store->handles_) {
    if (const NamespaceSpec* spec = FindNamespace(h->GetName())) {
      store->families_[h->GetName()] = {h, spec->synced};
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> served;
  for (auto& [name, entry] : store->families_) served.push_back(entry.first);
  store->metrics_ = std::make_shared<RocksDbMetrics>(store->statistics_, db, served);
  return store;
}

RocksDbKvStore::~RocksDbKvStore() {
  if (db_ == nullptr) return;  // Open failed.
  for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*> RocksDbKvStore::Family(
    const std::string& ns, bool* synced) const {
  auto it = families_.find(ns);
  if (it == families_.end()) {
    return InvalidArgument(v1::NAMESPACE_UNKNOWN,
                           absl::StrCat("no namespace \"", ns, "\""));
  }
  if (synced != nullptr) *synced = it->second.second;
  return it->second.first;
}

absl::Status RocksDbKvStore::CheckKey(const std::string& key) const {
  if (key.empty()) return InvalidArgument(v1::KEY_EMPTY, "key is empty");
  if (key.size() > options_.max_key_bytes) {
    return InvalidArgument(v1::KEY_TOO_LARGE,
                           absl::StrCat("key is ", key.size(), " bytes; at most ",
                                        options_.max_key_bytes));
  }
  return absl::OkStatus();
}

absl::Status RocksDbKvStore::CheckValue(const std::string& value) const {
  if (value.empty()) return InvalidArgument(v1::VALUE_EMPTY, "value is empty");
  if (value.size() > options_.max_value_bytes) {
    return InvalidArgument(v1::VALUE_TOO_LARGE,
                           absl::StrCat("value is ", value.size(), " bytes; at most ",
                                        options_.max_value_bytes));
  }
  return absl::OkStatus();
}

absl::Status RocksDbKvStore::ReadLive(rocksdb::ColumnFamilyHandle* cf,
                                      const std::string& key, int64_t now_us,
                                      std::string* raw, bool* found,
                                      v1::Record* out) {
  *found = false;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, raw);
  if (s.IsNotFound()) return absl::OkStatus();
  if (!s.ok()) return FromRocks(s, "read");
  StoredRecord stored;
  if (!DecodeRecord(*raw, &stored)) {
    return absl::DataLossError(absl::StrCat("undecodable record in ", cf->GetName()));
  }
  if (stored.ExpiredAt(now_us)) return absl::OkStatus();
  *found = true;
  if (out != nullptr) FillRecord(cf->GetName(), key, stored, false, out);
  return absl::OkStatus();
}

uint64_t RocksDbKvStore::NextVersion(uint64_t before, int64_t now_us) {
  uint64_t last = last_version_.load(std::memory_order_relaxed);
  for (;;) {
    const uint64_t version =
        std::max({before + 1, static_cast<uint64_t>(now_us), last + 1});
    if (last_version_.compare_exchange_weak(last, version)) return version;
  }
}

absl::Mutex& RocksDbKvStore::StripeFor(const std::string& ns,
                                       const std::string& key) {
  return stripes_[absl::HashOf(ns, key) % stripes_.size()];
}

absl::StatusOr<v1::GetResponse> RocksDbKvStore::Get(const v1::GetRequest& r) {
  auto cf = Family(r.namespace_(), nullptr);
  if (!cf.ok()) return cf.status();
  if (absl::Status s = CheckKey(r.key()); !s.ok()) return s;
  v1::GetResponse response;
  std::string raw;
  bool found = false;
  absl::Status s = ReadLive(*cf, r.key(), absl::ToUnixMicros(clock_.Now()), &raw,
                            &found, response.mutable_record());
  if (!s.ok()) return s;
  response.set_found(found);
  if (!found) response.clear_record();
  return response;
}

absl::StatusOr<v1::MultiGetResponse> RocksDbKvStore::MultiGet(
    const v1::MultiGetRequest& r) {
  if (r.keys_size() > options_.max_batch_items) {
    return InvalidArgument(v1::BATCH_TOO_LARGE,
                           absl::StrCat(r.keys_size(), " keys; at most ",
                                        options_.max_batch_items));
  }
  v1::MultiGetResponse response;
  const int64_t now_us = absl::ToUnixMicros(clock_.Now());
  for (int i = 0; i < r.keys_size(); ++i) {
    const v1::RecordKey& k = r.keys(i);
    auto cf = Family(k.namespace_(), nullptr);
    absl::Status s = cf.ok() ? CheckKey(k.key()) : cf.status();
    if (!s.ok()) return WithMetadata(s, "index", absl::StrCat(i));
    v1::MultiGetResult* result = response.add_results();
    std::string raw;
    bool found = false;
    s = ReadLive(*cf, k.key(), now_us, &raw, &found, result->mutable_record());
    if (!s.ok()) return s;
    result->set_found(found);
    if (!found) result->clear_record();
  }
  return response;
}

absl::StatusOr<std::vector<uint64_t>> RocksDbKvStore::Apply(
    std::vector<Write>& writes) {
  // Lock every stripe involved, in index order (no deadlock between batches).
  std::vector<absl::Mutex*> locks;
  for (const Write& w : writes) locks.push_back(&StripeFor(*w.ns, *w.key));
  std::sort(locks.begin(), locks.end());
  locks.erase(std::unique(locks.begin(), locks.end()), locks.end());
  for (absl::Mutex* m : locks) m->Lock();
  struct Unlock {
    std::vector<absl::Mutex*>& locks;
    ~Unlock() {
      for (auto it = locks.rbegin(); it != locks.rend(); ++it) (*it)->Unlock();
    }
  } unlock{locks};

  const int64_t now_us = absl::ToUnixMicros(clock_.Now());
  rocksdb::WriteBatch batch;
  bool sync = false;
  std::vector<uint64_t> versions;
  versions.reserve(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    const Write& w = writes[i];
    std::string raw;
    bool found = false;
    v1::Record current;
    if (absl::Status s = ReadLive(w.cf, *w.key, now_us, &raw, &found, &current);
        !s.ok()) {
      return s;
    }
    const uint64_t actual = found ? current.version() : 0;
    if (w.has_expected && w.expected != actual) {
      absl::Status s = Aborted(
          v1::VERSION_MISMATCH,
          absl::StrCat("expected version ", w.expected, ", record has ", actual));
      s = WithMetadata(s, "actual_version", absl::StrCat(actual));
      return writes.size() > 1 ? WithMetadata(s, "index", absl::StrCat(i)) : s;
    }
    // Hybrid clock: above the previous version (live or expired) and now.
    StoredRecord previous;
    const uint64_t before = DecodeRecord(raw, &previous) ? previous.version : 0;
    const uint64_t version = NextVersion(before, now_us);
    rocksdb::Status s =
        w.is_delete ? batch.Delete(w.cf, *w.key)
                    : batch.Put(w.cf, *w.key,
                                EncodeRecord(version, w.expires_at_us, *w.value));
    if (!s.ok()) return FromRocks(s, "batch");
    sync = sync || w.synced;
    versions.push_back(version);
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = sync;
  rocksdb::Status s = db_->Write(write_options, &batch);
  if (!s.ok()) return FromRocks(s, "write");
  return versions;
}

namespace {

// Validates expiry: unset (0) or in the future.
absl::StatusOr<int64_t> ExpiryMicros(bool has, const google::protobuf::Timestamp& t,
                                     absl::Time now) {
  if (!has) return 0;
  const int64_t us = ToMicros(t);
  if (us <= absl::ToUnixMicros(now)) {
    return InvalidArgument(v1::EXPIRY_INVALID, "expires_at is not in the future");
  }
  return us;
}

}  // namespace

absl::StatusOr<v1::PutResponse> RocksDbKvStore::Put(const v1::PutRequest& r) {
  v1::BatchRequest batch;
  v1::Mutation* m = batch.add_mutations();
  m->set_namespace_(r.namespace_());
  m->set_key(r.key());
  m->set_put_value(r.value());
  if (r.has_expires_at()) *m->mutable_expires_at() = r.expires_at();
  auto done = Batch(batch);
  if (!done.ok()) return done.status();
  v1::PutResponse response;
  response.set_version(done->versions(0));
  return response;
}

absl::StatusOr<v1::DeleteResponse> RocksDbKvStore::Delete(
    const v1::DeleteRequest& r) {
  v1::GetRequest get;
  get.set_namespace_(r.namespace_());
  get.set_key(r.key());
  auto existing = Get(get);
  if (!existing.ok()) return existing.status();
  v1::BatchRequest batch;
  v1::Mutation* m = batch.add_mutations();
  m->set_namespace_(r.namespace_());
  m->set_key(r.key());
  m->set_delete_record(true);
  auto done = Batch(batch);
  if (!done.ok()) return done.status();
  v1::DeleteResponse response;
  response.set_existed(existing->found());
  return response;
}

absl::StatusOr<v1::CompareAndSwapResponse> RocksDbKvStore::CompareAndSwap(
    const v1::CompareAndSwapRequest& r) {
  v1::BatchRequest batch;
  v1::Mutation* m = batch.add_mutations();
  m->set_namespace_(r.namespace_());
  m->set_key(r.key());
  if (r.delete_record()) {
    m->set_delete_record(true);
  } else {
    m->set_put_value(r.value());
    if (r.has_expires_at()) *m->mutable_expires_at() = r.expires_at();
  }
  m->set_expected_version(r.expected_version());
  auto done = Batch(batch);
  if (!done.ok()) return done.status();
  v1::CompareAndSwapResponse response;
  response.set_version(done->versions(0));
  return response;
}

uint64_t RocksDbKvStore::wal_syncs() const {
  return statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED);
}

absl::StatusOr<v1::BatchResponse> RocksDbKvStore::Batch(const v1::BatchRequest& r) {
  const int n = r.mutations_size();
  if (n == 0) return v1::BatchResponse();
  if (n > options_.max_batch_items) {
    return InvalidArgument(v1::BATCH_TOO_LARGE, absl::StrCat(n, " mutations; at most ",
                                                             options_.max_batch_items));
  }
  const absl::Time now = clock_.Now();
  std::vector<Write> writes;
  writes.reserve(n);
  size_t bytes = 0;
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, int> seen;
  for (int i = 0; i < n; ++i) {
    const v1::Mutation& m = r.mutations(i);
    Write w{};
    auto cf = Family(m.namespace_(), &w.synced);
    w.synced = w.synced && !r.defer_sync();
    absl::Status s = cf.ok() ? CheckKey(m.key()) : cf.status();
    w.is_delete = m.op_case() == v1::Mutation::kDeleteRecord;
    if (s.ok() && !w.is_delete) s = CheckValue(m.put_value());
    absl::StatusOr<int64_t> expiry = 0;
    if (s.ok() && !w.is_delete) {
      expiry = ExpiryMicros(m.has_expires_at(), m.expires_at(), now);
      s = expiry.status();
    }
    if (s.ok() && !seen.emplace(std::make_pair(absl::string_view(m.namespace_()),
                                               absl::string_view(m.key())), i).second) {
      s = InvalidArgument(v1::BATCH_DUPLICATE_KEY, "a key appears twice in the batch");
    }
    if (!s.ok()) {
      return n > 1 ? WithMetadata(WithContext(s, absl::StrCat("mutations[", i, "]")),
                                  "index", absl::StrCat(i))
                   : s;
    }
    w.cf = *cf;
    w.ns = &m.namespace_();
    w.key = &m.key();
    w.value = &m.put_value();
    w.expires_at_us = *expiry;
    w.has_expected = m.has_expected_version();
    w.expected = m.expected_version();
    bytes += m.key().size() + m.put_value().size();
    writes.push_back(w);
  }
  if (bytes > options_.max_batch_bytes) {
    return InvalidArgument(v1::BATCH_TOO_LARGE, absl::StrCat(bytes, " bytes; at most ",
                                                             options_.max_batch_bytes));
  }
  auto versions = Apply(writes);
  if (!versions.ok()) return versions.status();
  v1::BatchResponse response;
  for (uint64_t v : *versions) response.add_versions(v);
  return response;
}

absl::StatusOr<v1::ScanResponse> RocksDbKvStore::Scan(const v1::ScanRequest& r) {
  auto cf = Family(r.namespace_(), nullptr);
  if (!cf.ok()) return cf.status();
  if (r.prefix().size() > options_.max_key_bytes) {
    return InvalidArgument(v1::KEY_TOO_LARGE, "prefix is longer than any key");
  }
  if (!InPrefix(r.start_at(), r.prefix()) ||
      !InPrefix(r.stop_before(), r.prefix()) ||
      (!r.stop_before().empty() && r.stop_before() <= r.start_at())) {
    return InvalidArgument(v1::SCAN_RANGE_INVALID,
                           "start_at and stop_before must begin with the "
                           "prefix, stop_before after start_at");
  }
  std::string start = std::max(r.prefix(), r.start_at());
  bool skip_start = false;
  if (!r.page_token().empty()) {
    // The token is the last key returned, web-safe base64.
    std::string last;
    if (!absl::WebSafeBase64Unescape(r.page_token(), &last) ||
        !absl::StartsWith(last, r.prefix()) || last.empty()) {
      return InvalidArgument(v1::PAGE_TOKEN_INVALID,
                             "page_token does not belong to this scan");
    }
    start = last;
    skip_start = true;
  }
  const int limit = r.limit() <= 0 ? 100 : std::min(r.limit(), options_.max_scan_limit);
  const int64_t now_us = absl::ToUnixMicros(clock_.Now());
  // The iterator stops at the bound instead of stepping over whatever
  // follows the range, deleted keys included.
  const std::string stop = r.stop_before().empty() ? PrefixSuccessor(r.prefix())
                                                   : r.stop_before();
  const rocksdb::Slice upper(stop);
  rocksdb::ReadOptions read;
  if (!stop.empty()) read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, *cf));
  v1::ScanResponse response;
  std::string last_key;
  for (it->Seek(start); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (!key.starts_with(r.prefix())) break;
    if (skip_start && key == start) continue;
    StoredRecord stored;
    const rocksdb::Slice v = it->value();
    if (!DecodeRecord(absl::string_view(v.data(), v.size()), &stored)) {
      return absl::DataLossError("undecodable record");
    }
    if (stored.ExpiredAt(now_us)) continue;
    if (response.records_size() == limit) {
      absl::WebSafeBase64Escape(last_key, response.mutable_next_page_token());
      break;
    }
    last_key = key.ToString();
    FillRecord(r.namespace_(), last_key, stored, r.keys_only(),
               response.add_records());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scan");
  return response;
}

std::vector<v1::NamespaceInfo> RocksDbKvStore::NamespaceInfos() {
  std::vector<v1::NamespaceInfo> out;
  for (const NamespaceSpec& spec : Namespaces()) {
    auto it = families_.find(spec.name);
    if (it == families_.end()) continue;
    v1::NamespaceInfo info;
    info.set_name(std::string(spec.name));
    info.set_synced(spec.synced);
    uint64_t n = 0, b = 0;
    db_->GetIntProperty(it->second.first, "rocksdb.estimate-num-keys", &n);
    db_->GetIntProperty(it->second.first, "rocksdb.live-sst-files-size", &b);
    info.set_approximate_keys(n);
    info.set_approximate_bytes(b);
    out.push_back(std::move(info));
  }
  return out;
}

absl::Status RocksDbKvStore::CompactAll() {
  for (auto& [name, entry] : families_) {
    rocksdb::Status s = db_->Flush(rocksdb::FlushOptions(), entry.first);
    if (s.ok()) {
      s = db_->CompactRange(rocksdb::CompactRangeOptions(), entry.first, nullptr,
                            nullptr);
    }
    if (!s.ok()) return FromRocks(s, "compact");
  }
  return absl::OkStatus();
}

bool RocksDbKvStore::RawExists(const std::string& ns, const std::string& key) {
  auto cf = Family(ns, nullptr);
  std::string raw;
  return cf.ok() && db_->Get(rocksdb::ReadOptions(), *cf, key, &raw).ok();
}

}  // namespace eid::storage
