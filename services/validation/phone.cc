#include "services/validation/phone.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/status.h"

namespace eid::validation {
namespace {

constexpr size_t kNationalDigits = 9;
// Bounds the work on hostile input; no accepted form with separators needs
// more.
constexpr size_t kMaxInputLength = 32;

absl::Status PhoneError(absl::string_view why) {
  return InvalidArgument(v1::PHONE_INVALID, absl::StrCat("phone ", why));
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> NormalizePhone(absl::string_view phone) {
  if (phone.size() > kMaxInputLength) return PhoneError("is too long");
  std::string s;
  for (char c : phone) {
    if (c == ' ' || c == '.' || c == '-') continue;
    s.push_back(c);
  }
  absl::string_view national = s;
  const bool known_prefix = absl::ConsumePrefix(&national, "+84") ||
                            (national.size() == kNationalDigits + 2 &&
                             absl::ConsumePrefix(&national, "84")) ||
                            (national.size() == kNationalDigits + 1 &&
                             absl::ConsumePrefix(&national, "0"));
  if (!known_prefix || national.size() != kNationalDigits ||
      !AllDigits(national)) {
    return PhoneError("must be 0, +84 or 84 followed by 9 digits");
  }
  switch (national[0]) {
    case '3':
    case '5':
    case '7':
    case '8':
    case '9':
      break;
    default:
      return PhoneError("is not a mobile number (prefix 3, 5, 7, 8 or 9)");
  }
  return absl::StrCat("+84", national);
}

std::string MaskPhone(absl::string_view phone) {
  absl::StatusOr<std::string> normal = NormalizePhone(phone);
  if (!normal.ok()) return "***";
  return absl::StrCat("+84******", absl::string_view(*normal).substr(9));
}

}  // namespace eid::validation
