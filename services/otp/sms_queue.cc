#include "services/otp/sms_queue.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/otp/otp_keys.h"
#include "services/otp/phone.h"
#include "services/otp/record_io.h"

namespace eid::otp {
namespace {

constexpr int64_t kMaxDepthPerPartition = 10000;

bool IsFinal(int state) {
  return state == v1::DELIVERY_STATE_SENT ||
         state == v1::DELIVERY_STATE_DELIVERED ||
         state == v1::DELIVERY_STATE_DEAD_LETTERED;
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets =
      new prometheus::Histogram::BucketBoundaries{
          0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};
  return *buckets;
}

}  // namespace

SmsQueue::SmsQueue(const Options& options, storage::KvStore& kv,
                   SmsSender& sender, Clock& clock, RandomSource& random,
                   prometheus::Registry& metrics)
    : options_(options),
      kv_(kv),
      sender_(sender),
      clock_(clock),
      random_(random),
      sent_(prometheus::BuildCounter()
                .Name("otp_sms_sent_total")
                .Help("SMS accepted by the transport.")
                .Register(metrics)
                .Add({{"transport", sender.name()}})),
      failures_(prometheus::BuildCounter()
                    .Name("otp_sms_send_failures_total")
                    .Help("SMS send attempts that failed (each is retried or "
                          "dead-lettered).")
                    .Register(metrics)
                    .Add({{"transport", sender.name()}})),
      dead_lettered_(
          prometheus::BuildCounter()
              .Name("otp_sms_dead_lettered_total")
              .Help(
                  "SMS given up: every attempt failed, or the code they carry "
                  "expired or was superseded before delivery.")
              .Register(metrics)
              .Add({})),
      depth_(prometheus::BuildGauge()
                 .Name("otp_sms_queue_depth")
                 .Help("SMS waiting in the delivery queue (as of the last "
                       "sender pass).")
                 .Register(metrics)
                 .Add({})),
      accept_latency_(prometheus::BuildHistogram()
                          .Name("otp_sms_accept_latency_seconds")
                          .Help("Time from queueing an SMS to its acceptance "
                                "by the transport.")
                          .Register(metrics)
                          .Add({}, LatencyBuckets())),
      delivered_(prometheus::BuildCounter()
                     .Name("otp_sms_delivered_total")
                     .Help("SMS the operator's delivery report says reached "
                           "the phone.")
                     .Register(metrics)
                     .Add({{"transport", sender.name()}})),
      operator_failures_(
          prometheus::BuildCounter()
              .Name("otp_sms_operator_failures_total")
              .Help("Delivery reports of a final failure (not delivered to "
                    "the phone, or rejected by the SMSC).")
              .Register(metrics)
              .Add({{"transport", sender.name()}})),
      delivery_latency_(prometheus::BuildHistogram()
                            .Name("otp_sms_delivery_latency_seconds")
                            .Help("Time from queueing an SMS to the delivery "
                                  "report saying the phone received it.")
                            .Register(metrics)
                            .Add({}, LatencyBuckets())) {}

SmsQueue::~SmsQueue() { Stop(); }

std::string SmsQueue::NewMessageId() {
  const int p = static_cast<int>(random_.Uniform(options_.partitions));
  return FormatMessageId(p, absl::BytesToHexString(random_.Bytes(16)));
}

int SmsQueue::Partition(absl::string_view message_id) const {
  return PartitionOfMessageId(message_id, options_.partitions);
}

absl::StatusOr<std::string> SmsQueue::Enqueue(const Outgoing& sms) {
  const std::string id =
      sms.message_id.empty() ? NewMessageId() : sms.message_id;
  const int p = Partition(id);
  if (p < 0)
    return absl::InvalidArgumentError("sms queue: malformed message id");
  const absl::Time now = clock_.Now();
  SmsRecord m;
  m.set_message_id(id);
  m.set_phone(sms.phone);
  m.set_text(sms.text);
  m.set_sensitive(sms.sensitive);
  m.set_state(v1::DELIVERY_STATE_QUEUED);
  m.set_queued_us(ToMicros(now));
  m.set_next_attempt_us(ToMicros(now));
  m.set_transport(sender_.name());
  m.set_content_expires_us(ToMicros(sms.content_expires_at));
  m.set_guard_key(sms.guard_key);
  m.set_guard_otp_id(sms.guard_otp_id);
  const absl::Time expires = now + options_.retention;
  v1::BatchRequest batch;
  AddPut(batch, SmsKey(p, id), m, expires, 0);
  AddPutBytes(batch, DueKey(p, now, id), id, expires, 0);
  absl::StatusOr<v1::BatchResponse> written = kv_.Batch(batch);
  if (!written.ok()) {
    if (IsVersionMismatch(written.status())) return id;  // Queued before.
    return written.status();
  }
  // A guarded SMS would find its code not yet stored and be put off: its
  // code's owner wakes the queue once the code is stored.
  if (sms.guard_key.empty()) Wake();
  return id;
}

void SmsQueue::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

absl::StatusOr<v1::GetDeliveryStatusResponse> SmsQueue::Status(
    const std::string& message_id) {
  const int p = Partition(message_id);
  if (p < 0) return NotFound(v1::MESSAGE_NOT_FOUND, "no such message");
  absl::StatusOr<Versioned<SmsRecord>> m =
      Read<SmsRecord>(kv_, SmsKey(p, message_id));
  if (!m.ok()) return m.status();
  if (!m->found()) return NotFound(v1::MESSAGE_NOT_FOUND, "no such message");
  const SmsRecord& r = m->value;
  v1::GetDeliveryStatusResponse out;
  out.set_message_id(r.message_id());
  out.set_state(static_cast<v1::DeliveryState>(r.state()));
  out.set_attempts(r.attempts());
  ToProtoTime(FromMicros(r.queued_us()), out.mutable_queued_at());
  if (r.last_attempt_us() != 0) {
    ToProtoTime(FromMicros(r.last_attempt_us()), out.mutable_last_attempt_at());
  }
  if ((r.state() == v1::DELIVERY_STATE_QUEUED ||
       r.state() == v1::DELIVERY_STATE_FAILED) &&
      r.next_attempt_us() != 0) {
    ToProtoTime(FromMicros(r.next_attempt_us()), out.mutable_next_attempt_at());
  }
  if (r.state() == v1::DELIVERY_STATE_DELIVERED && r.delivered_us() != 0) {
    ToProtoTime(FromMicros(r.delivered_us()), out.mutable_delivered_at());
  }
  out.set_last_error(r.last_error());
  out.set_transport(r.transport());
  out.set_masked_phone(MaskedPhone(r.phone()));
  return out;
}

absl::StatusOr<SmsQueue::RunStats> SmsQueue::RunOnce() {
  RunStats stats;
  absl::Status first_error;
  const absl::Time now = clock_.Now();
  // Passes run one at a time, so that each starts where the last ended.
  absl::MutexLock pass_lock(&pass_mu_);
  passed_.resize(options_.partitions, absl::InfinitePast());
  slack_passed_.resize(options_.partitions, absl::InfinitePast());
  // Due at its time, or at once if the clock went back past when it was
  // last scheduled.
  const auto due = [now](absl::Time& next, absl::Duration interval) {
    if (now < next && now + interval >= next) return false;
    next = now + interval;
    return true;
  };
  if (due(next_full_pass_, options_.full_pass_interval)) {
    std::fill(passed_.begin(), passed_.end(), absl::InfinitePast());
    std::fill(slack_passed_.begin(), slack_passed_.end(), absl::InfinitePast());
  }
  const bool reach_back = due(next_slack_pass_, options_.slack_interval);
  for (int p = 0; p < options_.partitions; ++p) {
    // A slack pass reaches back from where the last slack pass began: the
    // quick passes since have not looked behind theirs.
    absl::Time from = reach_back ? slack_passed_[p] - options_.clock_slack
                                 : passed_[p] - options_.recent;
    if (from >= now) from = absl::InfinitePast();  // A clock gone back.
    const bool had_more = stats.more;
    stats.more = false;
    absl::StatusOr<bool> all_handled = ProcessPartition(p, from, now, stats);
    if (all_handled.ok() && *all_handled && !stats.more) {
      passed_[p] = now;
      if (reach_back) slack_passed_[p] = now;
    }
    stats.more = stats.more || had_more;
    if (!all_handled.ok() && first_error.ok()) first_error = all_handled.status();
  }
  {
    absl::MutexLock lock(&depth_mu_);
    if (now - depth_counted_at_ >= options_.depth_interval) {
      int64_t depth = 0;
      for (int p = 0; p < options_.partitions; ++p) {
        absl::StatusOr<int64_t> n = Depth(p);
        if (n.ok()) depth += *n;
      }
      depth_counted_at_ = now;
      last_depth_ = depth;
      depth_.Set(static_cast<double>(depth));
    }
    stats.depth = last_depth_;
  }
  if (!first_error.ok()) return first_error;
  return stats;
}

absl::StatusOr<bool> SmsQueue::ProcessPartition(int p, absl::Time from,
                                                absl::Time now,
                                                RunStats& stats) {
  v1::ScanRequest scan;
  scan.set_namespace_(std::string(kNamespace));
  scan.set_prefix(DuePrefix(p));
  if (from != absl::InfinitePast()) scan.set_start_at(DueKey(p, from, ""));
  scan.set_stop_before(DueKey(p, now + absl::Microseconds(1), ""));
  scan.set_limit(options_.batch);
  absl::StatusOr<v1::ScanResponse> page = kv_.Scan(scan);
  if (!page.ok()) return page.status();
  bool all_handled = true;
  for (const v1::Record& entry : page->records()) {
    // Checked here too: a shard that predates stop_before returns entries
    // not yet due (a message leased by another sender among them).
    std::optional<absl::Time> at = DueTimeOfKey(entry.key());
    if (at.has_value() && *at > now) break;
    absl::Status s = ProcessDue(p, entry, stats);
    if (!s.ok()) {
      // A lost race (another sender, or a delivery report, wrote the record
      // first) leaves the entry to the next pass, which must not start
      // after it.
      if (!IsVersionMismatch(s)) {
        log::Warning("otp.sms_queue.process_failed").With("partition", p).With(s);
      }
      all_handled = false;
    }
  }
  if (!page->next_page_token().empty()) stats.more = true;
  return all_handled;
}

absl::StatusOr<SmsQueue::Guard> SmsQueue::CheckGuard(const SmsRecord& m,
                                                     absl::Time now) {
  if (m.guard_key().empty()) return Guard::kLive;
  absl::StatusOr<Versioned<OtpRecord>> code =
      Read<OtpRecord>(kv_, m.guard_key());
  if (!code.ok()) return code.status();
  const OtpRecord& r = code->value;
  if (code->found() && r.otp_id() == m.guard_otp_id()) {
    return r.consumed_us() == 0 && FromMicros(r.expires_us()) > now
               ? Guard::kLive
               : Guard::kGone;
  }
  // Another code (or none) is stored: newer means ours was superseded; older
  // or none means ours is not stored yet, or never will be.
  std::optional<OtpId> ours = ParseOtpId(m.guard_otp_id());
  if (code->found() && ours.has_value() && r.seq() > ours->seq)
    return Guard::kGone;
  return now < FromMicros(m.queued_us()) + options_.commit_grace
             ? Guard::kPending
             : Guard::kGone;
}

absl::Status SmsQueue::ProcessDue(int p, const v1::Record& due,
                                  RunStats& stats) {
  const std::string& id = due.value();
  const std::string key = SmsKey(p, id);
  absl::StatusOr<Versioned<SmsRecord>> read = Read<SmsRecord>(kv_, key);
  if (!read.ok()) return read.status();
  const absl::Time now = clock_.Now();
  v1::BatchRequest batch;
  if (!read->found() || IsFinal(read->value.state())) {
    // A stale index entry (its message is done or purged).
    AddDelete(batch, due.key(), due.version());
    batch.set_defer_sync(true);
    return kv_.Batch(batch).status();
  }
  SmsRecord m = read->value;
  const absl::Time expires = FromMicros(m.queued_us()) + options_.retention;

  if (m.content_expires_us() != 0 &&
      now >= FromMicros(m.content_expires_us())) {
    ++stats.dropped;
    return DeadLetter(p, std::move(m), read->version, due.key(), due.version(),
                      "expired before delivery", "CODE_EXPIRED");
  }
  absl::StatusOr<Guard> guard = CheckGuard(m, now);
  if (!guard.ok()) return guard.status();
  if (*guard == Guard::kGone) {
    ++stats.dropped;
    return DeadLetter(p, std::move(m), read->version, due.key(), due.version(),
                      "code superseded, used or not stored before delivery", "CODE_GONE");
  }
  if (*guard == Guard::kPending) {
    const absl::Time later =
        std::min(now + options_.pending_recheck,
                 FromMicros(m.queued_us()) + options_.commit_grace);
    AddDelete(batch, due.key(), due.version());
    AddPutBytes(batch, DueKey(p, later, id), id, expires, 0);
    batch.set_defer_sync(true);
    return kv_.Batch(batch).status();
  }

  // Claim: move the due entry past the lease, so no other sender takes it,
  // and count the attempt before it is made: the operator's delivery report
  // can reach us before the send returns, and must find its attempt.
  const std::string leased_key = DueKey(p, now + options_.lease, id);
  m.set_next_attempt_us(ToMicros(now + options_.lease));
  m.set_attempts(m.attempts() + 1);
  AddPut(batch, key, m, expires, read->version);
  AddDelete(batch, due.key(), due.version());
  AddPutBytes(batch, leased_key, id, expires, 0);
  // Synced: the attempt number goes out with the SMS (in Kannel's dlr-url)
  // and must never be used twice, or a late report on a lost attempt would
  // be taken for the next one.
  absl::StatusOr<v1::BatchResponse> claimed = kv_.Batch(batch);
  if (!claimed.ok()) return claimed.status();  // ABORTED: lost the race.
  uint64_t version = claimed->versions(0);
  const uint64_t leased_version = claimed->versions(2);

  const absl::Status sent = sender_.Send(Sms{id, m.phone(), m.text(), m.attempts()});
  const absl::Time done = clock_.Now();
  m.set_last_attempt_us(ToMicros(done));
  if (sent.ok()) {
    m.set_state(v1::DELIVERY_STATE_SENT);
    m.set_sent_us(ToMicros(done));
    m.set_next_attempt_us(0);
    if (m.sensitive()) m.clear_text();
    v1::BatchRequest finish;
    AddPut(finish, key, m, expires, version);
    AddDelete(finish, leased_key, leased_version);
    finish.set_defer_sync(true);
    absl::Status s = kv_.Batch(finish).status();
    if (IsVersionMismatch(s)) s = FinishOvertaken(p, id, leased_key, leased_version);
    if (!s.ok()) return s;  // Sent again after the lease: at least once.
    ++stats.sent;
    sent_.Increment();
    accept_latency_.Observe(
        absl::ToDoubleSeconds(done - FromMicros(m.queued_us())));
    return absl::OkStatus();
  }
  ++stats.failed;
  failures_.Increment();
  m.set_last_error(std::string(sent.message()).substr(0, 200));
  log::Warning("otp.sms_queue.send_failed")
      .With("message_id", id)
      .With("attempts", m.attempts())
      .With(sent);
  absl::Status recorded;
  if (m.attempts() >= options_.max_attempts) {
    const std::string why = m.last_error();
    recorded = WriteDeadLetter(p, std::move(m), version, leased_key, leased_version, why,
                               "SEND_FAILED");
    if (recorded.ok()) ++stats.dead_lettered;
  } else {
    const absl::Time next = done + Backoff(m.attempts());
    m.set_state(v1::DELIVERY_STATE_FAILED);
    m.set_next_attempt_us(ToMicros(next));
    v1::BatchRequest retry;
    AddPut(retry, key, m, expires, version);
    const std::string next_key = DueKey(p, next, id);
    if (next_key != leased_key) {
      AddDelete(retry, leased_key, leased_version);
      AddPutBytes(retry, next_key, id, expires, 0);
    }
    retry.set_defer_sync(true);
    recorded = kv_.Batch(retry).status();
  }
  // The record changed during the send: smsbox took the message after all
  // and its failure report came first. Apply that report.
  if (IsVersionMismatch(recorded)) recorded = FinishOvertaken(p, id, leased_key, leased_version);
  return recorded;
}

absl::Status SmsQueue::FinishOvertaken(int p, const std::string& id,
                                       const std::string& leased_key,
                                       uint64_t leased_version) {
  // The send's delivery report was recorded first. Delivered: keep it, and
  // only drop the lease. Failed (noted by ApplyReport on this attempt):
  // apply it now, as for a report after the send. Anything else changed the
  // record: the lease expires and the next pass looks again.
  absl::StatusOr<Versioned<SmsRecord>> read = Read<SmsRecord>(kv_, SmsKey(p, id));
  if (!read.ok()) return read.status();
  const SmsRecord& m = read->value;
  if (read->found() && m.state() == v1::DELIVERY_STATE_DELIVERED) {
    v1::BatchRequest drop;
    AddDelete(drop, leased_key, leased_version);
    drop.set_defer_sync(true);
    return kv_.Batch(drop).status();
  }
  if (read->found() && !IsFinal(m.state()) && m.attempts() > 0 &&
      m.failed_report_attempt() == m.attempts()) {
    SmsRecord failed = m;
    failed.set_last_attempt_us(ToMicros(clock_.Now()));
    if (failed.sensitive()) failed.clear_text();  // It was sent: never twice.
    return FailByOperator(p, std::move(failed), read->version, leased_key, leased_version)
        .status();
  }
  return absl::AbortedError("the message changed while it was being sent");
}

absl::Status SmsQueue::DeadLetter(int p, SmsRecord m, uint64_t version,
                                  const std::string& due_key,
                                  uint64_t due_version, absl::string_view why,
                                  absl::string_view reason) {
  absl::Status s = WriteDeadLetter(p, std::move(m), version, due_key,
                                   due_version, why, reason);
  return IsVersionMismatch(s) ? absl::OkStatus() : s;
}

absl::Status SmsQueue::WriteDeadLetter(int p, SmsRecord m, uint64_t version,
                                       const std::string& due_key,
                                       uint64_t due_version,
                                       absl::string_view why,
                                       absl::string_view reason) {
  const absl::Time expires = FromMicros(m.queued_us()) + options_.retention;
  m.set_state(v1::DELIVERY_STATE_DEAD_LETTERED);
  m.set_last_error(std::string(why));
  m.set_next_attempt_us(0);
  if (m.sensitive()) m.clear_text();
  v1::BatchRequest batch;
  AddPut(batch, SmsKey(p, m.message_id()), m, expires, version);
  if (!due_key.empty()) AddDelete(batch, due_key, due_version);
  AddPut(batch, DeadKey(p, m.message_id()), m, expires, std::nullopt);
  absl::Status s = kv_.Batch(batch).status();
  if (!s.ok()) return s;
  dead_lettered_.Increment();
  log::Warning("otp.sms_queue.dead_lettered")
      .With("message_id", m.message_id())
      .With("attempts", m.attempts())
      .With("reason", m.last_error());
  if (options_.audit != nullptr) {
    // A message given up: for a code, an OTP that never reached its phone.
    v1::AuditEvent event;
    ToProtoTime(clock_.Now(), event.mutable_time());
    event.set_service("otp");
    event.set_actor("service:otp");
    event.set_action("otp.dead_lettered");
    event.set_outcome(v1::AUDIT_OUTCOME_ERROR);
    event.set_reason(std::string(reason));
    auto& attributes = *event.mutable_attributes();
    attributes["message_id"] = m.message_id();
    attributes["attempts"] = absl::StrCat(m.attempts());
    attributes["phone"] = MaskedPhone(m.phone());
    if (!m.guard_otp_id().empty()) attributes["otp_id"] = m.guard_otp_id();
    // The spool is local and durable; a failure there is the client's to
    // count and log, not the queue's.
    options_.audit->Record(std::move(event)).IgnoreError();
  }
  return absl::OkStatus();
}

absl::Duration SmsQueue::Backoff(int attempts) const {
  absl::Duration backoff = options_.initial_backoff;
  for (int i = 1; i < attempts && backoff < options_.max_backoff; ++i)
    backoff *= 2;
  return std::min(backoff, options_.max_backoff);
}

absl::StatusOr<SmsQueue::ReportResult> SmsQueue::RecordDeliveryReport(
    const std::string& message_id, int attempt, bool delivered) {
  const int p = Partition(message_id);
  if (p < 0) return NotFound(v1::MESSAGE_NOT_FOUND, "no such message");
  // A sender may be recording an attempt on the same message: retry a lost
  // compare-and-swap on the fresh record.
  absl::StatusOr<ReportResult> result;
  for (int tries = 0; tries < 5; ++tries) {
    result = ApplyReport(p, message_id, attempt, delivered);
    if (result.ok() || !IsVersionMismatch(result.status())) return result;
  }
  return result;
}

absl::StatusOr<SmsQueue::ReportResult> SmsQueue::ApplyReport(
    int p, const std::string& id, int attempt, bool delivered) {
  const std::string key = SmsKey(p, id);
  absl::StatusOr<Versioned<SmsRecord>> read = Read<SmsRecord>(kv_, key);
  if (!read.ok()) return read.status();
  if (!read->found()) return NotFound(v1::MESSAGE_NOT_FOUND, "no such message");
  SmsRecord m = read->value;
  if (attempt < 1 || attempt > m.attempts()) {
    return InvalidArgument(v1::FIELD_INVALID,
                           "delivery report for an attempt never made");
  }
  const absl::Time now = clock_.Now();
  const absl::Time expires = FromMicros(m.queued_us()) + options_.retention;
  const int state = m.state();

  if (delivered) {
    if (state == v1::DELIVERY_STATE_DELIVERED) return ReportResult::kDuplicate;
    if (state == v1::DELIVERY_STATE_DEAD_LETTERED) return ReportResult::kStale;
    // SENT, or QUEUED/FAILED when an earlier attempt got through after all.
    m.set_state(v1::DELIVERY_STATE_DELIVERED);
    m.set_delivered_us(ToMicros(now));
    m.set_next_attempt_us(0);
    if (m.sensitive()) m.clear_text();
    v1::BatchRequest batch;
    AddPut(batch, key, m, expires, read->version);
    absl::Status s = kv_.Batch(batch).status();
    if (!s.ok()) return s;
    delivered_.Increment();
    delivery_latency_.Observe(
        absl::ToDoubleSeconds(now - FromMicros(m.queued_us())));
    return ReportResult::kDelivered;
  }

  if (m.failed_report_attempt() >= attempt) return ReportResult::kDuplicate;
  if (attempt != m.attempts()) return ReportResult::kStale;
  if (state == v1::DELIVERY_STATE_QUEUED || state == v1::DELIVERY_STATE_FAILED) {
    // The report overtook its send (claimed, not finished): note it for
    // the sender, whose finish then finds the record changed and applies
    // it (FinishOvertaken). After a failed send it only repeats what the
    // retry already does.
    m.set_failed_report_attempt(attempt);
    v1::BatchRequest batch;
    AddPut(batch, key, m, expires, read->version);
    absl::Status s = kv_.Batch(batch).status();
    if (!s.ok()) return s;
    return ReportResult::kNotedForSender;
  }
  if (state != v1::DELIVERY_STATE_SENT) return ReportResult::kStale;
  absl::StatusOr<bool> retrying = FailByOperator(p, std::move(m), read->version, "", 0);
  if (!retrying.ok()) return retrying.status();
  return *retrying ? ReportResult::kRetrying : ReportResult::kDeadLettered;
}

absl::StatusOr<bool> SmsQueue::FailByOperator(int p, SmsRecord m, uint64_t version,
                                              const std::string& due_key,
                                              uint64_t due_version) {
  const absl::Time now = clock_.Now();
  const absl::Time expires = FromMicros(m.queued_us()) + options_.retention;
  const std::string id = m.message_id();
  m.set_failed_report_attempt(m.attempts());
  m.set_last_error(absl::StrCat("operator: not delivered (attempt ", m.attempts(), ")"));
  const bool retry = !m.text().empty() && m.attempts() < options_.max_attempts &&
                     (m.content_expires_us() == 0 ||
                      now < FromMicros(m.content_expires_us()));
  if (!retry) {
    const std::string why = m.last_error();
    absl::Status s =
        WriteDeadLetter(p, std::move(m), version, due_key, due_version, why, "OPERATOR_FAILED");
    if (!s.ok()) return s;
    operator_failures_.Increment();
    return false;
  }
  const absl::Time next = now + Backoff(m.attempts());
  m.set_state(v1::DELIVERY_STATE_FAILED);
  m.set_next_attempt_us(ToMicros(next));
  v1::BatchRequest batch;
  AddPut(batch, SmsKey(p, id), m, expires, version);
  const std::string next_key = DueKey(p, next, id);
  if (next_key != due_key) {  // Equal: the entry already says when.
    if (!due_key.empty()) AddDelete(batch, due_key, due_version);
    AddPutBytes(batch, next_key, id, expires, 0);
  }
  absl::Status s = kv_.Batch(batch).status();
  if (!s.ok()) return s;
  operator_failures_.Increment();
  Wake();
  return true;
}

absl::StatusOr<int64_t> SmsQueue::Depth(int p) {
  v1::ScanRequest scan;
  scan.set_namespace_(std::string(kNamespace));
  scan.set_prefix(DuePrefix(p));
  scan.set_keys_only(true);
  scan.set_limit(1000);
  int64_t n = 0;
  for (;;) {
    absl::StatusOr<v1::ScanResponse> page = kv_.Scan(scan);
    if (!page.ok()) return page.status();
    n += page->records_size();
    if (page->next_page_token().empty() || n >= kMaxDepthPerPartition) return n;
    scan.set_page_token(page->next_page_token());
  }
}

void SmsQueue::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void SmsQueue::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool SmsQueue::Woken() const { return wake_ || stopping_; }

void SmsQueue::Loop() {
  for (;;) {
    absl::StatusOr<RunStats> stats = RunOnce();
    if (!stats.ok())
      log::Warning("otp.sms_queue.run_failed").With(stats.status());
    const bool more = stats.ok() && stats->more;
    absl::MutexLock lock(&mu_);
    if (!more) {
      mu_.AwaitWithTimeout(absl::Condition(this, &SmsQueue::Woken),
                           options_.poll_interval);
    }
    wake_ = false;
    if (stopping_) return;
  }
}

}  // namespace eid::otp
