// The audit service in a real eidd process: a record altered on disk is
// found and named by `eidctl audit verify`, and appends acknowledged before
// a kill -9 are all there after the restart.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "eid/v1/audit.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/audit/audit_db.h"
#include "services/audit/audit_keys.h"
#include "services/audit/leaf_chunks.h"
#include "services/audit/raw_audit_db.h"
#include "services/common/internal_auth.h"
#include "services/common/proto_time.h"
#include "services/common/secrets.h"
#include "tests/util/eidd_process.h"

namespace eid {
namespace {

using ::testing::HasSubstr;

v1::AuditEvent Event(const std::string& id, char subject) {
  v1::AuditEvent e;
  e.set_event_id(id);
  ToProtoTime(absl::Now(), e.mutable_time());
  e.set_service("verification");
  e.set_action("verification.verdict");
  e.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  e.set_actor("account:official-1");
  e.set_subject(std::string(32, subject));
  return e;
}

class AuditProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(getenv("TEST_TMPDIR"), "/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  void Start(const std::string& run) {
    auto eidd = testing::StartEidd(
        {"--services=audit", "--data_dir=" + dir_, "--generate_dev_keys"},
        dir_ + "-" + run);
    ASSERT_TRUE(eidd.ok()) << eidd.status();
    eidd_ = std::move(*eidd);
    stub_ = v1::AuditService::NewStub(grpc::CreateChannel(
        eidd_.grpc_address(), grpc::InsecureChannelCredentials()));
  }

  void Stop() {
    eidd_.process->Signal(SIGTERM);
    auto code = eidd_.process->Wait(absl::Seconds(10));
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 0);
  }

  absl::StatusOr<v1::AppendResponse> Append(std::vector<v1::AuditEvent> events) {
    v1::AppendRequest request;
    for (auto& e : events) *request.add_events() = std::move(e);
    v1::AppendResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::Status s = stub_->Append(&context, request, &response);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return response;
  }

  // Waits until partition p's latest checkpoint covers `size` leaves (the
  // server signs once a second).
  void AwaitCheckpoint(uint32_t p, uint64_t size) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    for (;;) {
      v1::GetCheckpointRequest request;
      request.set_partition(p);
      v1::GetCheckpointResponse response;
      grpc::ClientContext context;
      if (stub_->GetCheckpoint(&context, request, &response).ok() &&
          response.checkpoint().tree_size() >= size) {
        return;
      }
      ASSERT_LT(absl::Now(), deadline) << "no checkpoint of size " << size;
      absl::SleepFor(absl::Milliseconds(50));  // Waiting on a real process.
    }
  }

  // Reading the log is for auditors and eid's own services: the tests read
  // as an internal caller, with the token --generate_dev_keys wrote.
  std::string TokenFile() const { return dir_ + "/keys/internal_token"; }
  void AttachToken(grpc::ClientContext& context) const {
    absl::StatusOr<std::string> token = ReadSecretFile(TokenFile());
    ASSERT_TRUE(token.ok()) << token.status();
    InternalAuth(*token).Attach(context);
  }

  int Verify(std::string* out, const std::vector<std::string>& flags = {}) {
    std::vector<std::string> argv = {testing::RunfilePath("tools/eidctl/eidctl"),
                                     "--server=" + eidd_.grpc_address(),
                                     "--internal_token_file=" + TokenFile()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("audit");
    argv.push_back("verify");
    auto code = testing::Run(argv, out, absl::Seconds(60));
    return code.ok() ? *code : -1;
  }

  // Edits, as RocksDB's own tools would (every column family, audit_db.h),
  // the stopped eidd's stored entry that holds leaf `index` of partition p:
  // the chunk at or before its key (leaf_chunks.h). `edit` gets the entry,
  // its leaves (views into it) and the first one's index.
  void EditChunkHolding(
      uint32_t p, uint64_t index,
      const std::function<void(std::string* chunk, const std::vector<absl::string_view>& leaves,
                               uint64_t first)>& edit) {
    absl::StatusOr<std::unique_ptr<audit::RawAuditDb>> raw =
        audit::RawAuditDb::Open(dir_ + "/audit");
    ASSERT_TRUE(raw.ok()) << raw.status();
    rocksdb::DB* db = &(*raw)->db();
    rocksdb::ColumnFamilyHandle* leaves = (*raw)->family(audit::AuditDb::LeavesFamily(p));
    ASSERT_NE(leaves, nullptr);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), leaves));
    it->SeekForPrev(audit::LeafKey(p, index));
    ASSERT_TRUE(it->Valid());
    const std::string key = it->key().ToString();
    std::string chunk = it->value().ToString();
    it.reset();
    uint64_t first = 0;
    ASSERT_TRUE(audit::GetBigEndian64(key, 5, &first));
    std::vector<absl::string_view> in_chunk;
    ASSERT_TRUE(audit::SplitLeafChunk(chunk, &in_chunk));
    ASSERT_LT(index - first, in_chunk.size());
    edit(&chunk, in_chunk, first);
    if (HasFatalFailure()) return;  // The edit's own checks failed.
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), leaves, key, chunk).ok());
  }

  std::string dir_;
  testing::EiddProcess eidd_;
  std::unique_ptr<v1::AuditService::Stub> stub_;
};

TEST_F(AuditProcessTest, ARecordAlteredOnDiskIsFoundAndNamedByAuditVerify) {
  Start("run1");
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 50; ++i) events.push_back(Event(absl::StrCat("ev-", i), 'c'));
  auto appended = Append(events);
  ASSERT_TRUE(appended.ok()) << appended.status();
  const uint32_t p = appended->results(0).partition();
  ASSERT_EQ(appended->results(17).leaf_index(), 17u);
  AwaitCheckpoint(p, 50);
  std::string out;
  EXPECT_EQ(Verify(&out), 0) << out;
  EXPECT_THAT(out, HasSubstr(absl::StrCat("partition ", p, ": 50 leaves")));
  Stop();

  // An operator edits leaf 17 in RocksDB: "SUCCESS" becomes something else.
  EditChunkHolding(p, 17, [](std::string* chunk, const std::vector<absl::string_view>& leaves,
                             uint64_t first) {
    const absl::string_view leaf = leaves[17 - first];
    v1::AuditRecord record;
    ASSERT_TRUE(record.ParseFromArray(leaf.data(), leaf.size()));
    record.mutable_event()->set_outcome(v1::AUDIT_OUTCOME_REJECTED);
    const std::string altered = record.SerializeAsString();
    ASSERT_EQ(altered.size(), leaf.size());  // An edit of bytes in place.
    chunk->replace(leaf.data() - chunk->data(), leaf.size(), altered);
  });

  Start("run2");
  EXPECT_EQ(Verify(&out), 1) << out;
  EXPECT_THAT(out, HasSubstr(absl::StrCat("partition ", p, ": TAMPERED: leaf 17 differs")));
  Stop();
}

TEST_F(AuditProcessTest, AChunkWhoseFramingIsAlteredIsNamedByAuditVerify) {
  Start("run1");
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 100; ++i) events.push_back(Event(absl::StrCat("fr-", i), 'f'));
  auto appended = Append(events);
  ASSERT_TRUE(appended.ok()) << appended.status();
  const uint32_t p = appended->results(0).partition();
  AwaitCheckpoint(p, 100);
  Stop();

  // Leaf 17's length is raised to swallow leaf 18: the chunk still splits,
  // one leaf short, and every leaf after 17 in it shifts down one place.
  EditChunkHolding(p, 17, [](std::string* chunk, const std::vector<absl::string_view>& leaves,
                             uint64_t first) {
    ASSERT_LT(18 - first, leaves.size());
    const size_t length_at = leaves[17 - first].data() - chunk->data() - 4;
    std::string swallowed;
    audit::PutBigEndian32(leaves[17 - first].size() + 4 + leaves[18 - first].size(), &swallowed);
    chunk->replace(length_at, 4, swallowed);
  });

  Start("run2");
  std::string out;
  EXPECT_EQ(Verify(&out), 1) << out;
  EXPECT_THAT(out, HasSubstr(absl::StrCat("partition ", p, ": TAMPERED: leaf 17 ")));
  Stop();
}

// An operator who removes the log's tail together with the checkpoints that
// signed it leaves a log that checks as intact on its own; an auditor who
// kept the last checkpoint they verified (a witness) finds the log no longer
// extends it.
TEST_F(AuditProcessTest, ATailRemovedWithItsCheckpointsIsFoundByAWitness) {
  Start("run1");
  // First witnessed empty (the checkpoints of size 0): a log that grows
  // from there still checks.
  for (uint32_t partition = 0; partition < 4; ++partition) AwaitCheckpoint(partition, 0);
  const std::string witness = dir_ + "/witness";
  std::string out;
  EXPECT_EQ(Verify(&out, {"--audit_witness_dir=" + witness}), 0) << out;
  for (int partition = 0; partition < 4; ++partition) {
    EXPECT_TRUE(std::filesystem::exists(
        absl::StrCat(witness, "/partition-", partition, ".checkpoint")));
  }
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 50; ++i) events.push_back(Event(absl::StrCat("w-", i), 'w'));
  auto appended = Append(events);
  ASSERT_TRUE(appended.ok()) << appended.status();
  const uint32_t p = appended->results(0).partition();
  AwaitCheckpoint(p, 50);
  events.clear();
  for (int i = 50; i < 80; ++i) events.push_back(Event(absl::StrCat("w-", i), 'w'));
  ASSERT_TRUE(Append(events).ok());
  AwaitCheckpoint(p, 80);
  EXPECT_EQ(Verify(&out, {"--audit_witness_dir=" + witness}), 0) << out;
  Stop();

  // Leaves 50..79, their hashes and every checkpoint above 50 removed.
  {
    absl::StatusOr<std::unique_ptr<audit::RawAuditDb>> raw =
        audit::RawAuditDb::Open(dir_ + "/audit");
    ASSERT_TRUE(raw.ok()) << raw.status();
    rocksdb::DB& db = (*raw)->db();
    rocksdb::WriteBatch batch;
    batch.DeleteRange((*raw)->family(audit::AuditDb::LeavesFamily(p)), audit::LeafKey(p, 50),
                      audit::LeafKey(p, UINT64_MAX));
    batch.DeleteRange((*raw)->family(audit::AuditDb::LeafHashesFamily(p)),
                      audit::NodeKey(p, 0, 50), audit::NodeKey(p, 0, UINT64_MAX));
    batch.DeleteRange(db.DefaultColumnFamily(), audit::CheckpointKey(p, 51),
                      audit::CheckpointKey(p, UINT64_MAX));
    ASSERT_TRUE(db.Write(rocksdb::WriteOptions(), &batch).ok());
  }

  Start("run2");
  EXPECT_EQ(Verify(&out), 0) << out;  // On its own it looks intact...
  EXPECT_EQ(Verify(&out, {"--audit_witness_dir=" + witness}), 1) << out;
  EXPECT_THAT(out, HasSubstr(absl::StrCat(
                       "partition ", p, ": TAMPERED: the log has 50 signed leaves, fewer than "
                       "the checkpoint of size 80 witnessed before")));
  Stop();
}

TEST_F(AuditProcessTest, CheckpointsSignedByAKeyNotTrustedAreTampered) {
  Start("run1");
  auto appended = Append({Event("k-1", 'k')});
  ASSERT_TRUE(appended.ok()) << appended.status();
  AwaitCheckpoint(appended->results(0).partition(), 1);
  v1::GetCheckpointKeysResponse keys;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetCheckpointKeys(&context, {}, &keys).ok());
  }
  ASSERT_GT(keys.keys_size(), 0);
  const std::string trusted = dir_ + "/trusted-keys";
  const std::string other = dir_ + "/other-keys";
  {
    std::ofstream t(trusted), o(other);
    t << "# the audit signing key, read apart from the server\n"
      << absl::BytesToHexString(keys.keys(0).public_key()) << "\n";
    o << std::string(64, 'a') << "\n";
  }
  std::string out;
  EXPECT_EQ(Verify(&out, {"--audit_trusted_keys=" + trusted}), 0) << out;
  EXPECT_EQ(Verify(&out, {"--audit_trusted_keys=" + other}), 1) << out;
  EXPECT_THAT(out, HasSubstr("TAMPERED"));
  Stop();
}

TEST_F(AuditProcessTest, AppendsAcknowledgedBeforeAKillNineAreAllKept) {
  Start("run1");
  absl::Mutex mu;
  std::vector<v1::AppendResult> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        std::vector<v1::AuditEvent> events;
        for (int k = 0; k < 10; ++k) {
          events.push_back(Event(absl::StrCat(t, "-", i, "-", k), 'a' + (i + k) % 8));
        }
        auto r = Append(events);
        if (!r.ok()) continue;
        absl::MutexLock lock(&mu);
        acked.insert(acked.end(), r->results().begin(), r->results().end());
      }
    });
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  auto enough = [&] {
    absl::MutexLock lock(&mu);
    return acked.size() >= 1000;
  };
  while (!enough() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // Waiting on a real process.
  }
  eidd_.process->Signal(SIGKILL);
  ASSERT_TRUE(eidd_.process->Wait(absl::Seconds(10)).ok());
  stop = true;
  for (auto& t : producers) t.join();
  ASSERT_GE(acked.size(), 1000u);

  Start("run2");
  size_t missing = 0;
  for (const v1::AppendResult& a : acked) {
    v1::ReadLeavesRequest read;
    read.set_partition(a.partition());
    read.set_start_index(a.leaf_index());
    read.set_end_index(a.leaf_index() + 1);
    v1::ReadLeavesResponse leaf;
    grpc::ClientContext context;
    AttachToken(context);
    if (!stub_->ReadLeaves(&context, read, &leaf).ok() || leaf.records_size() != 1 ||
        leaf.records(0).event().event_id() != a.event_id()) {
      ++missing;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged events";
  // And each is in its subject's history, once: the index by subject,
  // buffered in memory when the process died, was read back from the leaves.
  std::map<std::string, int> indexed;  // Event id -> times found.
  for (char subject = 'a'; subject < 'a' + 8; ++subject) {
    std::string token;
    do {
      v1::QueryRequest query;
      query.mutable_filter()->set_subject(std::string(32, subject));
      query.mutable_page()->set_page_size(100);
      query.mutable_page()->set_page_token(token);
      v1::QueryResponse page;
      grpc::ClientContext context;
      AttachToken(context);
      ASSERT_TRUE(stub_->Query(&context, query, &page).ok());
      for (const auto& r : page.records()) ++indexed[r.event().event_id()];
      token = page.next_page_token();
    } while (!token.empty());
  }
  size_t unindexed = 0, repeated = 0;
  for (const v1::AppendResult& a : acked) unindexed += indexed.count(a.event_id()) == 0;
  for (const auto& [id, times] : indexed) repeated += times > 1;
  EXPECT_EQ(unindexed, 0u) << "of " << acked.size() << " acknowledged events";
  EXPECT_EQ(repeated, 0u);
  // Appending them again changes nothing: each is a duplicate in its place.
  auto again = Append({Event(acked[0].event_id(), 'a')});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->results(0).duplicate());
  EXPECT_EQ(again->results(0).leaf_index(), acked[0].leaf_index());
  std::string out;
  EXPECT_EQ(Verify(&out), 0) << out;
  Stop();
}

}  // namespace
}  // namespace eid
