// SmsSender: hands one SMS to a transport (a file, an SMS gateway). The
// delivery queue (sms_queue.h) calls it from its sender thread and retries
// what fails.
#ifndef EID_SERVICES_OTP_SMS_SENDER_H_
#define EID_SERVICES_OTP_SMS_SENDER_H_

#include <string>

#include "absl/status/status.h"

namespace eid::otp {

struct Sms {
  std::string message_id;
  std::string to;    // "+84xxxxxxxxx"
  std::string text;  // GSM-7
  int attempt = 1;   // 1 for the first send; ties a delivery report to it.
};

class SmsSender {
 public:
  virtual ~SmsSender() = default;

  // OK once the transport accepted `sms` (it may still be delivered later).
  // Any error is retried by the queue; its message goes to the message's
  // last_error, so it must never hold the text or the number.
  virtual absl::Status Send(const Sms& sms) = 0;

  // The transport's name, as GetDeliveryStatus reports it: "outbox",
  // "kannel".
  virtual std::string name() const = 0;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_SMS_SENDER_H_
