// The texts of the SMS the OTP service sends: unaccented Vietnamese in the
// GSM-7 basic character set (one 160-character part for a code), sender
// "VNeID". Pure functions; thread-safe.
#ifndef EID_SERVICES_OTP_SMS_TEXT_H_
#define EID_SERVICES_OTP_SMS_TEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eid/v1/otp.pb.h"

namespace eid::otp {

// The sender name shown on the phone.
inline constexpr absl::string_view kSmsSender = "VNeID";

// The SMS carrying `code` (6 digits) for `purpose`, e.g. "VNeID: Ma OTP kich
// hoat tai khoan cua ban la 123456. Ma co hieu luc trong 5 phut. Khong chia
// se ma nay cho bat ky ai." `lifetime` is said in whole minutes (rounded up),
// or seconds under a minute.
std::string OtpSmsText(v1::OtpPurpose purpose, absl::string_view code,
                       absl::Duration lifetime);

// The notice `kind` for the citizen `folded_name` (already folded by
// FoldNameToGsm7Upper). The approval text is the seed's, word for word.
// INVALID_ARGUMENT (FIELD_INVALID) for an unspecified or unknown kind,
// (FULL_NAME_INVALID) for an empty name where the text needs one.
absl::StatusOr<std::string> NoticeSmsText(v1::NoticeKind kind,
                                          absl::string_view folded_name);

// A full name (UTF-8, NFC or decomposed) as the approval SMS shows it: in
// capitals without diacritics, spaces collapsed: "Nguyễn Văn Ánh" ->
// "NGUYEN VAN ANH", "đặng" -> "DANG", "Y Ñuê" -> "Y NUE"
// (validation::ToGsm7Upper). INVALID_ARGUMENT (FULL_NAME_INVALID) for a name
// registration would refuse (validation::NormalizeFullName).
absl::StatusOr<std::string> FoldNameToGsm7Upper(absl::string_view utf8_name);

// Whether every byte of `text` is a character of the GSM 03.38 default
// alphabet that is also ASCII (no escape-table characters such as '[' or
// '{', which cost two septets and some handsets mangle).
bool IsGsm7Basic(absl::string_view text);

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_SMS_TEXT_H_
