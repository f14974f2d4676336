// Vietnamese mobile phone numbers.
//
// Accepted forms, after removing spaces, dots and dashes:
//   "0"   + 9 digits   (national:       "0912345678")
//   "+84" + 9 digits   (international:  "+84912345678")
//   "84"  + 9 digits   (international without the plus: "84912345678")
// The first of the 9 national digits must be a mobile prefix: 3, 5, 7, 8 or
// 9 (Viettel, Vinaphone, MobiFone, Vietnamobile, ... since the 2018
// renumbering). Anything else, including "+840..." (a trunk zero after the
// country code), parentheses, letters and non-ASCII characters, is
// INVALID_ARGUMENT (PHONE_INVALID). Messages never contain the number.
//
// The one normal form, used for storage, lookups and responses, is
// "+84" followed by the 9 national digits.
//
// All functions are pure and thread-safe.
#ifndef EID_SERVICES_VALIDATION_PHONE_H_
#define EID_SERVICES_VALIDATION_PHONE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eid::validation {

// `phone` in normal form ("+84912345678"), or PHONE_INVALID.
absl::StatusOr<std::string> NormalizePhone(absl::string_view phone);

// The phone for logs and responses: "+84******789" (the last three digits
// only). Accepts any accepted form; anything that does not normalise is
// masked whole ("***").
std::string MaskPhone(absl::string_view phone);

}  // namespace eid::validation

#endif  // EID_SERVICES_VALIDATION_PHONE_H_
