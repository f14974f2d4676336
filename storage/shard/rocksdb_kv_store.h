// RocksDbKvStore: a shard's records in one RocksDB, one column family per
// namespace (namespaces.h).
//
// - Versions are hybrid-clock values: a write sets the largest of the key's
//   previous version + 1, now in µs, and the last version this store issued
//   + 1. So a key re-created after a delete gets a version above any it had,
//   across restarts too unless the clock stepped back across the restart.
// - Writes to a key are serialised by one of 1024 striped locks, which makes
//   compare-and-swap and batches atomic; reads take no lock.
// - Expired records are invisible to reads at once and dropped from disk by
//   a compaction filter.
// - A write touching a synced namespace is acknowledged only after the WAL
//   is fsync'd, unless it is a batch with defer_sync (storage.proto).
// - Point lookups: 10-bit bloom filters, a shared LRU block cache.
// - RocksDB statistics are exported as Prometheus metrics (rocksdb_*).
//
// Thread-safe.
#ifndef EID_STORAGE_SHARD_ROCKSDB_KV_STORE_H_
#define EID_STORAGE_SHARD_ROCKSDB_KV_STORE_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "rocksdb/db.h"
#include "services/common/clock.h"
#include "storage/shard/kv_store.h"
#include "storage/shard/namespaces.h"

namespace eid::storage {

class RocksDbKvStore : public KvStore {
 public:
  struct Options {
    std::string path;                 // RocksDB directory (created).
    size_t block_cache_bytes = 256 << 20;
    size_t max_key_bytes = 1024;
    size_t max_value_bytes = 1 << 20;
    int max_batch_items = 1000;
    size_t max_batch_bytes = 8 << 20;
    int max_scan_limit = 1000;
  };

  // Opens (creating if needed) the database. FAILED_PRECONDITION if RocksDB
  // cannot open it (e.g. another process holds its lock).
  static absl::StatusOr<std::unique_ptr<RocksDbKvStore>> Open(
      const Options& options, Clock& clock);
  ~RocksDbKvStore() override;

  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& r) override;
  absl::StatusOr<v1::MultiGetResponse> MultiGet(
      const v1::MultiGetRequest& r) override;
  absl::StatusOr<v1::PutResponse> Put(const v1::PutRequest& r) override;
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& r) override;
  absl::StatusOr<v1::CompareAndSwapResponse> CompareAndSwap(
      const v1::CompareAndSwapRequest& r) override;
  absl::StatusOr<v1::BatchResponse> Batch(const v1::BatchRequest& r) override;
  absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& r) override;

  // Per-namespace sizes for GetShardInfo.
  std::vector<v1::NamespaceInfo> NamespaceInfos();
  // Forces a full compaction (tests: expired records leave the disk).
  absl::Status CompactAll();
  // Reads the raw stored bytes of a key, expired or not (tests).
  bool RawExists(const std::string& ns, const std::string& key);

  const Options& options() const { return options_; }
  // The RocksDB statistics as Prometheus metrics, for a metrics endpoint.
  std::shared_ptr<prometheus::Collectable> metrics() const { return metrics_; }
  // WAL fsyncs since open (rocksdb_wal_synced_total).
  uint64_t wal_syncs() const;

 private:
  class ExpiryFilter;
  struct Write;  // One validated mutation.

  RocksDbKvStore(const Options& options, Clock& clock);

  absl::StatusOr<rocksdb::ColumnFamilyHandle*> Family(const std::string& ns,
                                                      bool* synced) const;
  absl::Status CheckKey(const std::string& key) const;
  absl::Status CheckValue(const std::string& value) const;
  // Reads the live record (version 0 if absent or expired).
  absl::Status ReadLive(rocksdb::ColumnFamilyHandle* cf, const std::string& key,
                        int64_t now_us, std::string* raw, bool* found,
                        v1::Record* out);
  absl::StatusOr<std::vector<uint64_t>> Apply(std::vector<Write>& writes);
  absl::Mutex& StripeFor(const std::string& ns, const std::string& key);
  uint64_t NextVersion(uint64_t before, int64_t now_us);

  const Options options_;
  Clock& clock_;
  std::unique_ptr<ExpiryFilter> filter_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  absl::flat_hash_map<std::string, std::pair<rocksdb::ColumnFamilyHandle*, bool>>
      families_;  // name -> (handle, synced); fixed after Open.
  std::array<absl::Mutex, 1024> stripes_;
  std::atomic<uint64_t> last_version_{0};
  std::shared_ptr<prometheus::Collectable> metrics_;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_SHARD_ROCKSDB_KV_STORE_H_
