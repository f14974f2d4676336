// OutboxSmsSender: the development transport. Appends one JSON line per SMS
// to a file, which stands for the developer's phone:
//   {"time":"2025-01-02T03:04:05Z","message_id":"m0-...","from":"VNeID",
//    "to":"+84912345678","text":"VNeID: Ma OTP ..."}
// Each line is written with one write(2) and fsync'd before Send returns.
// The file is created with mode 0600 (it holds live codes). Thread-safe.
#ifndef EID_SERVICES_OTP_OUTBOX_SMS_SENDER_H_
#define EID_SERVICES_OTP_OUTBOX_SMS_SENDER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/otp/sms_sender.h"

namespace eid::otp {

class OutboxSmsSender : public SmsSender {
 public:
  // Opens (creating) `path` for appending. FAILED_PRECONDITION if it cannot.
  static absl::StatusOr<std::unique_ptr<OutboxSmsSender>> Open(
      const std::string& path, Clock& clock);
  ~OutboxSmsSender() override;

  // UNAVAILABLE if the write or the fsync fails.
  absl::Status Send(const Sms& sms) override;
  std::string name() const override { return "outbox"; }

 private:
  OutboxSmsSender(int fd, Clock& clock) : fd_(fd), clock_(clock) {}
  absl::Mutex mu_;
  const int fd_;
  Clock& clock_;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_OUTBOX_SMS_SENDER_H_
