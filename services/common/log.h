// Structured logging: one JSON object per line on stderr.
//
//   log::Info("otp.sent").With("phone", log::MaskPhone(phone)).With("n", 3);
//
// The line is written when the temporary entry is destroyed. Secrets never
// reach the log: a field whose key names a secret (passcode, otp_code, pepper,
// secret, password, answer, private_key, token, signature) is written as
// "[redacted]" whatever its value, and ID numbers and phone numbers are
// logged only through MaskIdNumber / MaskPhone. Thread-safe: lines from
// different threads never interleave.
#ifndef EID_SERVICES_COMMON_LOG_H_
#define EID_SERVICES_COMMON_LOG_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace eid::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// One log line being built.
class Entry {
 public:
  Entry(Level level, absl::string_view event);
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;
  ~Entry();  // Writes the line (if `level` is enabled).

  Entry& With(absl::string_view key, absl::string_view value);
  Entry& With(absl::string_view key, const char* value);
  Entry& With(absl::string_view key, const std::string& value);
  Entry& With(absl::string_view key, int64_t value);
  Entry& With(absl::string_view key, int value);
  Entry& With(absl::string_view key, uint64_t value);
  Entry& With(absl::string_view key, double value);
  Entry& With(absl::string_view key, bool value);
  // Adds "code" and "message" of a failed status (and its reason, if any).
  Entry& With(const absl::Status& status);

 private:
  bool enabled_;
  std::string line_;
};

inline Entry Debug(absl::string_view event) { return Entry(Level::kDebug, event); }
inline Entry Info(absl::string_view event) { return Entry(Level::kInfo, event); }
inline Entry Warning(absl::string_view event) {
  return Entry(Level::kWarning, event);
}
inline Entry Error(absl::string_view event) { return Entry(Level::kError, event); }

// Lines below `level` are dropped. Default: kInfo.
void SetMinLevel(Level level);
// Sends lines to `sink` instead of stderr (tests); nullptr restores stderr.
void SetSinkForTesting(std::function<void(absl::string_view line)> sink);

// "001*******89": province code and last two digits of a 12-digit ID number;
// anything else becomes "***".
std::string MaskIdNumber(absl::string_view id_number);
// "+84*******89": country prefix and last two digits.
std::string MaskPhone(absl::string_view phone);

// True if a field called `key` would be redacted.
bool IsSecretKey(absl::string_view key);

}  // namespace eid::log

#endif  // EID_SERVICES_COMMON_LOG_H_
