// SmsOutboxReader (benchmarks): the one-time codes eidd wrote to its SMS
// outbox file (sms_transport=outbox), by phone. SMS delivery is
// asynchronous (a queue with a sender thread), so WaitForCode polls the file,
// reading only what was appended since the last look.
//
// Thread-safe.
#ifndef EID_TESTS_BENCH_SMS_OUTBOX_READER_H_
#define EID_TESTS_BENCH_SMS_OUTBOX_READER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace eid::bench {

class SmsOutboxReader {
 public:
  explicit SmsOutboxReader(std::string path) : path_(std::move(path)) {}

  // The `nth` (1-based) 6-digit code sent to `phone` (normalised, "+84..."),
  // waiting up to `timeout` for it; DEADLINE_EXCEEDED if it did not come.
  absl::StatusOr<std::string> WaitForCode(const std::string& phone, size_t nth,
                                          absl::Duration timeout);

 private:
  // Reads the complete lines appended since the last call.
  void Refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  absl::Mutex mu_;
  int64_t offset_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::vector<std::string>> codes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid::bench

#endif  // EID_TESTS_BENCH_SMS_OUTBOX_READER_H_
