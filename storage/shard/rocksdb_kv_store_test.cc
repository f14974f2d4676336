#include "storage/shard/rocksdb_kv_store.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "storage/shard/kv_store_conformance.h"

namespace eid::storage {
namespace {

struct RocksDbUnderTest : KvStoreUnderTest {
  std::unique_ptr<RocksDbKvStore> db;
  KvStore& store() override { return *db; }
};

std::unique_ptr<KvStoreUnderTest> MakeRocksDb(const std::string& dir, Clock& clock) {
  auto out = std::make_unique<RocksDbUnderTest>();
  RocksDbKvStore::Options options;
  options.path = dir;
  options.block_cache_bytes = 8 << 20;
  auto db = RocksDbKvStore::Open(options, clock);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return nullptr;
  out->db = std::move(*db);
  return out;
}

INSTANTIATE_TEST_SUITE_P(RocksDb, KvStoreConformanceTest, ::testing::Values(&MakeRocksDb));

std::string Dir(const std::string& name) {
  return std::string(getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(RocksDbKvStoreTest, RecordsSurviveAReopen) {
  FakeClock clock;
  RocksDbKvStore::Options options;
  options.path = Dir("reopen");
  {
    auto db = RocksDbKvStore::Open(options, clock);
    ASSERT_TRUE(db.ok());
    v1::PutRequest put;
    put.set_namespace_("accounts");
    put.set_key("k");
    put.set_value("kept");
    ASSERT_TRUE((*db)->Put(put).ok());
  }
  auto db = RocksDbKvStore::Open(options, clock);
  ASSERT_TRUE(db.ok()) << db.status();
  v1::GetRequest get;
  get.set_namespace_("accounts");
  get.set_key("k");
  EXPECT_EQ((*db)->Get(get)->record().value(), "kept");
}

v1::BatchRequest OnePut(const std::string& ns, const std::string& key, bool defer_sync) {
  v1::BatchRequest batch;
  v1::Mutation* m = batch.add_mutations();
  m->set_namespace_(ns);
  m->set_key(key);
  m->set_put_value("v");
  batch.set_defer_sync(defer_sync);
  return batch;
}

TEST(RocksDbKvStoreTest, ABatchInASyncedNamespaceWaitsForTheFsyncUnlessDeferred) {
  FakeClock clock;
  RocksDbKvStore::Options options;
  options.path = Dir("defer-sync");
  auto db = RocksDbKvStore::Open(options, clock);
  ASSERT_TRUE(db.ok()) << db.status();
  const uint64_t before = (*db)->wal_syncs();
  ASSERT_TRUE((*db)->Batch(OnePut("otp", "deferred", true)).ok());
  EXPECT_EQ((*db)->wal_syncs(), before);
  ASSERT_TRUE((*db)->Batch(OnePut("sessions", "unsynced", false)).ok());
  EXPECT_EQ((*db)->wal_syncs(), before);
  ASSERT_TRUE((*db)->Batch(OnePut("otp", "synced", false)).ok());
  EXPECT_EQ((*db)->wal_syncs(), before + 1);
  // What was deferred is written all the same.
  v1::GetRequest get;
  get.set_namespace_("otp");
  get.set_key("deferred");
  EXPECT_TRUE((*db)->Get(get)->found());
}

TEST(RocksDbKvStoreTest, ASecondOpenOfTheSameDirectoryFailsClearly) {
  FakeClock clock;
  RocksDbKvStore::Options options;
  options.path = Dir("locked");
  auto first = RocksDbKvStore::Open(options, clock);
  ASSERT_TRUE(first.ok());
  auto second = RocksDbKvStore::Open(options, clock);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RocksDbKvStoreTest, CompactionDropsExpiredRecordsFromDisk) {
  FakeClock clock;
  RocksDbKvStore::Options options;
  options.path = Dir("ttl");
  auto db = RocksDbKvStore::Open(options, clock);
  ASSERT_TRUE(db.ok());
  v1::PutRequest put;
  put.set_namespace_("sessions");
  put.set_key("short");
  put.set_value("v");
  put.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(clock.Now()) + 60);
  ASSERT_TRUE((*db)->Put(put).ok());
  put.set_key("long");
  put.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(clock.Now()) + 3600);
  ASSERT_TRUE((*db)->Put(put).ok());
  ASSERT_TRUE((*db)->CompactAll().ok());
  EXPECT_TRUE((*db)->RawExists("sessions", "short"));
  clock.Advance(absl::Seconds(61));
  ASSERT_TRUE((*db)->CompactAll().ok());
  EXPECT_FALSE((*db)->RawExists("sessions", "short"));
  EXPECT_TRUE((*db)->RawExists("sessions", "long"));
}

TEST(RocksDbKvStoreTest, ConcurrentCreatesOfOneKeyHaveOneWinner) {
  FakeClock clock;
  RocksDbKvStore::Options options;
  options.path = Dir("race");
  auto db = RocksDbKvStore::Open(options, clock);
  ASSERT_TRUE(db.ok());
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        v1::CompareAndSwapRequest cas;
        cas.set_namespace_("accounts");
        cas.set_key("k" + std::to_string(i));
        cas.set_value("v");
        if ((*db)->CompareAndSwap(cas).ok()) ++winners;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 50);
}

}  // namespace
}  // namespace eid::storage
