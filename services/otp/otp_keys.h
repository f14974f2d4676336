// Where the OTP service keeps its records in the storage shards, and the
// form of its opaque ids. Pure functions.
//
// Namespace "otp". The router picks a key's shard by the part before the
// first '|', so everything of one account shares the "<account_id>|" routing
// key: one Batch can consume a code and reset the account's counters.
//
//   <account_id>|otp|<purpose>     OtpRecord: the live code of a purpose
//   <account_id>|attempts          AttemptsRecord: wrong codes, all purposes
//   <account_id>|day|<n>           DayCounter: codes sent that day
//   <account_id>|req|<request_id>  RequestRecord: idempotent SendOtp/SendNotice
//   phone:<+84...>|day|<n>         DayCounter: codes sent to a phone that day
//   smsq-<p>|m|<message_id>        SmsRecord: one queued SMS
//   smsq-<p>|d|<due µs, 20 digits>|<message_id>
//                                  due index: what the sender scans, in order
//   smsq-<p>|dead|<message_id>     dead-letter record (an SmsRecord)
//
// otp_id   = "o1." + base64url(account_id) + "." + purpose + "." + seq + "."
//            + 16 hex nonce: CheckOtp finds the account's shard from it.
// message_id = "m" + partition + "-" + 32 hex: GetDeliveryStatus finds the
//            queue partition from it.
#ifndef EID_SERVICES_OTP_OTP_KEYS_H_
#define EID_SERVICES_OTP_OTP_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace eid::otp {

inline constexpr absl::string_view kNamespace = "otp";

std::string OtpKey(absl::string_view account_id, int purpose);
std::string AttemptsKey(absl::string_view account_id);
std::string AccountDayKey(absl::string_view account_id, int64_t day);
std::string PhoneDayKey(absl::string_view phone, int64_t day);
std::string RequestKey(absl::string_view account_id,
                       absl::string_view request_id);

std::string SmsKey(int partition, absl::string_view message_id);
std::string DueKey(int partition, absl::Time due, absl::string_view message_id);
std::string DuePrefix(int partition);
std::string DeadKey(int partition, absl::string_view message_id);
// The due time written in a DueKey; nullopt if `key` is not one.
std::optional<absl::Time> DueTimeOfKey(absl::string_view key);

// Days since the epoch in Vietnam time (UTC+7, no DST): the "daily" of the
// daily caps. And the start of the day after `t`.
int64_t VietnamDay(absl::Time t);
absl::Time NextVietnamDayStart(absl::Time t);

struct OtpId {
  std::string account_id;
  int purpose = 0;
  uint64_t seq = 0;
  std::string nonce;  // 16 hex digits
};
std::string FormatOtpId(const OtpId& id);
// nullopt if `text` is not an id FormatOtpId made.
std::optional<OtpId> ParseOtpId(absl::string_view text);

std::string FormatMessageId(int partition, absl::string_view nonce_hex);
// The partition of a message id, or -1 if malformed or >= `partitions`.
int PartitionOfMessageId(absl::string_view message_id, int partitions);

// Whether an account id can be used in keys: 1-128 printable ASCII bytes, no
// '|'.
bool IsValidAccountId(absl::string_view account_id);

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_OTP_KEYS_H_
