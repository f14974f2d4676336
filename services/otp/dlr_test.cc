// Delivery reports: the dlr-url and its token, Kannel's types, what a report
// does to a queued message (with a FakeClock: no sleeps), and the HTTP
// listener answering a GET shaped like smsbox's.
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/audit/recording_audit_sink.h"
#include "services/common/clock.h"
#include "services/common/proto_time.h"
#include "services/common/random.h"
#include "services/otp/dlr_http_server.h"
#include "services/otp/dlr_receiver.h"
#include "services/otp/http_client.h"
#include "services/otp/kannel_dlr.h"
#include "services/otp/kannel_sms_sender.h"
#include "services/otp/otp_testing.h"
#include "services/otp/sms_queue.h"
#include "tests/util/metric_value.h"

namespace eid::otp {
namespace {

using testing::FakeSmsSender;
using ::eid::testing::MetricValue;

const std::string kKey(32, 'k');

TEST(KannelDlrTest, TypesMapToOutcomes) {
  EXPECT_EQ(DlrOutcomeOf(1), DlrOutcome::kDelivered);
  EXPECT_EQ(DlrOutcomeOf(2), DlrOutcome::kFailed);
  EXPECT_EQ(DlrOutcomeOf(16), DlrOutcome::kFailed);
  EXPECT_EQ(DlrOutcomeOf(4), DlrOutcome::kInterim);
  EXPECT_EQ(DlrOutcomeOf(8), DlrOutcome::kInterim);
  for (int t : {0, 3, 9, 32, -1}) EXPECT_EQ(DlrOutcomeOf(t), DlrOutcome::kUnknown);
  EXPECT_EQ(kDlrMask, 19);
}

TEST(KannelDlrTest, TokenBindsKeyMessageAndAttempt) {
  DlrAuthenticator auth(kKey);
  const std::string token = auth.Token("m1-abc", 1);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token, auth.Token("m1-abc", 1));
  EXPECT_TRUE(auth.Verify("m1-abc", 1, token));
  EXPECT_FALSE(auth.Verify("m1-abd", 1, token));
  EXPECT_FALSE(auth.Verify("m1-abc", 2, token));
  EXPECT_FALSE(auth.Verify("m1-abc", 1, token.substr(0, 63)));
  EXPECT_FALSE(auth.Verify("m1-abc", 1, ""));
  EXPECT_FALSE(DlrAuthenticator(std::string(32, 'x')).Verify("m1-abc", 1, token));
}

TEST(KannelDlrTest, UrlCarriesIdAttemptTokenAndKannelsTypePlaceholder) {
  DlrAuthenticator auth(kKey);
  EXPECT_EQ(DlrUrl("http://otp:8082/kannel/dlr", "m2-ff", 3, auth),
            absl::StrCat("http://otp:8082/kannel/dlr?id=m2-ff&n=3&auth=",
                         auth.Token("m2-ff", 3), "&type=%d"));
}

std::string PrivateFile(const std::string& name, const std::string& content) {
  const std::string path = absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
  std::ofstream(path) << content;
  chmod(path.c_str(), 0600);
  return path;
}

TEST(KannelDlrTest, SenderAsksForFinalReportsAtTheEncodedUrl) {
  KannelSmsSender::Options options;
  options.credentials_file = PrivateFile("creds", "eid:pw");
  options.dlr_url = "http://127.0.0.1:9/kannel/dlr";
  options.dlr_key_file = PrivateFile("dlr_key", kKey);
  auto sender = KannelSmsSender::Create(options);
  ASSERT_TRUE(sender.ok()) << sender.status();
  const std::string target =
      (*sender)->TargetFor(Sms{"m0-01", "+84912345678", "hi", 2});
  const std::string url =
      DlrUrl(options.dlr_url, "m0-01", 2, DlrAuthenticator(kKey));
  EXPECT_TRUE(absl::StrContains(
      target, absl::StrCat("&dlr-mask=19&dlr-url=", UrlEncode(url))))
      << target;
  EXPECT_TRUE(absl::StrContains(target, "%25d")) << target;

  // Without a dlr_url no report is asked for.
  options.dlr_url.clear();
  auto plain = KannelSmsSender::Create(options);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(absl::StrContains((*plain)->TargetFor(Sms{"m0-01", "+1", "x"}),
                                 "dlr"));
  // A dlr_url without a readable key is refused.
  options.dlr_url = "http://127.0.0.1:9/kannel/dlr";
  options.dlr_key_file = "/nonexistent/dlr_key";
  EXPECT_TRUE(absl::IsFailedPrecondition(KannelSmsSender::Create(options).status()));
}

class DlrReceiverTest : public ::testing::Test {
 public:  // Also for InstantReportRig.
  DlrReceiverTest() {
    kv_ = testing::OpenStore("dlr", clock_);
    options_.audit = &audit_;  // The queue audits what it gives up.
    queue_ = std::make_unique<SmsQueue>(options_, *kv_, sender_, clock_,
                                        random_, metrics_);
    receiver_ = std::make_unique<DlrReceiver>(*queue_, DlrAuthenticator(kKey),
                                              &audit_, clock_, metrics_);
  }

  // Queues one SMS and sends it (attempt 1).
  std::string QueueAndSend(bool sensitive = false) {
    SmsQueue::Outgoing sms;
    sms.phone = "+84912345678";
    sms.text = "hello";
    sms.sensitive = sensitive;
    absl::StatusOr<std::string> id = queue_->Enqueue(sms);
    EXPECT_TRUE(id.ok()) << id.status();
    clock_.Advance(absl::Seconds(2));
    EXPECT_TRUE(queue_->RunOnce().ok());
    return id.value_or("");
  }

  DlrQuery Query(const std::string& id, int attempt, int type) {
    return DlrQuery{id, absl::StrCat(attempt),
                    DlrAuthenticator(kKey).Token(id, attempt),
                    absl::StrCat(type)};
  }

  v1::GetDeliveryStatusResponse StatusOf(const std::string& id) {
    absl::StatusOr<v1::GetDeliveryStatusResponse> s = queue_->Status(id);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.value_or(v1::GetDeliveryStatusResponse());
  }

  FakeClock clock_{absl::FromUnixSeconds(1735700000)};
  std::unique_ptr<storage::RocksDbKvStore> kv_;
  FakeSmsSender sender_;
  DeterministicRandom random_{5};
  prometheus::Registry metrics_;
  SmsQueue::Options options_;
  audit::RecordingAuditSink audit_;
  std::unique_ptr<SmsQueue> queue_;
  std::unique_ptr<DlrReceiver> receiver_;
};

TEST_F(DlrReceiverTest, DeliveredReportMarksDeliveredOnceAndIsIdempotent) {
  const std::string id = QueueAndSend();
  ASSERT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(sender_.sent().at(0).attempt, 1);
  clock_.Advance(absl::Seconds(3));
  const absl::Time delivered_at = clock_.Now();

  DlrReply reply = receiver_->Handle(Query(id, 1, kDlrDelivered), "127.0.0.1");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "delivered\n");
  v1::GetDeliveryStatusResponse s = StatusOf(id);
  EXPECT_EQ(s.state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(FromProtoTime(s.delivered_at()), delivered_at);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_delivered_total"), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_delivery_latency_seconds"), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_accept_latency_seconds"), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_sent_total"), 1);
  ASSERT_EQ(audit_.events().size(), 1u);
  EXPECT_EQ(audit_.events()[0].action(), "otp.delivered");
  EXPECT_EQ(audit_.events()[0].outcome(), v1::AUDIT_OUTCOME_SUCCESS);
  EXPECT_EQ(audit_.events()[0].attributes().at("message_id"), id);

  // smsbox repeats reports: the same one again changes nothing.
  clock_.Advance(absl::Seconds(10));
  reply = receiver_->Handle(Query(id, 1, kDlrDelivered), "127.0.0.1");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "duplicate\n");
  EXPECT_EQ(FromProtoTime(StatusOf(id).delivered_at()), delivered_at);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_delivered_total"), 1);
  EXPECT_EQ(audit_.events().size(), 1u);
  // A failure report after the delivery contradicts it: nothing changes.
  EXPECT_EQ(receiver_->Handle(Query(id, 1, kDlrFailed), "x").status, 409);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_DELIVERED);
}

// An SmsSender whose operator reports before Send returns, as Kannel's fake
// SMSC (and a fast operator) does.
class InstantReportSender : public SmsSender {
 public:
  std::function<DlrReply(const Sms&)> report;
  DlrReply reply;
  // The call fails after the report (smsbox took it; sendsms timed out).
  bool fail_after_report = false;
  absl::Status Send(const Sms& sms) override {
    reply = report(sms);
    if (fail_after_report) return absl::DeadlineExceededError("sendsms timed out");
    return absl::OkStatus();
  }
  std::string name() const override { return "instant"; }
};

// A queue over the fixture's store whose sender gets the report of type
// `report_type(n)` on its n-th send (1-based) inside Send, through a
// receiver of its own.
class InstantReportRig {
 public:
  InstantReportRig(DlrReceiverTest& t, std::function<int(int)> report_type)
      : test_(t),
        queue_(t.options_, *t.kv_, sender_, t.clock_, t.random_, metrics_),
        receiver_(queue_, DlrAuthenticator(kKey), &t.audit_, t.clock_, metrics_) {
    sender_.report = [this, report_type](const Sms& sms) {
      ++sends;
      return receiver_.Handle(test_.Query(sms.message_id, sms.attempt, report_type(sends)),
                              "127.0.0.1");
    };
  }
  // Queues `text` and runs the queue once, 2 s later: the first send.
  std::string QueueAndSend(const std::string& text, bool sensitive) {
    SmsQueue::Outgoing sms;
    sms.phone = "+84912345678";
    sms.text = text;
    sms.sensitive = sensitive;
    absl::StatusOr<std::string> id = queue_.Enqueue(sms);
    EXPECT_TRUE(id.ok()) << id.status();
    test_.clock_.Advance(absl::Seconds(2));
    EXPECT_TRUE(queue_.RunOnce().ok());
    return id.value_or("");
  }
  v1::GetDeliveryStatusResponse StatusOf(const std::string& id) {
    return queue_.Status(id).value_or(v1::GetDeliveryStatusResponse());
  }

  SmsQueue& queue() { return queue_; }
  InstantReportSender& sender() { return sender_; }
  const DlrReply& reply() const { return sender_.reply; }
  prometheus::Registry& metrics() { return metrics_; }
  int sends = 0;

 private:
  DlrReceiverTest& test_;
  InstantReportSender sender_;
  prometheus::Registry metrics_;
  SmsQueue queue_;
  DlrReceiver receiver_;
};

TEST_F(DlrReceiverTest, AReportThatOvertakesTheSendStillMarksDelivered) {
  InstantReportRig rig(*this, [](int) { return kDlrDelivered; });
  const std::string id = rig.QueueAndSend("hello", false);
  EXPECT_EQ(rig.reply().status, 200);
  EXPECT_EQ(rig.reply().body, "delivered\n");
  EXPECT_EQ(rig.StatusOf(id).state(), v1::DELIVERY_STATE_DELIVERED);  // Not overwritten by SENT.
  EXPECT_EQ(rig.StatusOf(id).attempts(), 1);
  // Nothing is left due: no second send.
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(rig.queue().RunOnce().ok());
  EXPECT_EQ(rig.StatusOf(id).state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(rig.sends, 1);
}

TEST_F(DlrReceiverTest, AFailureThatOvertakesTheSendOfANoticeIsRetried) {
  InstantReportRig rig(*this, [](int n) { return n == 1 ? kDlrFailed : kDlrDelivered; });
  const std::string id = rig.QueueAndSend("your account is approved", false);
  EXPECT_EQ(rig.reply().status, 200);  // Not 409: the failure is not lost.
  EXPECT_EQ(rig.reply().body, "noted\n");
  EXPECT_EQ(rig.StatusOf(id).state(), v1::DELIVERY_STATE_FAILED);
  ASSERT_EQ(audit_.events().size(), 1u);
  EXPECT_EQ(audit_.events()[0].action(), "otp.delivery_failed");
  // Retried after the backoff, and delivered then.
  clock_.Advance(options_.initial_backoff);
  ASSERT_TRUE(rig.queue().RunOnce().ok());
  EXPECT_EQ(rig.sends, 2);
  EXPECT_EQ(rig.StatusOf(id).state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(rig.StatusOf(id).attempts(), 2);
}

TEST_F(DlrReceiverTest, AFailureReportBeforeAFailedSendStillSchedulesTheRetry) {
  InstantReportRig rig(*this, [](int n) { return n == 1 ? kDlrFailed : kDlrDelivered; });
  rig.sender().fail_after_report = true;
  const std::string id = rig.QueueAndSend("your account is approved", false);
  EXPECT_EQ(rig.reply().body, "noted\n");
  v1::GetDeliveryStatusResponse s = rig.StatusOf(id);
  EXPECT_EQ(s.state(), v1::DELIVERY_STATE_FAILED);
  // Due after the backoff, not only when the 30 s lease runs out.
  EXPECT_EQ(FromProtoTime(s.next_attempt_at()), clock_.Now() + options_.initial_backoff);
  rig.sender().fail_after_report = false;
  clock_.Advance(options_.initial_backoff);
  ASSERT_TRUE(rig.queue().RunOnce().ok());
  EXPECT_EQ(rig.sends, 2);
  EXPECT_EQ(rig.StatusOf(id).state(), v1::DELIVERY_STATE_DELIVERED);
}

TEST_F(DlrReceiverTest, AFailureThatOvertakesTheSendOfACodeDeadLettersIt) {
  InstantReportRig rig(*this, [](int) { return kDlrFailed; });
  const std::string id = rig.QueueAndSend("code 123456", true);
  EXPECT_EQ(rig.reply().body, "noted\n");
  // A code went out once: it is never sent again, the citizen asks anew.
  EXPECT_EQ(rig.StatusOf(id).state(), v1::DELIVERY_STATE_DEAD_LETTERED);
  // Audited: the report, and the dead letter its sender wrote.
  EXPECT_EQ(audit_.WithAction("otp.delivery_failed").size(), 1u);
  EXPECT_EQ(audit_.WithAction("otp.dead_lettered").size(), 1u);
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(rig.queue().RunOnce().ok());
  EXPECT_EQ(rig.sends, 1);
  EXPECT_EQ(MetricValue(rig.metrics(), "otp_sms_operator_failures_total"), 1);
}

TEST(DlrAuthenticatorTest, TheAcceptedKeyVerifiesButNeverSigns) {
  const std::string old_key(32, 'o'), new_key(32, 'n'), other(32, 'x');
  const DlrAuthenticator rotating(new_key, old_key);
  // Signs with the key only.
  EXPECT_EQ(rotating.Token("m0-ab", 1), DlrAuthenticator(new_key).Token("m0-ab", 1));
  // Verifies a token under either key, for its message and attempt only.
  EXPECT_TRUE(rotating.Verify("m0-ab", 1, DlrAuthenticator(old_key).Token("m0-ab", 1)));
  EXPECT_TRUE(rotating.Verify("m0-ab", 1, DlrAuthenticator(new_key).Token("m0-ab", 1)));
  EXPECT_FALSE(rotating.Verify("m0-ab", 2, DlrAuthenticator(old_key).Token("m0-ab", 1)));
  EXPECT_FALSE(rotating.Verify("m0-ab", 1, DlrAuthenticator(other).Token("m0-ab", 1)));
  // Without an accepted key, the old key's tokens are forged.
  EXPECT_FALSE(DlrAuthenticator(new_key).Verify("m0-ab", 1,
                                                DlrAuthenticator(old_key).Token("m0-ab", 1)));
}

TEST(DlrAuthenticatorTest, AnEmptyOrAbsentAcceptedFileMeansNone) {
  const std::string key_file = PrivateFile("dlr_key_rot", std::string(32, 'k'));
  const std::string empty = PrivateFile("dlr_key_accepted_empty", "");
  const std::string old_key(32, 'o');
  const std::string accepted = PrivateFile("dlr_key_accepted", old_key);
  const std::string old_token = DlrAuthenticator(old_key).Token("m0-ab", 1);
  absl::StatusOr<DlrAuthenticator> none = DlrAuthenticator::FromFile(key_file, empty);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->Verify("m0-ab", 1, old_token));
  absl::StatusOr<DlrAuthenticator> absent =
      DlrAuthenticator::FromFile(key_file, key_file + ".nonexistent");
  ASSERT_TRUE(absent.ok()) << absent.status();
  absl::StatusOr<DlrAuthenticator> rotating = DlrAuthenticator::FromFile(key_file, accepted);
  ASSERT_TRUE(rotating.ok()) << rotating.status();
  EXPECT_TRUE(rotating->Verify("m0-ab", 1, old_token));
  // A short accepted key is refused, as the key itself would be.
  const std::string short_key = PrivateFile("dlr_key_accepted_short", "short");
  EXPECT_TRUE(absl::IsFailedPrecondition(
      DlrAuthenticator::FromFile(key_file, short_key).status()));
}

TEST_F(DlrReceiverTest, ForgedReportIsRefusedAuditedAndChangesNothing) {
  const std::string id = QueueAndSend();
  DlrQuery forged = Query(id, 1, kDlrDelivered);
  forged.auth = DlrAuthenticator(std::string(32, 'z')).Token(id, 1);
  DlrReply reply = receiver_->Handle(forged, "10.1.2.3");
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body, "forged\n");
  // A genuine token for another attempt is no better.
  forged = Query(id, 1, kDlrDelivered);
  forged.auth = DlrAuthenticator(kKey).Token(id, 2);
  EXPECT_EQ(receiver_->Handle(forged, "10.1.2.3").status, 403);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
  EXPECT_FALSE(StatusOf(id).has_delivered_at());
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_delivered_total"), 0);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_delivery_reports_total", "forged"), 2);
  ASSERT_EQ(audit_.events().size(), 2u);
  const v1::AuditEvent e = audit_.events()[0];
  EXPECT_EQ(e.action(), "otp.delivered");
  EXPECT_EQ(e.outcome(), v1::AUDIT_OUTCOME_REJECTED);
  EXPECT_EQ(e.reason(), "CALLER_NOT_ALLOWED");
  EXPECT_EQ(e.actor(), "anonymous");
  EXPECT_EQ(e.attributes().at("remote_address"), "10.1.2.3");
}

TEST_F(DlrReceiverTest, MalformedAndUnknownReportsChangeNothing) {
  const std::string id = QueueAndSend();
  DlrQuery q = Query(id, 1, kDlrDelivered);
  q.type = "delivered";
  EXPECT_EQ(receiver_->Handle(q, "").status, 400);
  q = Query(id, 1, kDlrDelivered);
  q.attempt = "";
  EXPECT_EQ(receiver_->Handle(q, "").status, 400);
  EXPECT_EQ(receiver_->Handle(DlrQuery{}, "").status, 400);
  EXPECT_EQ(receiver_->Handle(Query(id, 1, 3), "").status, 400);  // No such type.
  // Interim reports are acknowledged, not applied.
  EXPECT_EQ(receiver_->Handle(Query(id, 1, kDlrSmscAccepted), "").body,
            "interim\n");
  // A genuine token for a message not kept (purged or never queued).
  EXPECT_EQ(receiver_->Handle(Query("m1-00ff", 1, kDlrDelivered), "").status,
            404);
  // An attempt never made.
  EXPECT_EQ(receiver_->Handle(Query(id, 2, kDlrDelivered), "").status, 409);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(StatusOf(id).attempts(), 1);
  EXPECT_TRUE(audit_.events().empty());
}

TEST_F(DlrReceiverTest, OperatorFailureOfANoticeIsRetriedAfterTheBackoff) {
  const std::string id = QueueAndSend();
  DlrReply reply = receiver_->Handle(Query(id, 1, kDlrFailed), "");
  EXPECT_EQ(reply.body, "retrying\n");
  v1::GetDeliveryStatusResponse s = StatusOf(id);
  EXPECT_EQ(s.state(), v1::DELIVERY_STATE_FAILED);
  EXPECT_EQ(FromProtoTime(s.next_attempt_at()),
            clock_.Now() + options_.initial_backoff);
  EXPECT_TRUE(absl::StrContains(s.last_error(), "operator"));
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_operator_failures_total"), 1);
  // The same report again: nothing more.
  EXPECT_EQ(receiver_->Handle(Query(id, 1, kDlrSmscRejected), "").body,
            "duplicate\n");
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_operator_failures_total"), 1);

  // Not before the backoff; then attempt 2 goes out.
  clock_.Advance(options_.initial_backoff - absl::Milliseconds(1));
  ASSERT_TRUE(queue_->RunOnce().ok());
  EXPECT_EQ(sender_.calls(), 1);
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(queue_->RunOnce().ok());
  ASSERT_EQ(sender_.calls(), 2);
  EXPECT_EQ(sender_.sent().at(1).attempt, 2);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);
  // A late repeat of attempt 1's failure does not fail attempt 2.
  EXPECT_EQ(receiver_->Handle(Query(id, 1, kDlrFailed), "").body, "duplicate\n");
  EXPECT_EQ(receiver_->Handle(Query(id, 2, kDlrDelivered), "").body,
            "delivered\n");
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_DELIVERED);
  std::vector<std::string> actions;
  for (const auto& e : audit_.events()) actions.push_back(e.action());
  EXPECT_EQ(actions, (std::vector<std::string>{"otp.delivery_failed",
                                               "otp.delivered"}));
}

TEST_F(DlrReceiverTest, OperatorFailureOfACodeIsDeadLettered) {
  // A code's text is erased once sent: it is never sent twice.
  const std::string id = QueueAndSend(/*sensitive=*/true);
  EXPECT_EQ(receiver_->Handle(Query(id, 1, kDlrFailed), "").body,
            "dead-lettered\n");
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_DEAD_LETTERED);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_dead_lettered_total"), 1);
  EXPECT_EQ(receiver_->Handle(Query(id, 1, kDlrFailed), "").body, "duplicate\n");
  EXPECT_EQ(receiver_->Handle(Query(id, 1, kDlrDelivered), "").status, 409);
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(queue_->RunOnce().ok());
  EXPECT_EQ(sender_.calls(), 1);
  ASSERT_EQ(audit_.events().size(), 2u);
  EXPECT_EQ(audit_.WithAction("otp.delivery_failed").size(), 1u);
  const std::vector<v1::AuditEvent> given_up = audit_.WithAction("otp.dead_lettered");
  ASSERT_EQ(given_up.size(), 1u);
  EXPECT_EQ(given_up[0].reason(), "OPERATOR_FAILED");
  EXPECT_EQ(given_up[0].outcome(), v1::AUDIT_OUTCOME_ERROR);
  EXPECT_EQ(given_up[0].attributes().at("message_id"), id);
  EXPECT_EQ(given_up[0].attributes().at("phone"), "+84******678");  // Masked.
}

TEST_F(DlrReceiverTest, ALateDeliveryOfAnEarlierAttemptEndsTheRetries) {
  const std::string id = QueueAndSend();
  ASSERT_EQ(receiver_->Handle(Query(id, 1, kDlrFailed), "").body, "retrying\n");
  // The operator changes its mind before the retry: delivered after all.
  EXPECT_EQ(receiver_->Handle(Query(id, 1, kDlrDelivered), "").body,
            "delivered\n");
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(queue_->RunOnce().ok());
  EXPECT_EQ(sender_.calls(), 1);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_DELIVERED);
}

TEST_F(DlrReceiverTest, HttpListenerServesSmsboxShapedGets) {
  auto server = DlrHttpServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  const std::string id = QueueAndSend();
  absl::StatusOr<HttpResponse> early = HttpGet(
      "127.0.0.1", (*server)->port(), "/kannel/dlr?id=x", absl::Seconds(5));
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->status, 503);  // No receiver yet.
  (*server)->Attach(receiver_.get());
  const std::string url =
      DlrUrl("http://127.0.0.1/kannel/dlr", id, 1, DlrAuthenticator(kKey));
  // smsbox GETs the URL with %d replaced by the type.
  std::string target = url.substr(url.find("/kannel"));
  target.replace(target.find("%d"), 2, "1");

  absl::StatusOr<HttpResponse> forged = HttpGet(
      "127.0.0.1", (*server)->port(),
      absl::StrCat("/kannel/dlr?id=", id, "&n=1&auth=", std::string(64, '0'),
                   "&type=1"),
      absl::Seconds(5));
  ASSERT_TRUE(forged.ok()) << forged.status();
  EXPECT_EQ(forged->status, 403);
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_SENT);

  absl::StatusOr<HttpResponse> r =
      HttpGet("127.0.0.1", (*server)->port(), target, absl::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "delivered\n");
  EXPECT_EQ(StatusOf(id).state(), v1::DELIVERY_STATE_DELIVERED);

  absl::StatusOr<HttpResponse> other =
      HttpGet("127.0.0.1", (*server)->port(), "/metrics", absl::Seconds(5));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 404);
  EXPECT_TRUE(absl::IsInvalidArgument(DlrHttpServer::Start("nocolon").status()));
}

}  // namespace
}  // namespace eid::otp
