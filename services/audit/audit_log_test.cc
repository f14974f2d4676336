#include "services/audit/audit_log.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "services/audit/audit_db.h"
#include "services/audit/audit_keys.h"
#include "services/audit/leaf_chunks.h"
#include "services/audit/audit_server.h"
#include "services/audit/checkpoint_signer.h"
#include "services/audit/leaf_encoding.h"
#include "services/audit/raw_audit_db.h"
#include "services/common/random.h"
#include "services/common/secrets.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "tests/util/metric_value.h"

namespace eid::audit {
namespace {

v1::AuditEvent Event(const std::string& id, const std::string& subject = "") {
  v1::AuditEvent e;
  e.set_event_id(id);
  ToProtoTime(absl::FromUnixSeconds(1790000000), e.mutable_time());
  e.set_service("activation");
  e.set_action("activation.otp_verified");
  e.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  e.set_actor("anonymous");
  e.set_subject(subject.empty() ? std::string(32, 's') : subject);
  (*e.mutable_attributes())["b"] = "2";
  (*e.mutable_attributes())["a"] = "1";
  return e;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = absl::StrCat(getenv("TEST_TMPDIR"), "/",
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    Open();
  }
  void Open() {
    log_.reset();
    auto log = AuditLog::Open(options_, clock_);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }
  // Reopens the log on what a crash would leave now: a RocksDB checkpoint
  // of its store (the leaves durable, the subject index's buffer gone).
  void CrashAndReopen() {
    rocksdb::Checkpoint* raw = nullptr;
    ASSERT_TRUE(rocksdb::Checkpoint::Create(log_->db(), &raw).ok());
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    const std::string crashed = options_.path + "-crashed";
    ASSERT_TRUE(checkpoint->CreateCheckpoint(crashed).ok());
    log_.reset();
    options_.path = crashed;
    Open();
  }
  // Leaf hashes of partition p, recomputed from the stored leaf bytes.
  std::vector<Hash> LeafHashes(uint32_t p) {
    std::vector<Hash> out;
    const uint64_t n = log_->TreeSize(p);
    if (n == 0) return out;
    auto leaves = log_->ReadLeaves(p, 0, n);
    EXPECT_TRUE(leaves.ok()) << leaves.status();
    for (const auto& r : *leaves) out.push_back(LeafHash(r.leaf_data()));
    return out;
  }

  // Appends `n` events of one subject in one call ("<prefix>-i"), then
  // closes the log; returns their partition.
  uint32_t AppendOneSubjectThenClose(int n, const std::string& prefix) {
    std::vector<v1::AuditEvent> events;
    for (int i = 0; i < n; ++i) {
      events.push_back(Event(absl::StrCat(prefix, "-", i), std::string(32, 'A')));
    }
    auto placed = log_->Append(events);
    EXPECT_TRUE(placed.ok()) << placed.status();
    log_.reset();
    return placed.ok() ? (*placed)[0].partition : 0;
  }
  void ExpectOpenRefusedAsDataLoss() {
    absl::StatusOr<std::unique_ptr<AuditLog>> refused = AuditLog::Open(options_, clock_);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss) << refused.status();
  }

  FakeClock clock_;
  prometheus::Registry metrics_;  // Outlives log_, which may report to it.
  AuditLog::Options options_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, AppendPlacesEventsAndTheRootCoversTheirExactBytes) {
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 50; ++i) events.push_back(Event(absl::StrCat("e", i)));
  auto placed = log_->Append(events);
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ(placed->size(), 50u);
  // One subject: one partition, indexes 0..49 in order.
  const uint32_t p = (*placed)[0].partition;
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ((*placed)[i].partition, p);
    EXPECT_EQ((*placed)[i].leaf_index, static_cast<uint64_t>(i));
    EXPECT_FALSE((*placed)[i].duplicate);
  }
  EXPECT_EQ(log_->TreeSize(p), 50u);
  const std::vector<Hash> leaves = LeafHashes(p);
  EXPECT_EQ(log_->Root(p), RootFromLeafHashes(leaves));
  // The leaf names its own place.
  auto read = log_->ReadLeaves(p, 7, 8);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)[0].leaf_index(), 7u);
  EXPECT_EQ((*read)[0].event().event_id(), "e7");
}

TEST(LeafEncodingTest, TheCommittersConcatenationIsTheRecordsOwnSerialization) {
  for (uint32_t partition : {0u, 3u}) {
    for (uint64_t index : {uint64_t{0}, uint64_t{1}, uint64_t{300}, uint64_t{1} << 40}) {
      for (absl::Time at : {absl::UnixEpoch(), absl::FromUnixNanos(1790000000123456789)}) {
        v1::AuditEvent event = Event(absl::StrCat("enc", index));
        (*event.mutable_attributes())["z"] = std::string(200, 'z');  // Length > 127.
        v1::AuditRecord record;
        *record.mutable_event() = event;
        record.set_partition(partition);
        record.set_leaf_index(index);
        ToProtoTime(at, record.mutable_recorded_at());
        EXPECT_EQ(LeafData(EncodeEventField(event), partition, index, at),
                  RecordLeafData(record))
            << partition << " " << index;
      }
    }
  }
  // An empty event is still present as field 1.
  v1::AuditRecord empty;
  empty.mutable_event();
  ToProtoTime(absl::UnixEpoch(), empty.mutable_recorded_at());
  EXPECT_EQ(LeafData(EncodeEventField(v1::AuditEvent()), 0, 0, absl::UnixEpoch()),
            RecordLeafData(empty));
}

TEST_F(AuditLogTest, TheStoredLeavesHashToTheRootAndLeafDataIsTheRecord) {
  auto placed = log_->Append({Event("only")});
  ASSERT_TRUE(placed.ok());
  auto read = log_->ReadLeaves((*placed)[0].partition, 0, 1);
  ASSERT_TRUE(read.ok());
  v1::AuditRecord record = (*read)[0];
  record.clear_leaf_data();
  EXPECT_EQ((*read)[0].leaf_data(), RecordLeafData(record));
}

TEST_F(AuditLogTest, ProofsOverManyLeavesUseTheSparselyStoredSubtrees) {
  // 1,000 leaves in uneven appends: subtrees of every level up to 9, most of
  // them computed from the stored levels 0, 4 and 8. Reopening rebuilds the
  // frontier from the same.
  std::vector<v1::AuditEvent> events;
  int n = 0;
  for (int size : {1, 7, 300, 255, 437}) {
    events.clear();
    for (int i = 0; i < size; ++i) events.push_back(Event(absl::StrCat("m", n++)));
    ASSERT_TRUE(log_->Append(events).ok());
  }
  const uint32_t p = (*log_->Append({Event("m0")}))[0].partition;
  ASSERT_EQ(log_->TreeSize(p), 1000u);
  const Hash before = log_->Root(p);
  Open();
  EXPECT_EQ(log_->Root(p), before);
  const std::vector<Hash> leaves = LeafHashes(p);
  EXPECT_EQ(RootFromLeafHashes(leaves), before);
  for (uint64_t size : {1, 16, 17, 255, 256, 257, 511, 999, 1000}) {
    const Hash root = RootFromLeafHashes(absl::MakeConstSpan(leaves).first(size));
    for (uint64_t i : {uint64_t{0}, size / 3, size - 1}) {
      auto proof = log_->InclusionProof(p, i, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(VerifyInclusion(i, size, leaves[i], *proof, root).ok()) << i << "/" << size;
    }
    for (uint64_t m : {uint64_t{1}, size / 2 + 1, size}) {
      if (m > size) continue;
      auto proof = log_->ConsistencyProof(p, m, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      const Hash first = RootFromLeafHashes(absl::MakeConstSpan(leaves).first(m));
      EXPECT_TRUE(VerifyConsistency(m, size, first, root, *proof).ok()) << m << "->" << size;
    }
  }
  // Only levels 0, 4, 8 are stored.
  std::string hash;
  EXPECT_TRUE(log_->db()->Get(rocksdb::ReadOptions(), NodeKey(p, 4, 3), &hash).ok());
  EXPECT_TRUE(log_->db()->Get(rocksdb::ReadOptions(), NodeKey(p, 5, 1), &hash).IsNotFound());
}

TEST_F(AuditLogTest, OneIdSentToTwoPartitionsAtOnceIsRecordedOnce) {
  // The same id with different subjects (a producer bug) lands in different
  // partitions, whose committers run in parallel: still recorded once.
  const std::string a(32, 'a');
  const uint32_t pa = (*log_->Append({Event("probe-a", a)}))[0].partition;
  std::string b;
  for (char c = 'b'; c <= 'z' && b.empty(); ++c) {
    const std::string candidate(32, c);
    if ((*log_->Append({Event("probe-" + candidate, candidate)}))[0].partition != pa) {
      b = candidate;
    }
  }
  ASSERT_FALSE(b.empty());
  for (int round = 0; round < 20; ++round) {
    const std::string id = absl::StrCat("twice", round);
    std::vector<absl::StatusOr<std::vector<AuditLog::Placement>>> results(2);
    std::thread t0([&] { results[0] = log_->Append({Event(id, a)}); });
    std::thread t1([&] { results[1] = log_->Append({Event(id, b)}); });
    t0.join();
    t1.join();
    ASSERT_TRUE(results[0].ok() && results[1].ok());
    EXPECT_NE((*results[0])[0].duplicate, (*results[1])[0].duplicate) << round;
    EXPECT_EQ((*results[0])[0].partition, (*results[1])[0].partition);
    EXPECT_EQ((*results[0])[0].leaf_index, (*results[1])[0].leaf_index);
  }
}

TEST_F(AuditLogTest, AnEventIdIsRecordedOnceAcrossAndWithinAppends) {
  ASSERT_TRUE(log_->Append({Event("x")}).ok());
  auto again = log_->Append({Event("y"), Event("x"), Event("y")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE((*again)[1].duplicate);
  EXPECT_EQ((*again)[1].leaf_index, 0u);
  EXPECT_FALSE((*again)[0].duplicate);
  EXPECT_TRUE((*again)[2].duplicate);
  EXPECT_EQ((*again)[2].leaf_index, (*again)[0].leaf_index);
  EXPECT_EQ(log_->TreeSize((*again)[0].partition), 2u);
}

TEST_F(AuditLogTest, BadEventsAreRejectedWithAReasonAndNothingIsAppended) {
  v1::AuditEvent no_id = Event("");
  v1::AuditEvent bad_subject = Event("b", "short");
  v1::AuditEvent no_outcome = Event("c");
  no_outcome.clear_outcome();
  for (const v1::AuditEvent& bad : {no_id, bad_subject, no_outcome}) {
    auto r = log_->Append({Event("fine"), bad});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(r.status().message()).find("events[1]"), std::string::npos);
  }
  EXPECT_EQ(ReasonOf(log_->Append({no_id}).status()), "FIELD_REQUIRED");
  EXPECT_EQ(ReasonOf(log_->Append({bad_subject}).status()), "FIELD_INVALID");
  for (uint32_t p = 0; p < log_->partitions(); ++p) EXPECT_EQ(log_->TreeSize(p), 0u);
}

TEST_F(AuditLogTest, ProofsFromStoredSubtreesVerifyAgainstTheRoots) {
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 37; ++i) events.push_back(Event(absl::StrCat("p", i)));
  auto placed = log_->Append(events);
  ASSERT_TRUE(placed.ok());
  const uint32_t p = (*placed)[0].partition;
  const std::vector<Hash> leaves = LeafHashes(p);
  for (uint64_t size = 1; size <= 37; ++size) {
    const Hash root = RootFromLeafHashes(absl::MakeConstSpan(leaves).first(size));
    for (uint64_t i = 0; i < size; ++i) {
      auto proof = log_->InclusionProof(p, i, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(VerifyInclusion(i, size, leaves[i], *proof, root).ok()) << i << "/" << size;
    }
    for (uint64_t m = 1; m <= size; ++m) {
      auto proof = log_->ConsistencyProof(p, m, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      const Hash first = RootFromLeafHashes(absl::MakeConstSpan(leaves).first(m));
      EXPECT_TRUE(VerifyConsistency(m, size, first, root, *proof).ok()) << m << "->" << size;
    }
  }
  EXPECT_EQ(ReasonOf(log_->InclusionProof(p, 5, 5).status()), "PROOF_RANGE_INVALID");
  EXPECT_EQ(ReasonOf(log_->InclusionProof(p, 5, 38).status()), "TREE_SIZE_NOT_REACHED");
  EXPECT_EQ(ReasonOf(log_->ConsistencyProof(p, 0, 3).status()), "PROOF_RANGE_INVALID");
  EXPECT_EQ(ReasonOf(log_->ConsistencyProof(p, 4, 3).status()), "PROOF_RANGE_INVALID");
  EXPECT_EQ(ReasonOf(log_->InclusionProof(99, 0, 1).status()), "PARTITION_UNKNOWN");
}

TEST_F(AuditLogTest, AReopenedLogHasTheSameTreesAndKeepsGrowingThem) {
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 21; ++i) {
    events.push_back(Event(absl::StrCat("r", i), std::string(32, 'a' + i % 5)));
  }
  ASSERT_TRUE(log_->Append(events).ok());
  std::vector<Hash> roots;
  for (uint32_t p = 0; p < log_->partitions(); ++p) roots.push_back(log_->Root(p));
  Open();
  for (uint32_t p = 0; p < log_->partitions(); ++p) {
    EXPECT_EQ(log_->Root(p), roots[p]) << p;
  }
  auto more = log_->Append({Event("after", std::string(32, 'a'))});
  ASSERT_TRUE(more.ok());
  const uint32_t p = (*more)[0].partition;
  EXPECT_EQ(log_->Root(p), RootFromLeafHashes(LeafHashes(p)));
  // And the id index survived too.
  EXPECT_TRUE((*log_->Append({Event("r3", std::string(32, 'a' + 3))}))[0].duplicate);
}

TEST_F(AuditLogTest, ConcurrentAppendsAreGroupedAndEachPlacedOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  absl::Mutex mu;
  std::set<std::pair<uint32_t, uint64_t>> places;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = log_->Append({Event(absl::StrCat(t, "-", i), std::string(32, 'a' + t))});
        if (!r.ok()) {
          ++failures;
          continue;
        }
        absl::MutexLock lock(&mu);
        EXPECT_TRUE(places.insert({(*r)[0].partition, (*r)[0].leaf_index}).second);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(places.size(), 400u);
  uint64_t total = 0;
  for (uint32_t p = 0; p < log_->partitions(); ++p) {
    total += log_->TreeSize(p);
    EXPECT_EQ(log_->Root(p), RootFromLeafHashes(LeafHashes(p)));
  }
  EXPECT_EQ(total, 400u);
}

TEST_F(AuditLogTest, QueriesBySubjectOrActorNewestFirstInPages) {
  const std::string alice(32, 'A'), bob(32, 'B');
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 30; ++i) {
    v1::AuditEvent e = Event(absl::StrCat("q", i), i % 3 == 0 ? bob : alice);
    ToProtoTime(absl::FromUnixSeconds(1790000000 + i), e.mutable_time());
    e.set_action(i % 2 ? "verification.verdict" : "documents.shared");
    e.set_actor(i < 15 ? "account:official-1" : "account:official-2");
    events.push_back(e);
  }
  ASSERT_TRUE(log_->Append(events).ok());

  // Alice's verdicts, newest first, 4 per page.
  v1::AuditFilter filter;
  filter.set_subject(alice);
  filter.set_action("verification.");
  std::vector<std::string> ids;
  std::string token;
  int pages = 0;
  do {
    std::string next;
    auto page = log_->Query(filter, 4, token, &next);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->size(), 4u);
    for (const auto& r : *page) ids.push_back(r.event().event_id());
    token = next;
  } while (!token.empty() && ++pages < 20);
  // Odd i, not a multiple of 3, newest first.
  std::vector<std::string> want;
  for (int i = 29; i >= 0; --i) {
    if (i % 2 == 1 && i % 3 != 0) want.push_back(absl::StrCat("q", i));
  }
  EXPECT_EQ(ids, want);

  // By actor, within a time range [start, end).
  v1::AuditFilter by_actor;
  by_actor.set_actor("account:official-2");
  ToProtoTime(absl::FromUnixSeconds(1790000020), by_actor.mutable_start_time());
  ToProtoTime(absl::FromUnixSeconds(1790000025), by_actor.mutable_end_time());
  std::string next;
  auto ranged = log_->Query(by_actor, 100, "", &next);
  ASSERT_TRUE(ranged.ok());
  ASSERT_EQ(ranged->size(), 5u);
  EXPECT_EQ((*ranged)[0].event().event_id(), "q24");
  EXPECT_EQ((*ranged)[4].event().event_id(), "q20");
  EXPECT_TRUE(next.empty());

  v1::AuditFilter neither;
  EXPECT_EQ(ReasonOf(log_->Query(neither, 10, "", &next).status()), "FIELD_REQUIRED");
  EXPECT_EQ(ReasonOf(log_->Query(filter, 10, "garbage!", &next).status()),
            "PAGE_TOKEN_INVALID");
}

// Events of `subject`, ids prefix0.., a second apart from `first`.
std::vector<v1::AuditEvent> Timed(const std::string& prefix, const std::string& subject,
                                  int first, int n) {
  std::vector<v1::AuditEvent> events;
  for (int i = first; i < first + n; ++i) {
    v1::AuditEvent e = Event(absl::StrCat(prefix, i), subject);
    ToProtoTime(absl::FromUnixSeconds(1790000000 + i), e.mutable_time());
    events.push_back(e);
  }
  return events;
}

// Every event id of `subject`, newest first, read in pages of `page`.
std::vector<std::string> History(const AuditLog& log, const std::string& subject,
                                 int page) {
  v1::AuditFilter filter;
  filter.set_subject(subject);
  std::vector<std::string> ids;
  std::string token;
  for (int pages = 0; pages < 100; ++pages) {
    std::string next;
    auto found = log.Query(filter, page, token, &next);
    EXPECT_TRUE(found.ok()) << found.status();
    if (!found.ok()) break;
    for (const auto& r : *found) ids.push_back(r.event().event_id());
    if (next.empty()) break;
    token = next;
  }
  return ids;
}

// The subject index entries RocksDB holds ('S' keys of the index family).
size_t StoredSubjectKeys(const AuditLog& log) {
  std::unique_ptr<rocksdb::Iterator> it(
      log.db()->NewIterator(rocksdb::ReadOptions(), log.store().index()));
  size_t n = 0;
  for (it->Seek("S"); it->Valid() && it->key().starts_with("S"); it->Next()) ++n;
  return n;
}

std::vector<std::string> NewestFirst(const std::string& prefix, int n) {
  std::vector<std::string> ids;
  for (int i = n - 1; i >= 0; --i) ids.push_back(absl::StrCat(prefix, i));
  return ids;
}

TEST_F(AuditLogTest, TheSubjectIndexIsWrittenInBulkAndAnswersBeforeAndAfter) {
  const std::string alice(32, 'A');
  ASSERT_TRUE(log_->Append(Timed("e", alice, 0, 15)).ok());
  // Buffered, not written with the group: found all the same.
  EXPECT_EQ(StoredSubjectKeys(*log_), 0u);
  EXPECT_EQ(History(*log_, alice, 4), NewestFirst("e", 15));

  ASSERT_TRUE(log_->FlushSubjectIndex().ok());
  EXPECT_EQ(StoredSubjectKeys(*log_), 15u);
  ASSERT_TRUE(log_->Append(Timed("e", alice, 15, 15)).ok());
  // Pages that cross from the buffer into RocksDB.
  EXPECT_EQ(History(*log_, alice, 4), NewestFirst("e", 30));
  EXPECT_EQ(History(*log_, alice, 15), NewestFirst("e", 30));

  ASSERT_TRUE(log_->FlushSubjectIndex().ok());
  EXPECT_EQ(StoredSubjectKeys(*log_), 30u);
  EXPECT_EQ(History(*log_, alice, 7), NewestFirst("e", 30));
  // Closing writes the buffer: nothing is read back on reopening.
  ASSERT_TRUE(log_->Append(Timed("e", alice, 30, 5)).ok());
  Open();
  EXPECT_EQ(log_->BufferedSubjectEntries(), 0u);
  EXPECT_EQ(StoredSubjectKeys(*log_), 35u);
  EXPECT_EQ(History(*log_, alice, 10), NewestFirst("e", 35));
}

TEST_F(AuditLogTest, EntriesOlderAndNewerThanTheWrittenOnesMergeInOrder) {
  const std::string alice(32, 'A');
  ASSERT_TRUE(log_->Append(Timed("e", alice, 10, 10)).ok());
  ASSERT_TRUE(log_->FlushSubjectIndex().ok());
  // Late events (a spool drained after an outage) and new ones, buffered.
  ASSERT_TRUE(log_->Append(Timed("e", alice, 0, 10)).ok());
  ASSERT_TRUE(log_->Append(Timed("e", alice, 20, 10)).ok());
  EXPECT_EQ(History(*log_, alice, 4), NewestFirst("e", 30));

  // Paging on while the buffer is written between pages.
  v1::AuditFilter filter;
  filter.set_subject(alice);
  std::string token, last;
  auto first = log_->Query(filter, 12, "", &token);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(token.empty());
  ASSERT_TRUE(log_->FlushSubjectIndex().ok());
  auto rest = log_->Query(filter, 100, token, &last);
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(last.empty());
  std::vector<std::string> ids;
  for (const auto* page : {&*first, &*rest}) {
    for (const auto& r : *page) ids.push_back(r.event().event_id());
  }
  EXPECT_EQ(ids, NewestFirst("e", 30));
}

TEST_F(AuditLogTest, SubjectsWithHighBytesAndTimesBefore1970AreWrittenInKeyOrder) {
  // Real subjects are HMACs, any byte; times before 1970 are clamped in
  // the keys. The table file takes keys only in increasing byte order.
  for (const char byte : {'\x7f', '\x80', '\xff'}) {
    const std::string subject(32, byte);
    std::vector<v1::AuditEvent> events;
    int i = 0;
    // Decreasing before 1970: a signed comparison would put them out of
    // the keys' order.
    for (const int64_t seconds : {-1, -3, 0, 1}) {
      v1::AuditEvent e = Event(absl::StrCat(static_cast<int>(byte), "-", i++), subject);
      ToProtoTime(absl::FromUnixSeconds(seconds), e.mutable_time());
      events.push_back(e);
    }
    ASSERT_TRUE(log_->Append(events).ok());
  }
  ASSERT_TRUE(log_->FlushSubjectIndex().ok());
  EXPECT_EQ(StoredSubjectKeys(*log_), 12u);
  for (const char byte : {'\x7f', '\x80', '\xff'}) {
    EXPECT_EQ(History(*log_, std::string(32, byte), 3),
              NewestFirst(absl::StrCat(static_cast<int>(byte), "-"), 4));
  }
}

TEST_F(AuditLogTest, TheSubjectIndexWritesItselfWhenItsBufferFills) {
  options_.subject_index.flush_entries = 8;
  Open();
  const std::string alice(32, 'A');
  ASSERT_TRUE(log_->Append(Timed("e", alice, 0, 20)).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (StoredSubjectKeys(*log_) < 20 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // The index's own thread.
  }
  EXPECT_EQ(StoredSubjectKeys(*log_), 20u);
  EXPECT_EQ(History(*log_, alice, 6), NewestFirst("e", 20));
}

TEST_F(AuditLogTest, AFailedWriteOfTheSubjectIndexKeepsItsEntries) {
  options_.subject_index.flush_entries = 4;
  options_.subject_index.metrics = &metrics_;
  Open();
  const double opened =
      testing::MetricValue(metrics_, "audit_subject_index_last_write_timestamp_seconds");
  EXPECT_GT(opened, 0);
  const std::string alice(32, 'A');
  // Its files cannot be written: a file stands where their directory was.
  const std::string spill = options_.path + "/subject-index-spill";
  std::filesystem::remove_all(spill);
  { std::ofstream(spill) << "in the way"; }
  ASSERT_TRUE(log_->Append(Timed("e", alice, 0, 3)).ok());
  EXPECT_EQ(log_->FlushSubjectIndex().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StoredSubjectKeys(*log_), 0u);
  EXPECT_EQ(History(*log_, alice, 2), NewestFirst("e", 3));
  // Past four times its size, appends are refused: nothing is acknowledged
  // that the index could not take.
  int appended = 3;
  absl::Status refused;
  while (appended < 64 && refused.ok()) {
    refused = log_->Append(Timed("e", alice, appended, 1)).status();
    if (refused.ok()) ++appended;
  }
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(appended, 16);
  EXPECT_EQ(testing::MetricValue(metrics_, "audit_subject_index_buffered_entries"), 16);
  EXPECT_GE(testing::MetricValue(metrics_, "audit_subject_index_write_failures_total"), 1);
  EXPECT_EQ(testing::MetricValue(metrics_, "audit_subject_index_last_write_timestamp_seconds"),
            opened);

  std::filesystem::remove(spill);
  std::filesystem::create_directories(spill);
  ASSERT_TRUE(log_->FlushSubjectIndex().ok());
  EXPECT_EQ(StoredSubjectKeys(*log_), 16u);
  EXPECT_EQ(testing::MetricValue(metrics_, "audit_subject_index_buffered_entries"), 0);
  EXPECT_GE(testing::MetricValue(metrics_, "audit_subject_index_last_write_timestamp_seconds"),
            opened);
  EXPECT_TRUE(log_->Append(Timed("e", alice, 16, 1)).ok());
  EXPECT_EQ(History(*log_, alice, 5), NewestFirst("e", 17));
}

TEST_F(AuditLogTest, AnEntryBufferedAndJustIngestedIsReturnedOnce) {
  const std::string alice(32, 'A');
  auto placed = log_->Append(Timed("e", alice, 0, 3));
  ASSERT_TRUE(placed.ok());
  // As RocksDB holds them between a file's ingestion and the buffer's
  // release.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(log_->db()
                    ->Put(rocksdb::WriteOptions(), log_->store().index(),
                          SubjectIndexKey(alice, (1790000000ll + i) * 1000000,
                                          (*placed)[i].partition, (*placed)[i].leaf_index),
                          "")
                    .ok());
  }
  EXPECT_EQ(History(*log_, alice, 2), NewestFirst("e", 3));
}

TEST_F(AuditLogTest, AfterACrashTheSubjectIndexIsReadBackFromTheLeaves) {
  const std::string alice(32, 'A'), bob(32, 'B');
  ASSERT_TRUE(log_->Append(Timed("a", alice, 0, 10)).ok());
  ASSERT_TRUE(log_->FlushSubjectIndex().ok());
  ASSERT_TRUE(log_->Append(Timed("a", alice, 10, 10)).ok());
  ASSERT_TRUE(log_->Append(Timed("b", bob, 0, 5)).ok());
  // What a crash leaves now: the leaves durable, ten entries written, the
  // buffer gone.
  ASSERT_NO_FATAL_FAILURE(CrashAndReopen());
  EXPECT_EQ(log_->BufferedSubjectEntries(), 15u);  // Beyond the marks only.
  EXPECT_EQ(StoredSubjectKeys(*log_), 10u);
  EXPECT_EQ(History(*log_, alice, 6), NewestFirst("a", 20));
  EXPECT_EQ(History(*log_, bob, 6), NewestFirst("b", 5));
  ASSERT_TRUE(log_->FlushSubjectIndex().ok());
  EXPECT_EQ(StoredSubjectKeys(*log_), 25u);
  EXPECT_EQ(History(*log_, alice, 6), NewestFirst("a", 20));
}

// Partition p's mark ('I'), as stored.
uint64_t StoredMark(const AuditLog& log, uint32_t p) {
  std::string mark;
  uint64_t through = 0;
  if (!log.db()->Get(rocksdb::ReadOptions(), log.store().index(), SubjectIndexMarkKey(p), &mark)
           .ok() ||
      !GetBigEndian64(mark, 0, &through)) {
    return UINT64_MAX;
  }
  return through;
}

TEST_F(AuditLogTest, EventsWithoutASubjectStillMoveTheMarks) {
  options_.subject_index.flush_interval = absl::Milliseconds(20);
  Open();
  std::vector<v1::AuditEvent> events = Timed("n", "", 0, 10);
  for (auto& e : events) e.clear_subject();
  auto placed = log_->Append(events);
  ASSERT_TRUE(placed.ok());
  const uint32_t p = (*placed)[0].partition;
  // No entry to write, but the mark must pass these leaves, or every
  // restart reads them back.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (StoredMark(*log_, p) != 10 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // The index's own thread.
  }
  EXPECT_EQ(StoredMark(*log_, p), 10u);
}

TEST_F(AuditLogTest, AReadBackLargerThanTheBufferIsWrittenAsItIsRead) {
  const std::string alice(32, 'A');
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log_->Append(Timed(absl::StrCat("r", i, "-"), alice, i * 1000, 1000)).ok());
  }
  options_.subject_index.flush_entries = 1000;
  ASSERT_NO_FATAL_FAILURE(CrashAndReopen());
  // 10,000 leaves read back in chunks, each written once the buffer filled.
  EXPECT_LT(log_->BufferedSubjectEntries(), 1000u);
  EXPECT_GT(StoredSubjectKeys(*log_), 9000u);
  EXPECT_EQ(History(*log_, alice, 1000).size(), 10000u);
}

TEST_F(AuditLogTest, AMarkAboveTheLeavesIsLoweredBeforeAnyAppend) {
  const std::string alice(32, 'A');
  auto placed = log_->Append(Timed("a", alice, 0, 10));
  ASSERT_TRUE(placed.ok());
  const uint32_t p = (*placed)[0].partition;
  log_.reset();
  {
    // Leaves lost after their mark was written (a restored backup, say).
    absl::StatusOr<std::unique_ptr<RawAuditDb>> raw = RawAuditDb::Open(options_.path);
    ASSERT_TRUE(raw.ok()) << raw.status();
    std::string high;
    PutBigEndian64(100, &high);
    ASSERT_TRUE((*raw)->db()
                    .Put(rocksdb::WriteOptions(), (*raw)->family(AuditDb::kIndex),
                         SubjectIndexMarkKey(p), high)
                    .ok());
  }
  Open();
  EXPECT_EQ(StoredMark(*log_, p), 10u);
  // Appended after it and lost with the buffer in a crash: read back.
  ASSERT_TRUE(log_->Append(Timed("a", alice, 10, 5)).ok());
  ASSERT_NO_FATAL_FAILURE(CrashAndReopen());
  EXPECT_EQ(History(*log_, alice, 4), NewestFirst("a", 15));
}

TEST_F(AuditLogTest, SubjectIndexOptionsOfZeroAreRefused) {
  log_.reset();
  AuditLog::Options bad = options_;
  bad.subject_index.flush_entries = 0;
  EXPECT_EQ(AuditLog::Open(bad, clock_).status().code(), absl::StatusCode::kInvalidArgument);
  bad = options_;
  bad.subject_index.flush_interval = absl::ZeroDuration();
  EXPECT_EQ(AuditLog::Open(bad, clock_).status().code(), absl::StatusCode::kInvalidArgument);
}

// Puts a store in the layout written before the column families: every
// index entry and leaf back in the default family, the others dropped.
void ToOneColumnFamily(const std::string& path) {
  absl::StatusOr<std::unique_ptr<RawAuditDb>> raw = RawAuditDb::Open(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  rocksdb::DB& db = (*raw)->db();
  rocksdb::WriteBatch batch;
  for (auto* h : (*raw)->families()) {
    if (h->GetName() == rocksdb::kDefaultColumnFamilyName) continue;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Put(it->key(), it->value());
  }
  ASSERT_GT(batch.Count(), 0u);
  ASSERT_TRUE(db.Write(rocksdb::WriteOptions(), &batch).ok());
  for (auto* h : (*raw)->families()) {
    if (h->GetName() != rocksdb::kDefaultColumnFamilyName) {
      ASSERT_TRUE(db.DropColumnFamily(h).ok());
    }
  }
}

TEST_F(AuditLogTest, AStoreWrittenWithOneColumnFamilyIsMovedAndStillFound) {
  const std::string alice(32, 'A');
  auto first = log_->Append({Event("old-1", alice), Event("old-2", alice)});
  ASSERT_TRUE(first.ok()) << first.status();
  log_.reset();
  ToOneColumnFamily(options_.path);

  Open();
  // Its ids still dedupe, its subject index still answers.
  auto again = log_->Append({Event("old-2", alice), Event("new-1", alice)});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE((*again)[0].duplicate);
  EXPECT_EQ((*again)[0].leaf_index, (*first)[1].leaf_index);
  EXPECT_FALSE((*again)[1].duplicate);
  v1::AuditFilter filter;
  filter.set_subject(alice);
  std::string next;
  auto found = log_->Query(filter, 10, "", &next);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->size(), 3u);
  // Its leaves still prove it: the roots are theirs.
  for (uint32_t p = 0; p < log_->partitions(); ++p) {
    EXPECT_EQ(log_->Root(p), RootFromLeafHashes(LeafHashes(p))) << p;
  }
  // And nothing of it is left where it was.
  std::unique_ptr<rocksdb::Iterator> it(log_->db()->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const char kind = it->key()[0];
    EXPECT_TRUE(kind != 'A' && kind != 'E' && kind != 'S' && kind != 'L')
        << it->key().ToString();
    if (kind == 'N') {
      EXPECT_NE(it->key()[5], 0) << "a leaf hash left in default";
    }
  }
}

// Rewrites every chunk of leaves and leaf hashes as one entry a leaf, as an
// eidd before leaf_chunks.h stored them.
void ToOneLeafAnEntry(const std::string& path, uint32_t partitions) {
  absl::StatusOr<std::unique_ptr<RawAuditDb>> raw = RawAuditDb::Open(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  rocksdb::DB& db = (*raw)->db();
  rocksdb::WriteBatch batch;
  for (uint32_t p = 0; p < partitions; ++p) {
    for (bool leaves : {true, false}) {
      rocksdb::ColumnFamilyHandle* family = (*raw)->family(
          leaves ? AuditDb::LeavesFamily(p) : AuditDb::LeafHashesFamily(p));
      ASSERT_NE(family, nullptr);
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), family));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const std::string key = it->key().ToString(), value = it->value().ToString();
        uint64_t first = 0;
        ASSERT_TRUE(GetBigEndian64(key, key.size() - 8, &first));
        std::vector<absl::string_view> items;
        ASSERT_TRUE(leaves ? SplitLeafChunk(value, &items) : SplitHashChunk(value, &items));
        batch.Delete(family, key);
        for (size_t k = 0; k < items.size(); ++k) {
          batch.Put(family, leaves ? LeafKey(p, first + k) : NodeKey(p, 0, first + k),
                    rocksdb::Slice(items[k].data(), items[k].size()));
        }
      }
    }
  }
  ASSERT_TRUE(db.Write(rocksdb::WriteOptions(), &batch).ok());
}

TEST_F(AuditLogTest, AStoreWrittenOneLeafAnEntryIsReadAndGrowsInChunks) {
  const std::string alice(32, 'A');
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 100; ++i) events.push_back(Event(absl::StrCat("one-", i), alice));
  auto first = log_->Append(events);
  ASSERT_TRUE(first.ok()) << first.status();
  const uint32_t p = (*first)[0].partition;
  const Hash root = log_->Root(p);
  auto before = log_->ReadLeaves(p, 0, 100);
  ASSERT_TRUE(before.ok()) << before.status();
  log_.reset();
  ToOneLeafAnEntry(options_.path, options_.partitions);

  Open();
  EXPECT_EQ(log_->TreeSize(p), 100u);
  EXPECT_EQ(log_->Root(p), root);
  auto after = log_->ReadLeaves(p, 0, 100);
  ASSERT_TRUE(after.ok()) << after.status();
  for (int i = 0; i < 100; ++i) EXPECT_EQ((*after)[i].leaf_data(), (*before)[i].leaf_data());
  // Appends go on in chunks after them; proofs span both.
  events.clear();
  for (int i = 0; i < 70; ++i) events.push_back(Event(absl::StrCat("chunked-", i), alice));
  ASSERT_TRUE(log_->Append(events).ok());
  Open();
  ASSERT_EQ(log_->TreeSize(p), 170u);
  const std::vector<Hash> leaves = LeafHashes(p);
  ASSERT_EQ(leaves.size(), 170u);
  EXPECT_EQ(log_->Root(p), RootFromLeafHashes(leaves));
  for (uint64_t i : {0, 63, 99, 100, 150, 169}) {
    auto proof = log_->InclusionProof(p, i, 170);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(VerifyInclusion(i, 170, leaves[i], *proof, log_->Root(p)).ok()) << i;
  }
  v1::AuditFilter filter;
  filter.set_subject(alice);
  std::string next;
  auto found = log_->Query(filter, 200, "", &next);
  ASSERT_TRUE(found.ok()) << found.status();
  std::vector<std::string> ids, want;  // Newest first: by index, one time.
  for (const v1::AuditRecord& r : *found) ids.push_back(r.event().event_id());
  for (int i = 69; i >= 0; --i) want.push_back(absl::StrCat("chunked-", i));
  for (int i = 99; i >= 0; --i) want.push_back(absl::StrCat("one-", i));
  EXPECT_EQ(ids, want);
}

// Partition p's keys in `family` (leaves or leaf hashes) of the store at path.
std::vector<std::string> KeysOf(const std::string& path, const std::string& family) {
  std::vector<std::string> keys;
  absl::StatusOr<std::unique_ptr<RawAuditDb>> raw = RawAuditDb::Open(path);
  EXPECT_TRUE(raw.ok()) << raw.status();
  if (!raw.ok()) return keys;
  std::unique_ptr<rocksdb::Iterator> it(
      (*raw)->db().NewIterator(rocksdb::ReadOptions(), (*raw)->family(family)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  return keys;
}

TEST_F(AuditLogTest, EachGroupsLeavesAreStoredInChunksFromItsFirst) {
  const std::string alice(32, 'A');
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 100; ++i) events.push_back(Event(absl::StrCat("c-", i), alice));
  auto placed = log_->Append(events);
  ASSERT_TRUE(placed.ok()) << placed.status();
  const uint32_t p = (*placed)[0].partition;
  ASSERT_TRUE(log_->Append({Event("c-next", alice)}).ok());
  log_.reset();
  EXPECT_EQ(KeysOf(options_.path, AuditDb::LeavesFamily(p)),
            (std::vector<std::string>{LeafKey(p, 0), LeafKey(p, 64), LeafKey(p, 100)}));
  EXPECT_EQ(KeysOf(options_.path, AuditDb::LeafHashesFamily(p)),
            (std::vector<std::string>{NodeKey(p, 0, 0), NodeKey(p, 0, 64), NodeKey(p, 0, 100)}));
}

// Puts `value` under `key` of `family` in the closed store at `path`.
void PutRaw(const std::string& path, const std::string& family, const std::string& key,
            const std::string& value) {
  absl::StatusOr<std::unique_ptr<RawAuditDb>> raw = RawAuditDb::Open(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE((*raw)->db().Put(rocksdb::WriteOptions(), (*raw)->family(family), key, value).ok());
}

TEST_F(AuditLogTest, ALogWhoseLastLeavesDoNotReadWillNotOpenToAppendOverThem) {
  const uint32_t p = AppendOneSubjectThenClose(70, "u");
  PutRaw(options_.path, AuditDb::LeavesFamily(p), LeafKey(p, 64), std::string("\0\0\0", 3));
  ExpectOpenRefusedAsDataLoss();
}

TEST_F(AuditLogTest, ALogWithFewerLeavesThanItsLatestCheckpointWillNotOpen) {
  const std::string alice(32, 'A');
  auto placed = log_->Append({Event("k-1", alice), Event("k-2", alice)});
  ASSERT_TRUE(placed.ok()) << placed.status();
  const uint32_t p = (*placed)[0].partition;
  v1::Checkpoint checkpoint;
  checkpoint.set_partition(p);
  checkpoint.set_tree_size(2);
  ASSERT_TRUE(log_->PutCheckpoint(checkpoint).ok());
  Open();  // As many leaves as signed: opens.
  EXPECT_EQ(log_->TreeSize(p), 2u);
  log_.reset();
  // Signed at 3, then its third leaf lost; the checkpoint's value altered
  // too: its key still tells.
  PutRaw(options_.path, rocksdb::kDefaultColumnFamilyName, CheckpointKey(p, 3), "altered");
  ExpectOpenRefusedAsDataLoss();
}

TEST_F(AuditLogTest, ALogWhoseLeavesAndLeafHashesEndApartWillNotOpen) {
  const uint32_t p = AppendOneSubjectThenClose(70, "d");
  // The last hash chunk, one hash short: the leaves say 70, the hashes 69.
  PutRaw(options_.path, AuditDb::LeafHashesFamily(p), NodeKey(p, 0, 64), std::string(5 * 32, 'h'));
  ExpectOpenRefusedAsDataLoss();
}

TEST_F(AuditLogTest, AnUnreadableChunkOfLeafHashesFailsProofsAsDataLoss) {
  const uint32_t p = AppendOneSubjectThenClose(100, "h");
  PutRaw(options_.path, AuditDb::LeafHashesFamily(p), NodeKey(p, 0, 0), std::string(33, 'h'));
  Open();  // The tree is rebuilt from stored subtrees of level 4 and up.
  auto proof = log_->InclusionProof(p, 3, 100);
  EXPECT_EQ(proof.status().code(), absl::StatusCode::kDataLoss) << proof.status();
  auto read = log_->ReadLeaves(p, 60, 70);  // The leaves themselves still read.
  EXPECT_TRUE(read.ok()) << read.status();
}

// Every event a scan returns, page by page (`limit` records a page).
std::vector<std::string> ScanIds(const AuditLog& log, const v1::AuditFilter& filter, int limit,
                                 int* pages) {
  std::vector<std::string> ids;
  std::string token;
  *pages = 0;
  do {
    std::string next;
    auto page = log.ScanRecorded(filter, limit, token, &next);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    EXPECT_LE(static_cast<int>(page->size()), limit);
    for (const v1::AuditRecord& r : *page) ids.push_back(r.event().event_id());
    token = next;
    ++(*pages);
  } while (!token.empty());
  return ids;
}

TEST_F(AuditLogTest, AScanReadsTheWholeLogInTheOrderRecordedByActionAndTime) {
  // Three batches an hour apart, each over several subjects (so over the
  // partitions), the middle one with another action.
  clock_.Set(absl::FromUnixSeconds(1790000000));
  std::vector<std::string> all;
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<v1::AuditEvent> events;
    for (int i = 0; i < 40; ++i) {
      v1::AuditEvent e = Event(absl::StrCat("scan-", batch, "-", i), std::string(32, 'a' + i % 9));
      ToProtoTime(clock_.Now(), e.mutable_time());
      if (batch == 1) e.set_action("qr.issued");
      events.push_back(e);
      all.push_back(e.event_id());
    }
    ASSERT_TRUE(log_->Append(events).ok());
    clock_.Advance(absl::Hours(1));
  }
  int pages = 0;
  std::vector<std::string> ids = ScanIds(*log_, v1::AuditFilter(), 7, &pages);
  std::vector<std::string> sorted_ids = ids, sorted_all = all;
  std::sort(sorted_ids.begin(), sorted_ids.end());
  std::sort(sorted_all.begin(), sorted_all.end());
  EXPECT_EQ(sorted_ids, sorted_all);  // Each once.
  EXPECT_GE(pages, 120 / 7);
  // In each partition in the order recorded: batch 0's before batch 1's.
  std::string next;
  auto whole = log_->ScanRecorded(v1::AuditFilter(), 1000, "", &next);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_TRUE(next.empty());
  ASSERT_EQ(whole->size(), 120u);
  for (size_t k = 0; k < whole->size(); ++k) {
    const v1::AuditRecord& r = (*whole)[k];
    if (k == 0 || r.partition() != (*whole)[k - 1].partition()) {
      EXPECT_EQ(r.leaf_index(), 0u);  // Each partition from its first leaf,
      if (k > 0) EXPECT_GT(r.partition(), (*whole)[k - 1].partition());  // once.
    } else {
      EXPECT_EQ(r.leaf_index(), (*whole)[k - 1].leaf_index() + 1);  // In order.
    }
  }

  v1::AuditFilter filter;
  filter.set_action("qr.");
  ids = ScanIds(*log_, filter, 1000, &pages);
  EXPECT_EQ(ids.size(), 40u);
  for (const std::string& id : ids) EXPECT_TRUE(absl::StartsWith(id, "scan-1-")) << id;

  // From the third batch's hour: each partition entered at its first leaf
  // recorded then (the earlier ones are not even read), and nothing before.
  filter.Clear();
  ToProtoTime(absl::FromUnixSeconds(1790000000) + absl::Hours(2), filter.mutable_start_time());
  ids = ScanIds(*log_, filter, 1000, &pages);
  EXPECT_EQ(ids.size(), 40u);
  for (const std::string& id : ids) EXPECT_TRUE(absl::StartsWith(id, "scan-2-")) << id;
  ToProtoTime(absl::FromUnixSeconds(1790000000) + absl::Hours(1), filter.mutable_end_time());
  std::string ignored;
  EXPECT_EQ(ReasonOf(log_->ScanRecorded(filter, 10, "", &ignored).status()), "FIELD_INVALID");
  filter.Clear();
  filter.set_actor("anonymous");
  EXPECT_EQ(ReasonOf(log_->ScanRecorded(filter, 10, "", &ignored).status()), "FIELD_INVALID");
  EXPECT_EQ(ReasonOf(log_->ScanRecorded(v1::AuditFilter(), 10, "bm90IGEgdG9rZW4", &ignored)
                         .status()),
            "PAGE_TOKEN_INVALID");
}

TEST_F(AuditLogTest, LeavesAreNeverRecordedBeforeTheLastOneEvenWithTheClockSetBack) {
  clock_.Set(absl::FromUnixSeconds(1790000000));
  const std::string alice(32, 'A');
  auto first = log_->Append({Event("back-1", alice)});
  ASSERT_TRUE(first.ok()) << first.status();
  const uint32_t p = (*first)[0].partition;
  clock_.Advance(-absl::Hours(1));  // An NTP step back.
  ASSERT_TRUE(log_->Append({Event("back-2", alice)}).ok());
  Open();  // And across a restart.
  ASSERT_TRUE(log_->Append({Event("back-3", alice)}).ok());
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(log_->Append({Event("back-4", alice)}).ok());
  auto leaves = log_->ReadLeaves(p, 0, 4);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  std::vector<absl::Time> recorded;
  for (const v1::AuditRecord& r : *leaves) recorded.push_back(FromProtoTime(r.recorded_at()));
  EXPECT_EQ(recorded[1], recorded[0]);
  EXPECT_EQ(recorded[2], recorded[0]);
  EXPECT_EQ(recorded[3], absl::FromUnixSeconds(1790000000) + absl::Hours(1));
  // So a scan from the first time finds all four.
  auto from = log_->FirstRecordedAtOrAfter(p, 4, recorded[0]);
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(*from, 0u);
}

TEST_F(AuditLogTest, AScanFromATimeEntersEachPartitionByBinarySearch) {
  clock_.Set(absl::FromUnixSeconds(1790000000));
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 300; ++i) {
    events.push_back(Event(absl::StrCat("bs-", i), std::string(32, 'B')));
    ToProtoTime(clock_.Now(), events.back().mutable_time());
    ASSERT_TRUE(log_->Append({events.back()}).ok());  // Recorded one a minute.
    clock_.Advance(absl::Minutes(1));
  }
  const uint32_t p = (*log_->Append({events[0]}))[0].partition;
  for (int k : {0, 1, 150, 299}) {
    const absl::Time t = absl::FromUnixSeconds(1790000000) + absl::Minutes(k);
    auto first = log_->FirstRecordedAtOrAfter(p, 300, t);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(*first, static_cast<uint64_t>(k));
  }
  auto none = log_->FirstRecordedAtOrAfter(p, 300, absl::FromUnixSeconds(1790000000) +
                                                       absl::Minutes(300));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 300u);
}

TEST_F(AuditLogTest, EachPartitionsLeavesAndTheirHashesHaveFamiliesOfTheirOwn) {
  std::vector<v1::AuditEvent> events;
  for (int i = 0; i < 40; ++i) {
    events.push_back(Event(absl::StrCat("f", i), std::string(32, 'a' + i % 7)));
  }
  ASSERT_TRUE(log_->Append(events).ok());
  log_.reset();
  absl::StatusOr<std::unique_ptr<RawAuditDb>> raw = RawAuditDb::Open(options_.path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  uint64_t total = 0;
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    rocksdb::ColumnFamilyHandle* family = (*raw)->family(AuditDb::LeavesFamily(p));
    ASSERT_NE(family, nullptr) << p;
    std::unique_ptr<rocksdb::Iterator> it((*raw)->db().NewIterator(rocksdb::ReadOptions(), family));
    uint64_t expected = 0;  // Leaves in chunks, each keyed by its first.
    std::vector<absl::string_view> chunk;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      EXPECT_EQ(it->key().ToString(), LeafKey(p, expected));  // Its own, in order.
      const std::string value = it->value().ToString();
      ASSERT_TRUE(SplitLeafChunk(value, &chunk));
      expected += chunk.size();
    }
    total += expected;
    rocksdb::ColumnFamilyHandle* hashes = (*raw)->family(AuditDb::LeafHashesFamily(p));
    ASSERT_NE(hashes, nullptr) << p;
    it.reset((*raw)->db().NewIterator(rocksdb::ReadOptions(), hashes));
    uint64_t hashed = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      EXPECT_EQ(it->key().ToString(), NodeKey(p, 0, hashed));
      const std::string value = it->value().ToString();
      ASSERT_TRUE(SplitHashChunk(value, &chunk));
      hashed += chunk.size();
    }
    EXPECT_EQ(hashed, expected);
  }
  EXPECT_EQ(total, 40u);
}

TEST_F(AuditLogTest, AnotherPartitionCountIsRefusedAndAddsNothing) {
  ASSERT_TRUE(log_->Append({Event("p1", std::string(32, 'p'))}).ok());
  log_.reset();
  AuditLog::Options other = options_;
  other.partitions = options_.partitions + 2;
  absl::StatusOr<std::unique_ptr<AuditLog>> refused = AuditLog::Open(other, clock_);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options_.path, &families).ok());
  EXPECT_EQ(std::count(families.begin(), families.end(),
                       AuditDb::LeavesFamily(options_.partitions)),
            0);
  Open();  // The right count still opens it.
  EXPECT_EQ(log_->TreeSize(0) + log_->TreeSize(1) + log_->TreeSize(2) + log_->TreeSize(3), 1u);
}

TEST(CheckpointSignerTest, SignedCheckpointsVerifyAndAnyChangeIsCaught) {
  auto signer = CheckpointSigner::FromSeed(std::string(32, '\x07'), absl::UnixEpoch());
  ASSERT_TRUE(signer.ok());
  const Hash root = LeafHash("x");
  const v1::Checkpoint c =
      (*signer)->Sign(2, 10, root, absl::FromUnixSeconds(1790000000));
  const std::vector<v1::VerificationKey> keys = {(*signer)->public_key()};
  EXPECT_TRUE(VerifyCheckpoint(c, keys).ok());
  EXPECT_EQ(c.body(), CheckpointBody(2, 10, root, absl::FromUnixSeconds(1790000000)));

  v1::Checkpoint bigger = c;
  bigger.set_tree_size(11);  // Fields that disagree with the signed body.
  EXPECT_EQ(VerifyCheckpoint(bigger, keys).code(), absl::StatusCode::kDataLoss);
  v1::Checkpoint forged = c;
  forged.mutable_body()->back() = ' ';
  EXPECT_EQ(VerifyCheckpoint(forged, keys).code(), absl::StatusCode::kDataLoss);
  v1::Checkpoint unknown = c;
  unknown.set_key_id(c.key_id() + 1);
  EXPECT_EQ(VerifyCheckpoint(unknown, keys).code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(CheckpointSigner::FromSeed("short", absl::UnixEpoch()).ok());
}

// A server under $TEST_TMPDIR/<name> that checkpoints only when told
// (CheckpointNow).
AuditServer::Options ServerOptions(absl::string_view name) {
  const std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
  AuditServer::Options options;
  options.dir = dir + "/log";
  options.signing_seed_file = dir + "/keys/audit_signing_seed";
  options.checkpoint_interval = absl::ZeroDuration();
  return options;
}

TEST(AuditServerTest, CheckpointsArePagedOldestFirstAndEachVerifies) {
  FakeClock clock;
  const AuditServer::Options options = ServerOptions("server");
  ASSERT_TRUE(EnsureDevSecretFile(options.signing_seed_file, 32, SystemRandom::Get()).ok());
  auto server = AuditServer::Open(options, clock);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string subject(32, 'q');
  for (int i = 0; i < 5; ++i) {  // Sizes 0 (at open), 1, 2, 3, 4, 5.
    ASSERT_TRUE((*server)->log().Append({Event(absl::StrCat("c", i), subject)}).ok());
    clock.Advance(absl::Seconds(1));
    ASSERT_TRUE((*server)->CheckpointNow().ok());
  }
  const uint32_t p = (*(*server)->log().Append({Event("c0", subject)}))[0].partition;
  ASSERT_TRUE((*server)->CheckpointNow().ok());  // Nothing grew: no new one.

  v1::GetCheckpointKeysResponse keys;
  ASSERT_TRUE((*server)->service().GetCheckpointKeys(nullptr, nullptr, &keys).ok());
  const std::vector<v1::VerificationKey> key_list(keys.keys().begin(), keys.keys().end());
  v1::ListCheckpointsRequest request;
  request.set_partition(p);
  request.mutable_page()->set_page_size(4);
  std::vector<uint64_t> sizes;
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListCheckpointsResponse page;
    ASSERT_TRUE((*server)->service().ListCheckpoints(nullptr, &request, &page).ok());
    for (const v1::Checkpoint& c : page.checkpoints()) {
      sizes.push_back(c.tree_size());
      EXPECT_TRUE(VerifyCheckpoint(c, key_list).ok()) << c.tree_size();
    }
    if (page.next_page_token().empty()) break;
    request.mutable_page()->set_page_token(page.next_page_token());
  }
  EXPECT_EQ(sizes, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
  request.mutable_page()->set_page_token("not a size");
  v1::ListCheckpointsResponse bad;
  EXPECT_EQ((*server)->service().ListCheckpoints(nullptr, &request, &bad).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(AuditServerTest, CheckpointsStayCheckableAfterTheSigningKeyIsReplaced) {
  FakeClock clock;
  const AuditServer::Options options = ServerOptions("rotation");
  const auto new_seed = [&] {
    std::filesystem::remove(options.signing_seed_file);
    return EnsureDevSecretFile(options.signing_seed_file, 32, SystemRandom::Get());
  };
  const auto keys_of = [](AuditServer& server) {
    v1::GetCheckpointKeysResponse keys;
    EXPECT_TRUE(server.service().GetCheckpointKeys(nullptr, nullptr, &keys).ok());
    return std::vector<v1::VerificationKey>(keys.keys().begin(), keys.keys().end());
  };
  const std::string subject(32, 'r');
  ASSERT_TRUE(new_seed().ok());
  uint32_t p = 0;
  uint32_t old_id = 0;
  {
    auto server = AuditServer::Open(options, clock);
    ASSERT_TRUE(server.ok()) << server.status();
    p = (*(*server)->log().Append({Event("before", subject)}))[0].partition;
    ASSERT_TRUE((*server)->CheckpointNow().ok());
    old_id = (*server)->signer().public_key().key_id();
  }
  clock.Advance(absl::Hours(1));
  ASSERT_TRUE(new_seed().ok());
  const absl::Time replaced_at = clock.Now();
  std::vector<v1::VerificationKey> keys;
  {
    auto server = AuditServer::Open(options, clock);
    ASSERT_TRUE(server.ok()) << server.status();
    ASSERT_TRUE((*server)->log().Append({Event("after", subject)}).ok());
    ASSERT_TRUE((*server)->CheckpointNow().ok());
    keys = keys_of(**server);
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].key_id(), (*server)->signer().public_key().key_id());
    EXPECT_FALSE(keys[0].has_signing_until());
    EXPECT_EQ(keys[1].key_id(), old_id);
    EXPECT_EQ(FromProtoTime(keys[1].signing_until()), replaced_at);

    v1::ListCheckpointsRequest request;
    request.set_partition(p);
    v1::ListCheckpointsResponse list;
    ASSERT_TRUE((*server)->service().ListCheckpoints(nullptr, &request, &list).ok());
    ASSERT_GE(list.checkpoints_size(), 3);  // Size 0 and 1 by the old key, 2 by the new.
    for (const v1::Checkpoint& c : list.checkpoints()) {
      EXPECT_TRUE(VerifyCheckpoint(c, keys).ok()) << c.tree_size();
    }
    // Without the old key the old checkpoints could not be checked.
    EXPECT_EQ(list.checkpoints(0).key_id(), old_id);
    EXPECT_EQ(VerifyCheckpoint(list.checkpoints(0), {keys[0]}).code(),
              absl::StatusCode::kDataLoss);
  }
  clock.Advance(absl::Hours(1));
  auto again = AuditServer::Open(options, clock);  // Same key: nothing changes.
  ASSERT_TRUE(again.ok()) << again.status();
  const std::vector<v1::VerificationKey> same = keys_of(**again);
  ASSERT_EQ(same.size(), 2u);
  for (size_t i = 0; i < same.size(); ++i) {
    EXPECT_EQ(same[i].SerializeAsString(), keys[i].SerializeAsString()) << i;
  }
}

}  // namespace
}  // namespace eid::audit
