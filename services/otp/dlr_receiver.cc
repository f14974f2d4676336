#include "services/otp/dlr_receiver.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::otp {
namespace {

// Message ids are short ([a-z0-9-]); a longer one is not ours.
constexpr size_t kMaxIdBytes = 64;

}  // namespace

DlrReceiver::DlrReceiver(SmsQueue& queue, DlrAuthenticator auth,
                         audit::AuditSink* audit, Clock& clock,
                         prometheus::Registry& metrics)
    : queue_(queue),
      auth_(std::move(auth)),
      audit_(audit),
      clock_(clock),
      reports_(prometheus::BuildCounter()
                   .Name("otp_sms_delivery_reports_total")
                   .Help("Delivery reports received from the SMS gateway, by "
                         "what they did.")
                   .Register(metrics)) {}

DlrReply DlrReceiver::Reply(int status, absl::string_view result) {
  reports_.Add({{"result", std::string(result)}}).Increment();
  std::string body(result);
  for (char& c : body) {
    if (c == '_') c = '-';
  }
  return DlrReply{status, body + "\n"};
}

DlrReply DlrReceiver::Handle(const DlrQuery& q, absl::string_view remote) {
  int attempt = 0;
  int type = 0;
  if (q.id.empty() || q.id.size() > kMaxIdBytes || q.auth.empty() ||
      !absl::SimpleAtoi(q.attempt, &attempt) || attempt < 1 ||
      !absl::SimpleAtoi(q.type, &type)) {
    return Reply(400, "malformed");
  }
  const DlrOutcome outcome = DlrOutcomeOf(type);
  // The token first: nothing about the message is revealed to a forger.
  if (!auth_.Verify(q.id, attempt, q.auth)) {
    log::Warning("otp.dlr.forged")
        .With("message_id", q.id)
        .With("remote_address", std::string(remote));
    Audit(outcome == DlrOutcome::kFailed ? "otp.delivery_failed"
                                         : "otp.delivered",
          "CALLER_NOT_ALLOWED", q, remote);
    return Reply(403, "forged");
  }
  if (outcome == DlrOutcome::kUnknown) return Reply(400, "malformed");
  if (outcome == DlrOutcome::kInterim) return Reply(200, "interim");

  absl::StatusOr<SmsQueue::ReportResult> result = queue_.RecordDeliveryReport(
      q.id, attempt, outcome == DlrOutcome::kDelivered);
  if (!result.ok()) {
    if (absl::IsNotFound(result.status())) return Reply(404, "unknown");
    if (absl::IsInvalidArgument(result.status())) return Reply(409, "stale");
    log::Warning("otp.dlr.failed").With("message_id", q.id).With(result.status());
    return Reply(503, "error");
  }
  switch (*result) {
    case SmsQueue::ReportResult::kDelivered:
      Audit("otp.delivered", "", q, remote);
      return Reply(200, "delivered");
    case SmsQueue::ReportResult::kRetrying:
      Audit("otp.delivery_failed", "", q, remote);
      return Reply(200, "retrying");
    case SmsQueue::ReportResult::kDeadLettered:
      Audit("otp.delivery_failed", "", q, remote);  // The queue audits the dead letter.
      return Reply(200, "dead_lettered");
    case SmsQueue::ReportResult::kNotedForSender:
      Audit("otp.delivery_failed", "", q, remote);
      return Reply(200, "noted");
    case SmsQueue::ReportResult::kDuplicate:
      return Reply(200, "duplicate");
    case SmsQueue::ReportResult::kStale:
      return Reply(409, "stale");
  }
  return Reply(503, "error");
}

void DlrReceiver::Audit(absl::string_view action, absl::string_view reason,
                        const DlrQuery& q, absl::string_view remote) {
  if (audit_ == nullptr) return;
  v1::AuditEvent event;
  *event.mutable_time() = ToProtoTime(clock_.Now());
  event.set_service("otp");
  event.set_action(std::string(action));
  auto& attributes = *event.mutable_attributes();
  attributes["message_id"] = q.id;
  attributes["attempt"] = q.attempt;
  attributes["dlr_type"] = q.type;
  if (reason.empty()) {
    event.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
    event.set_actor("service:otp");
  } else {
    // Not authenticated: whoever called, known only by address.
    event.set_outcome(v1::AUDIT_OUTCOME_REJECTED);
    event.set_reason(std::string(reason));
    event.set_actor("anonymous");
    attributes["remote_address"] = std::string(remote);
  }
  // The spool is local and durable; a failure there is counted and logged by
  // the client, and must not turn the report into an error.
  audit_->Record(std::move(event)).IgnoreError();
}

}  // namespace eid::otp
