// Kannel delivery reports (DLRs): what the kannel transport asks smsbox for
// and how a report that comes back is authenticated and read.
//
// With each SMS the transport sends a dlr-mask (kDlrMask: the final states)
// and a dlr-url of the form
//   <base>?id=<message_id>&n=<attempt>&auth=<token>&type=%d
// smsbox replaces %d by the report's type and GETs the URL. The token is
// HMAC-SHA256(sms_dlr_key, "kannel-dlr", message_id, attempt) in hex: only
// whoever holds the key (us) can make a URL that DlrReceiver believes, so
// nobody can mark a message delivered or failed by guessing ids. The attempt
// number ties a report to one send: a late failure report for an earlier
// attempt cannot fail a later one.
#ifndef EID_SERVICES_OTP_KANNEL_DLR_H_
#define EID_SERVICES_OTP_KANNEL_DLR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eid::otp {

// Kannel's DLR types (%d in dlr-url; bits of dlr-mask).
inline constexpr int kDlrDelivered = 1;      // Delivered to the phone.
inline constexpr int kDlrFailed = 2;         // Not delivered to the phone.
inline constexpr int kDlrBuffered = 4;       // Queued at the SMSC.
inline constexpr int kDlrSmscAccepted = 8;   // Accepted by the SMSC.
inline constexpr int kDlrSmscRejected = 16;  // Rejected by the SMSC.
// The reports asked for: the final ones only (the interim ones change
// nothing here and would double smsbox's callbacks).
inline constexpr int kDlrMask = kDlrDelivered | kDlrFailed | kDlrSmscRejected;

// What a report of type `type` means for the message.
enum class DlrOutcome {
  kDelivered,  // 1: the phone has it.
  kFailed,     // 2, 16: final failure from the operator.
  kInterim,    // 4, 8: informational, changes nothing.
  kUnknown,    // Anything else: refused.
};
DlrOutcome DlrOutcomeOf(int type);

// The path DlrReceiver serves.
inline constexpr char kDlrPath[] = "/kannel/dlr";

// Makes and checks dlr-url tokens. Copyable, thread-safe.
class DlrAuthenticator {
 public:
  // `key` signs and verifies; `accepted`, if not empty, only verifies: the
  // other key while the key is rotated (docs/operations.md). Each at least
  // 32 bytes.
  explicit DlrAuthenticator(std::string key, std::string accepted = "")
      : key_(std::move(key)), accepted_(std::move(accepted)) {}
  // Reads the key from a secret file (secrets.h rules: mode 0600, >= 32
  // bytes), and the accepted one from `accepted_path` if that file exists
  // and is not empty. FAILED_PRECONDITION otherwise.
  static absl::StatusOr<DlrAuthenticator> FromFile(
      const std::string& path, const std::string& accepted_path = "");

  // 64 lowercase hex digits, under the key.
  std::string Token(absl::string_view message_id, int attempt) const;
  // Whether `token` is Token(message_id, attempt) under the key or the
  // accepted one, in constant time.
  bool Verify(absl::string_view message_id, int attempt,
              absl::string_view token) const;

 private:
  static std::string TokenUnder(const std::string& key, absl::string_view message_id,
                                int attempt);
  std::string key_;
  std::string accepted_;
};

// The dlr-url for one attempt at `message_id`: `base` (e.g.
// "http://otp:8082/kannel/dlr") with the query above; "%d" is left for
// smsbox. Message ids hold only [a-z0-9-], so nothing needs escaping.
std::string DlrUrl(absl::string_view base, absl::string_view message_id,
                   int attempt, const DlrAuthenticator& auth);

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_KANNEL_DLR_H_
