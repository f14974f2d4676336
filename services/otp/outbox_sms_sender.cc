#include "services/otp/outbox_sms_sender.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/otp/sms_text.h"

namespace eid::otp {
namespace {

// A JSON string literal of `s` (UTF-8 passed through).
std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OutboxSmsSender>> OutboxSmsSender::Open(
    const std::string& path, Clock& clock) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open SMS outbox ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<OutboxSmsSender>(new OutboxSmsSender(fd, clock));
}

OutboxSmsSender::~OutboxSmsSender() { ::close(fd_); }

absl::Status OutboxSmsSender::Send(const Sms& sms) {
  const std::string line = absl::StrCat(
      "{\"time\":",
      JsonString(absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", clock_.Now(),
                                  absl::UTCTimeZone())),
      ",\"message_id\":", JsonString(sms.message_id),
      ",\"from\":", JsonString(kSmsSender), ",\"to\":", JsonString(sms.to),
      ",\"text\":", JsonString(sms.text), "}\n");
  absl::MutexLock lock(&mu_);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("outbox: write: ", std::strerror(errno)));
    }
    done += n;
  }
  if (::fsync(fd_) != 0) {
    return absl::UnavailableError(
        absl::StrCat("outbox: fsync: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace eid::otp
