// SmsQueue: the durable SMS delivery queue, kept in the storage shards
// ("otp" namespace; keys in otp_keys.h), and the sender that drains it.
//
// Life of a message:
//   Enqueue   one atomic Batch writes the message record (QUEUED) and its
//             due-index entry; once it returns OK the message is durable and
//             will be attempted. Messages are spread over a fixed number of
//             partitions ("smsq-<p>|..."), each a routing key of its own.
//   RunOnce   for each partition, scans the due index in time order and for
//             each due message: claims it (moves its due entry to now + lease,
//             one Batch with compare-and-swap, so two senders never send it at
//             once; a sender that dies mid-send leaves it to be retried after
//             the lease), hands it to the SmsSender, then records the outcome:
//               accepted -> SENT (a code's text is erased from the record);
//               failed   -> FAILED, retried after initial_backoff * 2^(n-1)
//                           (capped at max_backoff);
//               failed max_attempts times -> DEAD_LETTERED, plus a dead-letter
//                           record "smsq-<p>|dead|<id>" for operators.
//             An SMS carrying a code is first checked against the code's
//             record (its guard): it is not sent if its code expired, was
//             superseded by a resend or was never stored (the SendOtp that
//             queued it failed after queueing); it waits up to commit_grace
//             for a code not yet stored. Such a message ends DEAD_LETTERED with
//             last_error saying why, without an attempt.
//   Start     runs RunOnce on a thread every poll_interval, and at once after
//             an Enqueue (of a guarded SMS: after Wake(), which its code's
//             owner calls once the code is stored); tests call RunOnce
//             directly with a FakeClock.
// Delivery is at least once: a sender crash between the transport's
// acceptance and the SENT record repeats the SMS after the lease. The
// outcome of a send (SENT, FAILED) and a due entry moved or dropped are
// written with defer_sync (storage.proto): a power loss that takes one back
// leaves the message claimed, and it is sent again after the lease, as after
// a crash. Enqueue, the claim (its attempt number goes out with the SMS, in
// the delivery-report URL, and must never be reused) and DEAD_LETTERED wait
// for their fsync.
//   RecordDeliveryReport  the operator's delivery report (Kannel DLR, via
//             DlrReceiver) on one attempt:
//               delivered -> DELIVERED with delivered_at (from SENT, or from
//                           QUEUED/FAILED when an earlier attempt arrived
//                           after all; a due entry left behind is dropped
//                           by the next RunOnce);
//               failed (on the latest attempt, while SENT) -> treated like
//                           a failed send: FAILED and retried after the
//                           backoff if the text is still there (notices),
//                           attempts remain and it has not expired;
//                           otherwise DEAD_LETTERED. A code's text is erased
//                           once SENT, so a code the operator could not
//                           deliver is dead-lettered: the citizen asks for a
//                           new code (a resend), never the same one twice.
//               failed, overtaking its send (Kannel's report can arrive
//                           before sendsms returns) -> noted on the record;
//                           the send's finish applies it as above.
//             A report already applied is a duplicate and changes nothing;
//             so does one that contradicts the message's state (stale).
//
// Audited (Options::audit): every message given up, otp.dead_lettered with
// a stable reason (DeadLetter below).
//
// Metrics (in the registry passed in):
//   otp_sms_sent_total{transport}            SMS accepted by the transport
//   otp_sms_delivered_total{transport}       SMS the operator's delivery
//                                            report says were delivered
//   otp_sms_operator_failures_total{transport} operator reports of failure
//   otp_sms_send_failures_total{transport}   failed attempts
//   otp_sms_dead_lettered_total              messages given up
//   otp_sms_queue_depth                      messages waiting (counted by a
//                                            RunOnce at most every
//                                            depth_interval; up to 10,000
//                                            per partition)
//   otp_sms_accept_latency_seconds           Enqueue -> accepted by transport
//   otp_sms_delivery_latency_seconds         Enqueue -> delivery report
//                                            "delivered" (transports that
//                                            report deliveries: kannel)
//
// Thread-safe.
#ifndef EID_SERVICES_OTP_SMS_QUEUE_H_
#define EID_SERVICES_OTP_SMS_QUEUE_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eid/otp/records.pb.h"
#include "eid/v1/otp.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/audit/audit_client.h"
#include "services/common/clock.h"
#include "services/common/random.h"
#include "services/otp/sms_sender.h"
#include "storage/shard/kv_store.h"

namespace eid::otp {

class SmsQueue {
 public:
  struct Options {
    // Queue partitions. Part of every message id: never lower it while
    // messages exist.
    int partitions = 4;
    // Attempts before a message is dead-lettered.
    int max_attempts = 6;
    // Wait after the first failure; doubles after each later one.
    absl::Duration initial_backoff = absl::Seconds(5);
    absl::Duration max_backoff = absl::Minutes(10);
    // A claimed message not finished within this is attempted again.
    absl::Duration lease = absl::Seconds(30);
    // How long a code's SMS waits for its code to be stored.
    absl::Duration commit_grace = absl::Seconds(10);
    // How soon a code's SMS that found its code not yet stored looks again.
    absl::Duration pending_recheck = absl::Milliseconds(100);
    // Message records (and dead letters) are kept this long for
    // GetDeliveryStatus and operators.
    absl::Duration retention = absl::Hours(7 * 24);
    // Due messages taken per partition in one RunOnce.
    int batch = 100;
    // The sender thread's pause between two RunOnce when idle.
    absl::Duration poll_interval = absl::Milliseconds(200);
    // How often RunOnce counts the queue depth: a count scans every
    // partition's due index (over its deletions' tombstones), which cost
    // more than sending when it ran after every message.
    absl::Duration depth_interval = absl::Seconds(1);
    // Sent messages leave deleted due entries that RocksDB steps over until
    // a compaction drops them, so a pass starts where the last complete
    // pass ended, less this much for the clocks of other senders...
    absl::Duration clock_slack = absl::Seconds(5);
    // ...once every this often (from where the last such pass began); the
    // passes between reach back only `recent`, for this sender's own
    // messages queued while the last pass ran (one whose write took longer
    // waits for the next slack pass). Reaching back the whole slack on every
    // pass stepped over 5 s of deleted entries each time: 2-3% of an
    // activation's CPU.
    absl::Duration slack_interval = absl::Seconds(1);
    absl::Duration recent = absl::Milliseconds(250);
    // And every this often a pass starts at the beginning of the due index,
    // for an entry behind that (a sender whose clock lags more).
    absl::Duration full_pass_interval = absl::Minutes(1);
    // Where each message given up is audited (otp.dead_lettered); null:
    // not audited. Must outlive the queue.
    audit::AuditSink* audit = nullptr;
  };

  // One SMS to queue.
  struct Outgoing {
    // Preset for idempotent enqueues (from NewMessageId); made if empty.
    std::string message_id;
    std::string phone;  // normalised "+84..."
    std::string text;
    // The text holds a code: erased once the message is final.
    bool sensitive = false;
    // Not sent after this (a code's expiry).
    absl::Time content_expires_at = absl::InfiniteFuture();
    // For a code: its record's key and otp_id (see the guard above).
    std::string guard_key;
    std::string guard_otp_id;
  };

  // What one RunOnce did.
  struct RunStats {
    int sent = 0;
    int failed = 0;
    int dead_lettered = 0;
    int dropped = 0;  // not sent: code expired, superseded or not stored
    int64_t depth = 0;  // as of the last count (see depth_interval)
    bool more = false;  // a partition had more due messages than `batch`
  };

  // `kv`, `sender`, `clock`, `random` and `metrics` must outlive the queue.
  SmsQueue(const Options& options, storage::KvStore& kv, SmsSender& sender,
           Clock& clock, RandomSource& random, prometheus::Registry& metrics);
  ~SmsQueue();  // Stops the sender thread.

  // A fresh message id (for Outgoing::message_id).
  std::string NewMessageId();

  // Queues `sms` durably and returns its message id. If a message with the
  // preset id exists already, returns the id and queues nothing (an
  // idempotent retry). Errors of the store (e.g. UNAVAILABLE).
  absl::StatusOr<std::string> Enqueue(const Outgoing& sms);

  // Where a message stands. NOT_FOUND (MESSAGE_NOT_FOUND) if unknown or
  // purged.
  absl::StatusOr<v1::GetDeliveryStatusResponse> Status(
      const std::string& message_id);

  // What RecordDeliveryReport did.
  enum class ReportResult {
    kDelivered,     // Now DELIVERED.
    kRetrying,      // Operator failure: FAILED, attempted again later.
    kDeadLettered,  // Operator failure, no attempt left: DEAD_LETTERED.
    kDuplicate,     // Already applied: nothing changed.
    kStale,         // Contradicts the message's state: nothing changed.
    // A failure on the attempt being sent (the report overtook the send):
    // noted; the sender applies it (retry or dead letter) as it finishes.
    kNotedForSender,
  };

  // Applies the operator's report on attempt `attempt` (1-based) of
  // `message_id`: delivered or (final) failed. NOT_FOUND (MESSAGE_NOT_FOUND)
  // if unknown or purged; INVALID_ARGUMENT if `attempt` was never made;
  // errors of the store. The change is durable when it returns.
  absl::StatusOr<ReportResult> RecordDeliveryReport(
      const std::string& message_id, int attempt, bool delivered);

  // Attempts every message due at the clock's now. Errors only if the store
  // could not be scanned; a failed send is an outcome, not an error.
  absl::StatusOr<RunStats> RunOnce();

  // Makes the sender thread run at once (e.g. after a code was stored).
  void Wake();

  // Starts / stops the sender thread (Stop is idempotent).
  void Start();
  void Stop();

 private:
  int Partition(absl::string_view message_id) const;
  // One pass over partition p's due entries from `from` (InfinitePast: the
  // first) to `now`: whether each one it found was handled, or the error of
  // the scan.
  absl::StatusOr<bool> ProcessPartition(int p, absl::Time from, absl::Time now,
                                        RunStats& stats);
  // Handles one due entry; OK also when another sender won the race.
  absl::Status ProcessDue(int p, const v1::Record& due, RunStats& stats);
  enum class Guard { kLive, kPending, kGone };
  absl::StatusOr<Guard> CheckGuard(const SmsRecord& m, absl::Time now);
  // `due_key` empty: the message has no due entry (it was SENT).
  // After a send whose record was changed meanwhile (its delivery report
  // came first): OK if it is now DELIVERED (the lease is dropped).
  absl::Status FinishOvertaken(int p, const std::string& id, const std::string& leased_key,
                               uint64_t leased_version);
  // `why` goes to the record's last_error; `reason`, a stable code, to the
  // audit event (CODE_EXPIRED, CODE_GONE, SEND_FAILED, OPERATOR_FAILED).
  absl::Status DeadLetter(int p, SmsRecord m, uint64_t version,
                          const std::string& due_key, uint64_t due_version,
                          absl::string_view why, absl::string_view reason);
  // The same, but a lost race is ABORTED rather than OK.
  absl::Status WriteDeadLetter(int p, SmsRecord m, uint64_t version,
                               const std::string& due_key,
                               uint64_t due_version, absl::string_view why,
                               absl::string_view reason);
  // The wait before the attempt after `attempts` failed ones.
  absl::Duration Backoff(int attempts) const;
  // The operator could not deliver m's latest attempt: FAILED and due
  // again after the backoff (replacing `due_key`, if any) while its text
  // is kept, attempts remain and it has not expired — true; otherwise
  // DEAD_LETTERED — false. ABORTED if `version` is no longer the record's.
  absl::StatusOr<bool> FailByOperator(int p, SmsRecord m, uint64_t version,
                                      const std::string& due_key, uint64_t due_version);
  // One read-modify-write of RecordDeliveryReport; ABORTED if it lost a race.
  absl::StatusOr<ReportResult> ApplyReport(int p, const std::string& id,
                                           int attempt, bool delivered);
  absl::StatusOr<int64_t> Depth(int p);
  void Loop();
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  storage::KvStore& kv_;
  SmsSender& sender_;
  Clock& clock_;
  RandomSource& random_;

  prometheus::Counter& sent_;
  prometheus::Counter& failures_;
  prometheus::Counter& dead_lettered_;
  prometheus::Gauge& depth_;
  // When RunOnce last counted the depth, and what it found.
  absl::Mutex depth_mu_;
  absl::Time depth_counted_at_ ABSL_GUARDED_BY(depth_mu_) = absl::InfinitePast();
  int64_t last_depth_ ABSL_GUARDED_BY(depth_mu_) = 0;
  // When each partition's last complete pass, and last complete slack pass,
  // began (InfinitePast: none; the next pass starts at the beginning), and
  // when the next passes reach back the clock slack and start at the
  // beginning (see clock_slack).
  absl::Mutex pass_mu_;
  std::vector<absl::Time> passed_ ABSL_GUARDED_BY(pass_mu_);
  std::vector<absl::Time> slack_passed_ ABSL_GUARDED_BY(pass_mu_);
  absl::Time next_slack_pass_ ABSL_GUARDED_BY(pass_mu_) = absl::InfinitePast();
  absl::Time next_full_pass_ ABSL_GUARDED_BY(pass_mu_) = absl::InfinitePast();
  prometheus::Histogram& accept_latency_;
  prometheus::Counter& delivered_;
  prometheus::Counter& operator_failures_;
  prometheus::Histogram& delivery_latency_;

  mutable absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_SMS_QUEUE_H_
