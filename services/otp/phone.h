// Vietnamese mobile numbers as the OTP service takes them. A minimal local
// rule until the shared validation library lands: "0" + 9 digits or "+84" +
// 9 digits, spaces and dashes ignored, normalised to "+84" + 9 digits.
#ifndef EID_SERVICES_OTP_PHONE_H_
#define EID_SERVICES_OTP_PHONE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace eid::otp {

// "+84xxxxxxxxx", or nullopt if `phone` is not of an accepted form.
std::optional<std::string> NormalizePhone(absl::string_view phone);

// All digits but the last three masked, the "+84" kept: "+84******789".
std::string MaskedPhone(absl::string_view normalized_phone);

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_PHONE_H_
