#include "services/eidd/eidd.h"

#include "gtest/gtest.h"

namespace eid {
namespace {

TEST(EiddTest, AllModeRoutesToItsOwnShardInProcess) {
  Eidd::Options options;
  options.services = "all";
  options.grpc_address = "127.0.0.1:0";
  options.metrics_address = "127.0.0.1:0";
  options.data_dir = std::string(getenv("TEST_TMPDIR")) + "/all";
  options.generate_dev_keys = true;
  options.shutdown_grace = absl::Milliseconds(200);
  auto eidd = Eidd::Start(options);
  ASSERT_TRUE(eidd.ok()) << eidd.status();
  storage::ShardRouter* shards = (*eidd)->shards();
  ASSERT_NE(shards, nullptr);
  EXPECT_EQ(shards->shard_count(), 1u);
  v1::PutRequest put;
  put.set_namespace_("accounts");
  put.set_key("acct-1");
  put.set_value("v");
  ASSERT_TRUE(shards->Put(put).ok());
  v1::GetRequest get;
  get.set_namespace_("accounts");
  get.set_key("acct-1");
  auto got = shards->Get(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record().value(), "v");
  (*eidd)->Shutdown();
}

TEST(EiddTest, ARoleWithoutStorageNeedsNoRouter) {
  Eidd::Options options;
  options.services = "audit";
  options.grpc_address = "127.0.0.1:0";
  options.metrics_address = "127.0.0.1:0";
  options.data_dir = std::string(getenv("TEST_TMPDIR")) + "/audit-only";
  options.generate_dev_keys = true;
  auto eidd = Eidd::Start(options);
  ASSERT_TRUE(eidd.ok()) << eidd.status();
  EXPECT_EQ((*eidd)->shards(), nullptr);
}

}  // namespace
}  // namespace eid
