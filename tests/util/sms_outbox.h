// SmsOutbox (tests, benchmarks): the SMS eidd wrote to its outbox file
// (sms_transport=outbox), by phone. Delivery is asynchronous (a queue with a
// sender thread), so callers poll; each look reads only what was appended
// since the last one, and a line still being written waits for the next.
//
// Thread-safe.
#ifndef EID_TESTS_UTIL_SMS_OUTBOX_H_
#define EID_TESTS_UTIL_SMS_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace eid::testing {

// The first 6-digit run in `text` (an OTP code), or "" if there is none.
std::string CodeIn(const std::string& text);

class SmsOutbox {
 public:
  explicit SmsOutbox(std::string path) : path_(std::move(path)) {}

  // The texts sent to `phone` (normalised, "+84...") so far, oldest first.
  std::vector<std::string> Texts(const std::string& phone);

  // Texts(phone) once it holds at least `count` texts, or as it is after
  // `timeout`. `between_polls` runs after every look that found too few
  // (tests with a fake clock let the SMS queue's retry time pass there).
  std::vector<std::string> AwaitTexts(const std::string& phone, size_t count,
                                      absl::Duration timeout,
                                      const std::function<void()>& between_polls = {});

  // The `nth` (1-based) code sent to `phone`, counting only texts with a
  // code; DEADLINE_EXCEEDED if it did not come within `timeout`.
  absl::StatusOr<std::string> WaitForCode(const std::string& phone, size_t nth,
                                          absl::Duration timeout);

 private:
  // Reads the complete lines appended since the last call.
  void Refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  absl::Mutex mu_;
  int64_t offset_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::vector<std::string>> texts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid::testing

#endif  // EID_TESTS_UTIL_SMS_OUTBOX_H_
