#include "services/common/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/status.h"

namespace eid::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};

absl::Mutex sink_mu;
std::function<void(absl::string_view)>* sink ABSL_GUARDED_BY(sink_mu) =
    nullptr;

constexpr absl::string_view kLevelNames[] = {"debug", "info", "warning",
                                             "error"};

// Substrings of a field key that mark its value as a secret.
constexpr absl::string_view kSecretWords[] = {
    "passcode", "otp_code", "pepper",      "secret",   "password",
    "answer",   "token",    "private_key", "signature"};

void AppendJsonString(std::string& out, absl::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string Masked(absl::string_view keep_head, absl::string_view s,
                   size_t tail) {
  std::string out(keep_head);
  out.append(s.size() - keep_head.size() - tail, '*');
  absl::StrAppend(&out, s.substr(s.size() - tail));
  return out;
}

}  // namespace

Entry::Entry(Level level, absl::string_view event)
    : enabled_(static_cast<int>(level) >= min_level.load()) {
  if (!enabled_) return;
  line_ = "{\"ts\":";
  AppendJsonString(line_, absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                           absl::UTCTimeZone()));
  absl::StrAppend(&line_, ",\"level\":\"", kLevelNames[static_cast<int>(level)],
                  "\",\"event\":");
  AppendJsonString(line_, event);
}

Entry::~Entry() {
  if (!enabled_) return;
  line_ += "}";
  absl::MutexLock lock(&sink_mu);
  if (sink != nullptr) {
    (*sink)(line_);
  } else {
    line_ += "\n";
    std::fwrite(line_.data(), 1, line_.size(), stderr);
  }
}

Entry& Entry::With(absl::string_view key, absl::string_view value) {
  if (!enabled_) return *this;
  line_ += ",";
  AppendJsonString(line_, key);
  line_ += ":";
  AppendJsonString(line_, IsSecretKey(key) ? "[redacted]" : value);
  return *this;
}

Entry& Entry::With(absl::string_view key, const char* value) {
  return With(key, absl::string_view(value));
}

Entry& Entry::With(absl::string_view key, const std::string& value) {
  return With(key, absl::string_view(value));
}

Entry& Entry::With(absl::string_view key, int64_t value) {
  if (!enabled_) return *this;
  if (IsSecretKey(key)) return With(key, absl::string_view());
  line_ += ",";
  AppendJsonString(line_, key);
  absl::StrAppend(&line_, ":", value);
  return *this;
}

Entry& Entry::With(absl::string_view key, int value) {
  return With(key, static_cast<int64_t>(value));
}

Entry& Entry::With(absl::string_view key, uint64_t value) {
  return With(key, static_cast<int64_t>(value));
}

Entry& Entry::With(absl::string_view key, double value) {
  if (!enabled_) return *this;
  if (IsSecretKey(key)) return With(key, absl::string_view());
  line_ += ",";
  AppendJsonString(line_, key);
  absl::StrAppend(&line_, ":", value);
  return *this;
}

Entry& Entry::With(absl::string_view key, bool value) {
  return With(key, absl::string_view(value ? "true" : "false"));
}

Entry& Entry::With(const absl::Status& status) {
  With("code", absl::StatusCodeToString(status.code()));
  With("message", status.message());
  const std::string reason = ReasonOf(status);
  if (!reason.empty()) With("reason", reason);
  return *this;
}

void SetMinLevel(Level level) { min_level.store(static_cast<int>(level)); }

void SetSinkForTesting(std::function<void(absl::string_view)> new_sink) {
  absl::MutexLock lock(&sink_mu);
  delete sink;
  sink = new_sink ? new std::function<void(absl::string_view)>(
                        std::move(new_sink))
                  : nullptr;
}

bool IsSecretKey(absl::string_view key) {
  const std::string lower = absl::AsciiStrToLower(key);
  for (absl::string_view word : kSecretWords) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

std::string MaskIdNumber(absl::string_view id) {
  if (id.size() != 12) return "***";
  return Masked(id.substr(0, 3), id, 2);
}

std::string MaskPhone(absl::string_view phone) {
  if (absl::StartsWith(phone, "+84") && phone.size() >= 8) {
    return Masked("+84", phone, 2);
  }
  if (absl::StartsWith(phone, "0") && phone.size() >= 6) {
    return Masked("0", phone, 2);
  }
  return "***";
}

}  // namespace eid::log
