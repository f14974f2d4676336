#include "storage/shard/kv_store_conformance.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace eid::storage {
namespace {

google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

v1::GetRequest GetOf(const std::string& ns, const std::string& key) {
  v1::GetRequest r;
  r.set_namespace_(ns);
  r.set_key(key);
  return r;
}

v1::PutRequest PutOf(const std::string& ns, const std::string& key,
                     const std::string& value) {
  v1::PutRequest r;
  r.set_namespace_(ns);
  r.set_key(key);
  r.set_value(value);
  return r;
}

v1::CompareAndSwapRequest CasOf(const std::string& key, uint64_t expected,
                                const std::string& value) {
  v1::CompareAndSwapRequest r;
  r.set_namespace_("accounts");
  r.set_key(key);
  r.set_expected_version(expected);
  r.set_value(value);
  return r;
}

}  // namespace

void KvStoreConformanceTest::SetUp() {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(name.begin(), name.end(), '/', '_');
  const std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
  under_test_ = GetParam()(dir, clock_);
  ASSERT_NE(under_test_, nullptr);
}

TEST_P(KvStoreConformanceTest, PutThenGetReturnsTheValueAndAVersion) {
  auto put = store().Put(PutOf("accounts", "k1", "v1"));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_GT(put->version(), 0u);
  auto got = store().Get(GetOf("accounts", "k1"));
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->found());
  EXPECT_EQ(got->record().value(), "v1");
  EXPECT_EQ(got->record().version(), put->version());
  EXPECT_EQ(got->record().namespace_(), "accounts");
}

TEST_P(KvStoreConformanceTest, MissingIsNotAnError) {
  auto got = store().Get(GetOf("accounts", "nobody"));
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->found());
}

TEST_P(KvStoreConformanceTest, NamespacesAreSeparate) {
  ASSERT_TRUE(store().Put(PutOf("accounts", "k", "a")).ok());
  ASSERT_TRUE(store().Put(PutOf("devices", "k", "d")).ok());
  EXPECT_EQ(store().Get(GetOf("accounts", "k"))->record().value(), "a");
  EXPECT_EQ(store().Get(GetOf("devices", "k"))->record().value(), "d");
}

TEST_P(KvStoreConformanceTest, BadInputIsRejectedWithAReasonAndChangesNothing) {
  EXPECT_EQ(ReasonOf(store().Get(GetOf("nope", "k")).status()), "NAMESPACE_UNKNOWN");
  EXPECT_EQ(ReasonOf(store().Get(GetOf("accounts", "")).status()), "KEY_EMPTY");
  EXPECT_EQ(ReasonOf(store().Get(GetOf("accounts", std::string(5000, 'k'))).status()),
            "KEY_TOO_LARGE");
  EXPECT_EQ(ReasonOf(store().Put(PutOf("accounts", "k", "")).status()), "VALUE_EMPTY");
  auto past = PutOf("accounts", "k", "v");
  *past.mutable_expires_at() = At(clock_.Now() - absl::Seconds(1));
  auto rejected = store().Put(past);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(rejected.status()), "EXPIRY_INVALID");
  EXPECT_FALSE(store().Get(GetOf("accounts", "k"))->found());
}

TEST_P(KvStoreConformanceTest, CompareAndSwapOnlyAppliesToTheExpectedVersion) {
  auto created = store().CompareAndSwap(CasOf("k", 0, "one"));
  ASSERT_TRUE(created.ok()) << created.status();
  // A second create loses: the record exists.
  auto again = store().CompareAndSwap(CasOf("k", 0, "two"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ReasonOf(again.status()), "VERSION_MISMATCH");
  auto updated = store().CompareAndSwap(CasOf("k", created->version(), "three"));
  ASSERT_TRUE(updated.ok());
  EXPECT_GT(updated->version(), created->version());
  // The old version is stale now.
  EXPECT_FALSE(store().CompareAndSwap(CasOf("k", created->version(), "x")).ok());
  EXPECT_EQ(store().Get(GetOf("accounts", "k"))->record().value(), "three");
}

TEST_P(KvStoreConformanceTest, VersionsKeepGrowingAcrossADelete) {
  auto first = store().Put(PutOf("accounts", "k", "a"));
  auto second = store().Put(PutOf("accounts", "k", "b"));
  ASSERT_TRUE(first.ok() && second.ok());
  v1::DeleteRequest del;
  del.set_namespace_("accounts");
  del.set_key("k");
  auto deleted = store().Delete(del);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->existed());
  EXPECT_FALSE(store().Delete(del)->existed());
  auto third = store().Put(PutOf("accounts", "k", "c"));
  ASSERT_TRUE(third.ok());
  EXPECT_GT(second->version(), first->version());
  EXPECT_GT(third->version(), second->version());
}

TEST_P(KvStoreConformanceTest, ExpiredRecordsAreInvisible) {
  auto put = PutOf("sessions", "s", "token-state");
  *put.mutable_expires_at() = At(clock_.Now() + absl::Seconds(60));
  ASSERT_TRUE(store().Put(put).ok());
  clock_.Advance(absl::Seconds(59));
  EXPECT_TRUE(store().Get(GetOf("sessions", "s"))->found());
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(store().Get(GetOf("sessions", "s"))->found());
  // An expired record counts as absent for compare-and-swap.
  v1::CompareAndSwapRequest cas = CasOf("s", 0, "new");
  cas.set_namespace_("sessions");
  EXPECT_TRUE(store().CompareAndSwap(cas).ok());
}

TEST_P(KvStoreConformanceTest, BatchIsAllOrNothing) {
  // Both keys share the routing key "u7" (the part before '|'), hence a shard.
  auto base = store().Put(PutOf("accounts", "u7|a", "1"));
  ASSERT_TRUE(base.ok());
  v1::BatchRequest batch;
  auto* m1 = batch.add_mutations();
  m1->set_namespace_("indexes");
  m1->set_key("u7|i");
  m1->set_put_value("x");
  auto* m2 = batch.add_mutations();
  m2->set_namespace_("accounts");
  m2->set_key("u7|a");
  m2->set_put_value("2");
  m2->set_expected_version(base->version() + 12345);  // Stale.
  auto failed = store().Batch(batch);
  EXPECT_EQ(ReasonOf(failed.status()), "VERSION_MISMATCH");
  EXPECT_FALSE(store().Get(GetOf("indexes", "u7|i"))->found());

  m2->set_expected_version(base->version());
  auto done = store().Batch(batch);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->versions_size(), 2);
  EXPECT_TRUE(store().Get(GetOf("indexes", "u7|i"))->found());
  EXPECT_EQ(store().Get(GetOf("accounts", "u7|a"))->record().value(), "2");
}

TEST_P(KvStoreConformanceTest, BatchRejectsADuplicateKey) {
  v1::BatchRequest batch;
  for (int i = 0; i < 2; ++i) {
    auto* m = batch.add_mutations();
    m->set_namespace_("accounts");
    m->set_key("same");
    m->set_put_value("v");
  }
  EXPECT_EQ(ReasonOf(store().Batch(batch).status()), "BATCH_DUPLICATE_KEY");
  EXPECT_FALSE(store().Get(GetOf("accounts", "same"))->found());
}

TEST_P(KvStoreConformanceTest, MultiGetAnswersInOrder) {
  ASSERT_TRUE(store().Put(PutOf("accounts", "b", "B")).ok());
  v1::MultiGetRequest r;
  for (const char* k : {"a", "b"}) {
    auto* key = r.add_keys();
    key->set_namespace_("accounts");
    key->set_key(k);
  }
  auto got = store().MultiGet(r);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->results_size(), 2);
  EXPECT_FALSE(got->results(0).found());
  EXPECT_EQ(got->results(1).record().value(), "B");
}

TEST_P(KvStoreConformanceTest, ScanPagesThroughAPrefixInKeyOrder) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(store().Put(PutOf("indexes", absl::StrCat("p|", 100 + i), "v")).ok());
  }
  ASSERT_TRUE(store().Put(PutOf("indexes", "q|1", "other")).ok());
  std::vector<std::string> keys;
  v1::ScanRequest scan;
  scan.set_namespace_("indexes");
  scan.set_prefix("p|");
  scan.set_limit(10);
  int pages = 0;
  do {
    auto page = store().Scan(scan);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& rec : page->records()) keys.push_back(rec.key());
    scan.set_page_token(page->next_page_token());
    ++pages;
  } while (!scan.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(keys.size(), 25u);
  EXPECT_EQ(keys.front(), "p|100");
  EXPECT_EQ(keys.back(), "p|124");
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));

  scan.set_page_token("not a token!");
  EXPECT_EQ(ReasonOf(store().Scan(scan).status()), "PAGE_TOKEN_INVALID");
}

TEST_P(KvStoreConformanceTest, ScanStaysInsideItsRange) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store().Put(PutOf("indexes", absl::StrCat("p|", 100 + i), "v")).ok());
  }
  // Deleted keys inside and after the range change nothing.
  for (const char* gone : {"p|104", "p|109"}) {
    v1::DeleteRequest del;
    del.set_namespace_("indexes");
    del.set_key(gone);
    ASSERT_TRUE(store().Delete(del).ok());
  }
  v1::ScanRequest scan;
  scan.set_namespace_("indexes");
  scan.set_prefix("p|");
  scan.set_start_at("p|102");
  scan.set_stop_before("p|107");
  scan.set_limit(2);
  std::vector<std::string> keys;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = store().Scan(scan);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& rec : page->records()) keys.push_back(rec.key());
    if (page->next_page_token().empty()) break;
    scan.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"p|102", "p|103", "p|105", "p|106"}));

  scan.clear_page_token();
  scan.set_stop_before("");
  auto open_ended = store().Scan(scan);
  ASSERT_TRUE(open_ended.ok());
  ASSERT_EQ(open_ended->records_size(), 2);
  EXPECT_EQ(open_ended->records(0).key(), "p|102");

  scan.set_start_at("q|1");
  EXPECT_EQ(ReasonOf(store().Scan(scan).status()), "SCAN_RANGE_INVALID");
  scan.set_start_at("p|105");
  scan.set_stop_before("p|105");
  EXPECT_EQ(ReasonOf(store().Scan(scan).status()), "SCAN_RANGE_INVALID");
}

}  // namespace eid::storage
