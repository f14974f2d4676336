// DlrReceiver: what to do with one delivery report smsbox sends back
// (GET <dlr_url>?id=..&n=..&auth=..&type=N, see kannel_dlr.h). It checks the
// token, maps Kannel's type, applies it to the queue
// (SmsQueue::RecordDeliveryReport), audits what changed or was forged, and
// answers an HTTP status. The HTTP listener is DlrHttpServer.
//
//   200 "delivered" | "retrying" | "dead-lettered"   applied (durable)
//   200 "duplicate"   already applied; nothing changed (smsbox may repeat)
//   200 "interim"     types 4 and 8: nothing to change
//   400 "malformed"   a parameter missing or not a number, an unknown type
//   403 "forged"      the token does not match: nothing changed, audited
//                     ("otp.delivered"/"otp.delivery_failed", REJECTED,
//                     CALLER_NOT_ALLOWED, with the caller's address)
//   404 "unknown"     a genuine token for a message no longer kept
//   409 "stale"       contradicts the message's state (e.g. a failure
//                     report on an earlier attempt); nothing changed
//   503 "unavailable" the store failed; smsbox may try again
//
// Audited (service "otp", actor "service:otp"): otp.delivered,
// otp.delivery_failed (attributes message_id, attempt, dlr_type); when a
// failure used up the message, the queue audits otp.dead_lettered.
//
// Metrics: otp_sms_delivery_reports_total{result} with result one of
// delivered, retrying, dead_lettered, duplicate, interim, malformed, forged,
// unknown, stale, error.
//
// Thread-safe.
#ifndef EID_SERVICES_OTP_DLR_RECEIVER_H_
#define EID_SERVICES_OTP_DLR_RECEIVER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "services/audit/audit_client.h"
#include "services/common/clock.h"
#include "services/otp/kannel_dlr.h"
#include "services/otp/sms_queue.h"

namespace eid::otp {

// The query parameters of one report, as received (not yet trusted).
struct DlrQuery {
  std::string id;
  std::string attempt;  // "n"
  std::string auth;
  std::string type;
};

struct DlrReply {
  int status = 200;
  std::string body;
};

class DlrReceiver {
 public:
  // All must outlive the receiver; `audit` may be null (no audit log, tests
  // of other parts).
  DlrReceiver(SmsQueue& queue, DlrAuthenticator auth, audit::AuditSink* audit,
              Clock& clock, prometheus::Registry& metrics);

  // `remote`: the caller's address, for the audit of a forgery.
  DlrReply Handle(const DlrQuery& query, absl::string_view remote);

 private:
  DlrReply Reply(int status, absl::string_view result);
  void Audit(absl::string_view action, absl::string_view reason,
             const DlrQuery& query, absl::string_view remote);

  SmsQueue& queue_;
  const DlrAuthenticator auth_;
  audit::AuditSink* const audit_;
  Clock& clock_;
  prometheus::Family<prometheus::Counter>& reports_;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_DLR_RECEIVER_H_
