// The one test suite every KvStore implementation must pass. An
// implementation's test instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(RocksDb, KvStoreConformanceTest,
//                            ::testing::Values(&MakeRocksDbStore));
#ifndef EID_STORAGE_SHARD_KV_STORE_CONFORMANCE_H_
#define EID_STORAGE_SHARD_KV_STORE_CONFORMANCE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "storage/shard/kv_store.h"

namespace eid::storage {

// What a factory returns: the store and anything it needs kept alive.
struct KvStoreUnderTest {
  virtual ~KvStoreUnderTest() = default;
  virtual KvStore& store() = 0;
};

// Builds a store on an empty directory `dir`, reading time from `clock`.
using KvStoreFactory = std::unique_ptr<KvStoreUnderTest> (*)(
    const std::string& dir, Clock& clock);

class KvStoreConformanceTest : public ::testing::TestWithParam<KvStoreFactory> {
 protected:
  void SetUp() override;
  KvStore& store() { return under_test_->store(); }

  FakeClock clock_;
  std::unique_ptr<KvStoreUnderTest> under_test_;
};

}  // namespace eid::storage

#endif  // EID_STORAGE_SHARD_KV_STORE_CONFORMANCE_H_
