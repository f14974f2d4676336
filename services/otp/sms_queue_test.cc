#include "services/otp/sms_queue.h"

#include <thread>

#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/audit/recording_audit_sink.h"
#include "services/otp/otp_keys.h"
#include "services/otp/otp_testing.h"
#include "services/otp/record_io.h"
#include "storage/shard/forwarding_kv_store.h"
#include "tests/util/metric_value.h"

namespace eid::otp {
namespace {

using testing::FakeSmsSender;
using ::eid::testing::MetricValue;

class SmsQueueTest : public ::testing::Test {
 protected:
  SmsQueueTest() { kv_ = testing::OpenStore("smsq", clock_); }

  SmsQueue& Queue() {
    if (!queue_) {
      queue_ = std::make_unique<SmsQueue>(options_, *kv_, sender_, clock_,
                                          random_, metrics_);
    }
    return *queue_;
  }

  std::string Enqueue(const std::string& text = "hello",
                      bool sensitive = false) {
    SmsQueue::Outgoing sms;
    sms.phone = "+84912345678";
    sms.text = text;
    sms.sensitive = sensitive;
    absl::StatusOr<std::string> id = Queue().Enqueue(sms);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or("");
  }

  v1::GetDeliveryStatusResponse StatusOf(const std::string& id) {
    absl::StatusOr<v1::GetDeliveryStatusResponse> s = Queue().Status(id);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.value_or(v1::GetDeliveryStatusResponse());
  }

  // The pass timings the tests of passes are written for (the defaults).
  void UsePassTimings() {
    options_.clock_slack = absl::Seconds(5);
    options_.slack_interval = absl::Seconds(1);
    options_.recent = absl::Milliseconds(250);
    options_.full_pass_interval = absl::Minutes(1);
  }

  // A message queued by another sender whose clock is `lag` behind; its id.
  std::string EnqueueFromLaggingSender(absl::Duration lag) {
    FakeClock lagging(clock_.Now() - lag);
    SmsQueue other(options_, *kv_, sender_, lagging, random_, metrics_);
    SmsQueue::Outgoing sms;
    sms.phone = "+84912345678";
    sms.text = "late";
    absl::StatusOr<std::string> id = other.Enqueue(sms);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or("");
  }

  SmsQueue::RunStats Run() {
    absl::StatusOr<SmsQueue::RunStats> stats = Queue().RunOnce();
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.value_or(SmsQueue::RunStats());
  }

  FakeClock clock_{absl::FromUnixSeconds(1735700000)};
  std::unique_ptr<storage::RocksDbKvStore> kv_;
  FakeSmsSender sender_;
  DeterministicRandom random_{3};
  prometheus::Registry metrics_;
  SmsQueue::Options options_;
  std::unique_ptr<SmsQueue> queue_;
};

TEST_F(SmsQueueTest, QueuedMessageIsSentOnceAndReportedSent) {
  const absl::Time queued = clock_.Now();
  const std::string id = Enqueue("VNeID: hello");
  v1::GetDeliveryStatusResponse s = StatusOf(id);
  EXPECT_EQ(s.state(), v1::DELIVERY_STATE_QUEUED);
  EXPECT_EQ(FromProtoTime(s.next_attempt_at()), queued);
  EXPECT_EQ(s.masked_phone(), "+84******678");
  EXPECT_EQ(s.transport(), "fake");

  clock_.Advance(absl::Milliseconds(250));
  SmsQueue::RunStats stats = Run();
  EXPECT_EQ(stats.sent, 1);
  ASSERT_EQ(sender_.sent().size(), 1u);
  EXPECT_EQ(sender_.sent()[0].text, "VNeID: hello");
  EXPECT_EQ(sender_.sent()[0].to, "+84912345678");
  EXPECT_EQ(sender_.sent()[0].message_id, id);
  s = StatusOf(id);
  EXPECT_EQ(s.state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(s.attempts(), 1);
  EXPECT_EQ(FromProtoTime(s.queued_at()), queued);
  EXPECT_EQ(FromProtoTime(s.last_attempt_at()),
            queued + absl::Milliseconds(250));
  EXPECT_FALSE(s.has_next_attempt_at());

  EXPECT_EQ(Run().sent, 0);
  EXPECT_EQ(sender_.calls(), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_sent_total"), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_accept_latency_seconds"), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_queue_depth"), 0);
}

TEST_F(SmsQueueTest, TheTextOfASentCodeIsErased) {
  const std::string id = Enqueue("code 123456", /*sensitive=*/true);
  Run();
  absl::StatusOr<Versioned<SmsRecord>> m =
      Read<SmsRecord>(*kv_, SmsKey(PartitionOfMessageId(id, 4), id));
  ASSERT_TRUE(m.ok() && m->found());
  EXPECT_EQ(m->value.text(), "");
  EXPECT_EQ(m->value.state(), v1::DELIVERY_STATE_SENT);
}

TEST_F(SmsQueueTest, FailuresAreRetriedWithExponentialBackoffThenDeadLettered) {
  options_.max_attempts = 4;
  options_.initial_backoff = absl::Seconds(5);
  sender_.FailAlways(true);
  const std::string id = Enqueue("x", true);

  EXPECT_EQ(Run().failed, 1);
  v1::GetDeliveryStatusResponse s = StatusOf(id);
  EXPECT_EQ(s.state(), v1::DELIVERY_STATE_FAILED);
  EXPECT_EQ(s.attempts(), 1);
  EXPECT_EQ(s.last_error(), "fake: gateway down");
  EXPECT_EQ(FromProtoTime(s.next_attempt_at()),
            clock_.Now() + absl::Seconds(5));

  // Waits 5 s, then 10 s, then 20 s; nothing is attempted early.
  for (absl::Duration wait :
       {absl::Seconds(5), absl::Seconds(10), absl::Seconds(20)}) {
    const int calls = sender_.calls();
    clock_.Advance(wait - absl::Milliseconds(1));
    Run();
    EXPECT_EQ(sender_.calls(), calls) << wait;
    clock_.Advance(absl::Milliseconds(1));
    Run();
    EXPECT_EQ(sender_.calls(), calls + 1) << wait;
  }
  s = StatusOf(id);
  EXPECT_EQ(s.state(), v1::DELIVERY_STATE_DEAD_LETTERED);
  EXPECT_EQ(s.attempts(), 4);
  EXPECT_EQ(s.last_error(), "fake: gateway down");
  EXPECT_FALSE(s.has_next_attempt_at());

  // The dead letter is kept for operators, without the code.
  absl::StatusOr<Versioned<SmsRecord>> dead =
      Read<SmsRecord>(*kv_, DeadKey(PartitionOfMessageId(id, 4), id));
  ASSERT_TRUE(dead.ok() && dead->found());
  EXPECT_EQ(dead->value.attempts(), 4);
  EXPECT_EQ(dead->value.text(), "");

  clock_.Advance(absl::Hours(1));
  Run();
  EXPECT_EQ(sender_.calls(), 4);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_send_failures_total"), 4);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_dead_lettered_total"), 1);
}

TEST_F(SmsQueueTest, BackoffIsCappedAtMaxBackoff) {
  options_.max_attempts = 10;
  options_.initial_backoff = absl::Seconds(5);
  options_.max_backoff = absl::Seconds(12);
  sender_.FailAlways(true);
  const std::string id = Enqueue();
  Run();
  clock_.Advance(absl::Seconds(5));
  Run();
  clock_.Advance(absl::Seconds(10));
  Run();
  EXPECT_EQ(FromProtoTime(StatusOf(id).next_attempt_at()),
            clock_.Now() + absl::Seconds(12));
}

TEST_F(SmsQueueTest, AMessageSucceedsAfterTransientFailures) {
  sender_.FailNext(2);
  const std::string id = Enqueue();
  Run();
  clock_.Advance(absl::Seconds(5));
  Run();
  clock_.Advance(absl::Seconds(10));
  Run();
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(StatusOf(id).attempts(), 3);
  EXPECT_EQ(sender_.sent().size(), 1u);
}

TEST_F(SmsQueueTest, QueuedMessagesSurviveARestart) {
  const std::string path = testing::FreshDir("restart");
  kv_ = testing::OpenStoreAt(path, clock_);
  const std::string id = Enqueue("kept");
  queue_.reset();
  kv_.reset();
  kv_ = testing::OpenStoreAt(path, clock_);
  Run();
  ASSERT_EQ(sender_.sent().size(), 1u);
  EXPECT_EQ(sender_.sent()[0].message_id, id);
}

TEST_F(SmsQueueTest, DepthCountsWaitingMessages) {
  sender_.FailAlways(true);
  Enqueue();
  Enqueue();
  Enqueue();
  EXPECT_EQ(Run().depth, 3);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_queue_depth"), 3);
  sender_.FailAlways(false);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(Run().depth, 0);
  EXPECT_EQ(sender_.sent().size(), 3u);
}

TEST_F(SmsQueueTest, DepthIsRecountedOncePerDepthInterval) {
  sender_.FailAlways(true);
  Enqueue();
  EXPECT_EQ(Run().depth, 1);
  // Within the interval the last count stands (no scan of every partition).
  Enqueue();
  EXPECT_EQ(Run().depth, 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_queue_depth"), 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Run().depth, 2);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_queue_depth"), 2);
}

TEST_F(SmsQueueTest, EnqueueWithAnExistingIdQueuesNothingMore) {
  SmsQueue::Outgoing sms;
  sms.message_id = Queue().NewMessageId();
  sms.phone = "+84912345678";
  sms.text = "once";
  ASSERT_EQ(*Queue().Enqueue(sms), sms.message_id);
  ASSERT_EQ(*Queue().Enqueue(sms), sms.message_id);
  Run();
  ASSERT_EQ(*Queue().Enqueue(sms), sms.message_id);
  Run();
  EXPECT_EQ(sender_.calls(), 1);
}

TEST_F(SmsQueueTest, UnknownMessageIsNotFound) {
  EXPECT_EQ(ReasonOf(Queue().Status("m0-" + std::string(32, '0')).status()),
            "MESSAGE_NOT_FOUND");
  EXPECT_EQ(ReasonOf(Queue().Status("garbage").status()), "MESSAGE_NOT_FOUND");
}

TEST_F(SmsQueueTest, EachMessageGivenUpIsAuditedWithAStableReason) {
  audit::RecordingAuditSink audit;
  options_.audit = &audit;
  options_.max_attempts = 2;
  options_.initial_backoff = absl::Seconds(5);
  sender_.FailAlways(true);
  const std::string failed = Enqueue("notice");
  Run();
  clock_.Advance(absl::Seconds(5));
  Run();
  SmsQueue::Outgoing code;
  code.phone = "+84912345678";
  code.text = "code";
  code.content_expires_at = clock_.Now() + absl::Minutes(5);
  const std::string expired = *Queue().Enqueue(code);
  clock_.Advance(absl::Minutes(5));
  Run();
  const std::vector<v1::AuditEvent> events = audit.WithAction("otp.dead_lettered");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].attributes().at("message_id"), failed);
  EXPECT_EQ(events[0].reason(), "SEND_FAILED");
  EXPECT_EQ(events[0].attributes().at("attempts"), "2");
  EXPECT_EQ(events[1].attributes().at("message_id"), expired);
  EXPECT_EQ(events[1].reason(), "CODE_EXPIRED");
  for (const v1::AuditEvent& e : events) {
    EXPECT_EQ(e.service(), "otp");
    EXPECT_EQ(e.outcome(), v1::AUDIT_OUTCOME_ERROR);
    EXPECT_EQ(e.attributes().at("phone"), "+84******678");
  }
}

TEST_F(SmsQueueTest, ExpiredContentIsNotSent) {
  SmsQueue::Outgoing sms;
  sms.phone = "+84912345678";
  sms.text = "code";
  sms.content_expires_at = clock_.Now() + absl::Minutes(5);
  const std::string id = *Queue().Enqueue(sms);
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(Run().dropped, 1);
  EXPECT_EQ(sender_.calls(), 0);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_DEAD_LETTERED);
  EXPECT_EQ(StatusOf(id).last_error(), "expired before delivery");
}

TEST_F(SmsQueueTest, ACodeNeverStoredIsWaitedForThenNotSent) {
  options_.commit_grace = absl::Seconds(10);
  SmsQueue::Outgoing sms;
  sms.phone = "+84912345678";
  sms.text = "code";
  sms.guard_key = "acc|otp|1";
  sms.guard_otp_id = "o1.YWNj.1.1.0123456789abcdef";
  const std::string id = *Queue().Enqueue(sms);
  for (int i = 0; i < 9; ++i) {
    Run();
    clock_.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_QUEUED);
  clock_.Advance(absl::Seconds(1));
  Run();
  EXPECT_EQ(sender_.calls(), 0);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_DEAD_LETTERED);
}

// Records where each scan of the due index starts.
class ScanStartRecorder : public storage::ForwardingKvStore {
 public:
  using ForwardingKvStore::ForwardingKvStore;
  absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& r) override {
    if (r.prefix() == DuePrefix(0) && !r.keys_only()) starts.push_back(r.start_at());
    return store_.Scan(r);
  }
  std::vector<std::string> starts;
};

TEST_F(SmsQueueTest, APassStartsWhereTheLastCompletePassEnded) {
  options_.clock_slack = absl::Seconds(5);
  options_.full_pass_interval = absl::Minutes(1);
  ScanStartRecorder recorder(*kv_);
  SmsQueue queue(options_, recorder, sender_, clock_, random_, metrics_);
  const absl::Time first = clock_.Now();
  ASSERT_TRUE(queue.RunOnce().ok());
  clock_.Advance(absl::Seconds(20));
  ASSERT_TRUE(queue.RunOnce().ok());
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(queue.RunOnce().ok());
  // The first pass and the one a minute later start at the beginning (""),
  // the one between at the first pass's time less the slack.
  EXPECT_EQ(recorder.starts,
            (std::vector<std::string>{"", DueKey(0, first - absl::Seconds(5), ""), ""}));
}

TEST_F(SmsQueueTest, PassesBetweenReachBackOnlyTheRecentPastAndOnceASecondTheSlack) {
  UsePassTimings();
  ScanStartRecorder recorder(*kv_);
  SmsQueue queue(options_, recorder, sender_, clock_, random_, metrics_);
  const absl::Time first = clock_.Now();
  ASSERT_TRUE(queue.RunOnce().ok());  // From the beginning.
  clock_.Advance(absl::Milliseconds(100));
  const absl::Time second = clock_.Now();
  ASSERT_TRUE(queue.RunOnce().ok());
  clock_.Advance(absl::Milliseconds(100));
  ASSERT_TRUE(queue.RunOnce().ok());
  clock_.Advance(absl::Seconds(1));
  const absl::Time fourth = clock_.Now();
  ASSERT_TRUE(queue.RunOnce().ok());  // A second on: a slack pass.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(queue.RunOnce().ok());  // Another.
  // Slack passes reach back from where the last slack pass began.
  EXPECT_EQ(recorder.starts,
            (std::vector<std::string>{"", DueKey(0, first - absl::Milliseconds(250), ""),
                                      DueKey(0, second - absl::Milliseconds(250), ""),
                                      DueKey(0, first - absl::Seconds(5), ""),
                                      DueKey(0, fourth - absl::Seconds(5), "")}));
}

TEST_F(SmsQueueTest, AMessageOfASenderALittleBehindIsSentByTheNextSlackPass) {
  UsePassTimings();
  Run();
  // Another sender whose clock is 2 s behind queues a message: behind where
  // the quick passes start, within the slack.
  const std::string id = EnqueueFromLaggingSender(absl::Seconds(2));
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_EQ(Run().sent, 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Run().sent, 1);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
}

TEST_F(SmsQueueTest, TheSlackPassReachesBackFromTheLastSlackPassNotTheLastPass) {
  UsePassTimings();
  Run();
  clock_.Advance(absl::Milliseconds(50));
  // 4.5 s behind: within the slack of the pass at the start, not of the
  // quick passes that follow it.
  const std::string id = EnqueueFromLaggingSender(absl::Milliseconds(4500));
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Milliseconds(200));
    EXPECT_EQ(Run().sent, 0);
  }
  clock_.Advance(absl::Milliseconds(200));  // A second after the first pass.
  EXPECT_EQ(Run().sent, 1);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
}

TEST_F(SmsQueueTest, AClockSetBackKeepsTheSlackPassesGoing) {
  UsePassTimings();
  ScanStartRecorder recorder(*kv_);
  SmsQueue queue(options_, recorder, sender_, clock_, random_, metrics_);
  ASSERT_TRUE(queue.RunOnce().ok());
  clock_.Advance(-absl::Seconds(10));
  const absl::Time back = clock_.Now();
  ASSERT_TRUE(queue.RunOnce().ok());  // Behind the last pass: from the beginning.
  clock_.Advance(absl::Milliseconds(1200));
  ASSERT_TRUE(queue.RunOnce().ok());
  // A second after the clock went back, a slack pass: not one put off until
  // the clock is back where it was.
  EXPECT_EQ(recorder.starts,
            (std::vector<std::string>{"", "", DueKey(0, back - absl::Seconds(5), "")}));
}

TEST_F(SmsQueueTest, AMessageQueuedBehindThePassStartIsSentByTheNextFullPass) {
  options_.clock_slack = absl::Seconds(5);
  options_.full_pass_interval = absl::Minutes(1);
  Run();
  clock_.Advance(absl::Seconds(30));
  Run();
  // Another sender whose clock is 40 s behind queues a message: its due
  // entry lies before where this sender's passes now start.
  const std::string id = EnqueueFromLaggingSender(absl::Seconds(40));
  clock_.Advance(absl::Seconds(1));
  Run();
  EXPECT_EQ(sender_.calls(), 0);
  clock_.Advance(absl::Seconds(29));
  EXPECT_EQ(Run().sent, 1);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
}

// The message queued, each claim (its attempt number goes out with the SMS)
// and a message given up wait for the fsync; a send's outcome, which a
// power loss turns into a resend after the lease, does not.
TEST_F(SmsQueueTest, ASendsOutcomeIsTheOnlyWriteThatDoesNotWaitForAnFsync) {
  options_.max_attempts = 2;
  testing::SyncRecorder recorder(*kv_);
  SmsQueue queue(options_, recorder, sender_, clock_, random_, metrics_);
  SmsQueue::Outgoing sms;
  sms.phone = "+84912345678";
  sms.text = "x";
  ASSERT_TRUE(queue.Enqueue(sms).ok());
  EXPECT_EQ(recorder.synced, 1);
  ASSERT_TRUE(queue.RunOnce().ok());  // Claimed, sent.
  EXPECT_EQ(recorder.synced, 2);
  EXPECT_EQ(recorder.deferred, 1);

  sender_.FailAlways(true);
  ASSERT_TRUE(queue.Enqueue(sms).ok());
  ASSERT_TRUE(queue.RunOnce().ok());  // Claimed, failed: retried later.
  EXPECT_EQ(recorder.synced, 4);
  EXPECT_EQ(recorder.deferred, 2);
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(queue.RunOnce().ok());  // Claimed, failed: dead-lettered.
  EXPECT_EQ(recorder.synced, 6);
  EXPECT_EQ(recorder.deferred, 2);
}

// A power loss on a shard: what each deferred batch overwrote since the
// last synced one is put back (a synced batch makes every write before it
// durable, as RocksDB's one WAL does).
class PowerLossStore : public storage::ForwardingKvStore {
 public:
  using ForwardingKvStore::ForwardingKvStore;
  absl::StatusOr<v1::BatchResponse> Batch(const v1::BatchRequest& r) override {
    if (!r.defer_sync()) {
      absl::StatusOr<v1::BatchResponse> done = store_.Batch(r);
      if (done.ok()) before_.clear();
      return done;
    }
    std::vector<Before> before;
    for (const v1::Mutation& m : r.mutations()) {
      v1::GetRequest get;
      get.set_namespace_(m.namespace_());
      get.set_key(m.key());
      absl::StatusOr<v1::GetResponse> got = store_.Get(get);
      if (!got.ok()) return got.status();
      before.push_back({got->found(), got->record()});
      before.back().record.set_namespace_(m.namespace_());
      before.back().record.set_key(m.key());
    }
    absl::StatusOr<v1::BatchResponse> done = store_.Batch(r);
    if (done.ok()) before_.insert(before_.end(), before.begin(), before.end());
    return done;
  }
  void PowerLoss() {
    for (auto it = before_.rbegin(); it != before_.rend(); ++it) {
      v1::BatchRequest undo;
      v1::Mutation* m = undo.add_mutations();
      m->set_namespace_(it->record.namespace_());
      m->set_key(it->record.key());
      if (it->found) {
        m->set_put_value(it->record.value());
        if (it->record.has_expires_at()) *m->mutable_expires_at() = it->record.expires_at();
      } else {
        m->set_delete_record(true);
      }
      ASSERT_TRUE(store_.Batch(undo).ok());
    }
    before_.clear();
  }

 private:
  struct Before {
    bool found;
    v1::Record record;
  };
  std::vector<Before> before_;
};

// A power loss that takes back a send's outcome leaves the message claimed:
// it is sent again after the lease as attempt 2, never as a second attempt
// 1 (a late report on the first would then be taken for it).
TEST_F(SmsQueueTest, APowerLossAfterASendResendsItUnderTheNextAttemptNumber) {
  PowerLossStore shard(*kv_);
  absl::StatusOr<std::string> id;
  {
    SmsQueue queue(options_, shard, sender_, clock_, random_, metrics_);
    SmsQueue::Outgoing sms;
    sms.phone = "+84912345678";
    sms.text = "x";
    id = queue.Enqueue(sms);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(queue.RunOnce().ok());
  }
  shard.PowerLoss();
  prometheus::Registry after_restart;
  SmsQueue queue(options_, shard, sender_, clock_, random_, after_restart);
  clock_.Advance(options_.lease + absl::Seconds(1));
  ASSERT_TRUE(queue.RunOnce().ok());
  ASSERT_EQ(sender_.sent().size(), 2u);
  EXPECT_EQ(sender_.sent()[0].attempt, 1);
  EXPECT_EQ(sender_.sent()[1].attempt, 2);
  EXPECT_EQ(queue.Status(*id)->state(), v1::DELIVERY_STATE_SENT);
}

// A shard from before ScanRequest's range: it ignores start_at/stop_before.
class RangeBlindStore : public storage::ForwardingKvStore {
 public:
  using ForwardingKvStore::ForwardingKvStore;
  absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& r) override {
    v1::ScanRequest whole = r;
    whole.clear_start_at();
    whole.clear_stop_before();
    return store_.Scan(whole);
  }
};

TEST_F(SmsQueueTest, AMessageNotYetDueIsLeftAloneEvenByAShardThatReturnsIt) {
  RangeBlindStore old_shard(*kv_);
  SmsQueue queue(options_, old_shard, sender_, clock_, random_, metrics_);
  sender_.FailAlways(true);
  SmsQueue::Outgoing sms;
  sms.phone = "+84912345678";
  sms.text = "x";
  ASSERT_TRUE(queue.Enqueue(sms).ok());
  ASSERT_TRUE(queue.RunOnce().ok());  // Fails: due again after the backoff.
  sender_.FailAlways(false);
  clock_.Advance(options_.initial_backoff - absl::Seconds(1));
  ASSERT_TRUE(queue.RunOnce().ok());
  EXPECT_EQ(sender_.calls(), 1);  // Not before its backoff.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(queue.RunOnce().ok());
  EXPECT_EQ(sender_.calls(), 2);
}

TEST_F(SmsQueueTest, TheSenderThreadDeliversWithoutBeingDriven) {
  Queue().Start();
  const std::string id = Enqueue();
  // Waits for the thread (real time), not for an expiry.
  for (int i = 0; i < 500 && sender_.sent().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Queue().Stop();
  ASSERT_EQ(sender_.sent().size(), 1u);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
}

}  // namespace
}  // namespace eid::otp
