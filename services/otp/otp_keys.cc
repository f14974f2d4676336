#include "services/otp/otp_keys.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace eid::otp {
namespace {

constexpr int64_t kVietnamOffsetSeconds = 7 * 3600;

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string OtpKey(absl::string_view account_id, int purpose) {
  return absl::StrCat(account_id, "|otp|", purpose);
}
std::string AttemptsKey(absl::string_view account_id) {
  return absl::StrCat(account_id, "|attempts");
}
std::string AccountDayKey(absl::string_view account_id, int64_t day) {
  return absl::StrCat(account_id, "|day|", day);
}
std::string PhoneDayKey(absl::string_view phone, int64_t day) {
  return absl::StrCat("phone:", phone, "|day|", day);
}
std::string RequestKey(absl::string_view account_id,
                       absl::string_view request_id) {
  return absl::StrCat(account_id, "|req|", request_id);
}

std::string SmsKey(int partition, absl::string_view message_id) {
  return absl::StrCat("smsq-", partition, "|m|", message_id);
}
std::string DuePrefix(int partition) {
  return absl::StrCat("smsq-", partition, "|d|");
}
std::string DueKey(int partition, absl::Time due,
                   absl::string_view message_id) {
  int64_t us = absl::ToUnixMicros(due);
  if (us < 0) us = 0;
  return absl::StrCat(DuePrefix(partition), absl::StrFormat("%020d", us), "|",
                      message_id);
}
std::string DeadKey(int partition, absl::string_view message_id) {
  return absl::StrCat("smsq-", partition, "|dead|", message_id);
}
std::optional<absl::Time> DueTimeOfKey(absl::string_view key) {
  std::vector<absl::string_view> parts = absl::StrSplit(key, '|');
  if (parts.size() != 4 || parts[1] != "d" || parts[2].size() != 20)
    return std::nullopt;
  int64_t us;
  if (!absl::SimpleAtoi(parts[2], &us)) return std::nullopt;
  return absl::FromUnixMicros(us);
}

int64_t VietnamDay(absl::Time t) {
  const int64_t s = absl::ToUnixSeconds(t) + kVietnamOffsetSeconds;
  return s >= 0 ? s / 86400 : (s - 86399) / 86400;
}
absl::Time NextVietnamDayStart(absl::Time t) {
  return absl::FromUnixSeconds((VietnamDay(t) + 1) * 86400 -
                               kVietnamOffsetSeconds);
}

std::string FormatOtpId(const OtpId& id) {
  return absl::StrCat("o1.", absl::WebSafeBase64Escape(id.account_id), ".",
                      id.purpose, ".", id.seq, ".", id.nonce);
}

std::optional<OtpId> ParseOtpId(absl::string_view text) {
  if (text.size() > 512) return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 5 || parts[0] != "o1") return std::nullopt;
  OtpId id;
  if (!absl::WebSafeBase64Unescape(parts[1], &id.account_id) ||
      !IsValidAccountId(id.account_id) ||
      !absl::SimpleAtoi(parts[2], &id.purpose) ||
      !absl::SimpleAtoi(parts[3], &id.seq) || parts[4].size() != 16 ||
      !IsHex(parts[4])) {
    return std::nullopt;
  }
  // Only the canonical spelling: "01" or "+1" would be another id.
  id.nonce = std::string(parts[4]);
  if (FormatOtpId(id) != text) return std::nullopt;
  return id;
}

std::string FormatMessageId(int partition, absl::string_view nonce_hex) {
  return absl::StrCat("m", partition, "-", nonce_hex);
}

int PartitionOfMessageId(absl::string_view message_id, int partitions) {
  if (message_id.size() > 64 || !absl::ConsumePrefix(&message_id, "m"))
    return -1;
  const size_t dash = message_id.find('-');
  if (dash == absl::string_view::npos || dash == 0 || dash > 4) return -1;
  int p;
  if (!absl::SimpleAtoi(message_id.substr(0, dash), &p) || p < 0 ||
      p >= partitions) {
    return -1;
  }
  absl::string_view nonce = message_id.substr(dash + 1);
  if (nonce.size() != 32 || !IsHex(nonce)) return -1;
  return p;
}

bool IsValidAccountId(absl::string_view account_id) {
  if (account_id.empty() || account_id.size() > 128) return false;
  for (char c : account_id) {
    if (c < 0x21 || c > 0x7e || c == '|') return false;
  }
  return true;
}

}  // namespace eid::otp
