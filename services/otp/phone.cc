#include "services/otp/phone.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace eid::otp {

std::optional<std::string> NormalizePhone(absl::string_view phone) {
  std::string s;
  for (char c : phone) {
    if (c == ' ' || c == '-') continue;
    s.push_back(c);
  }
  absl::string_view rest = s;
  if (absl::StartsWith(rest, "+84")) {
    rest.remove_prefix(3);
  } else if (absl::StartsWith(rest, "0")) {
    rest.remove_prefix(1);
  } else {
    return std::nullopt;
  }
  if (rest.size() != 9) return std::nullopt;
  for (char c : rest) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
  }
  return absl::StrCat("+84", rest);
}

std::string MaskedPhone(absl::string_view normalized_phone) {
  if (normalized_phone.size() < 6) return "***";
  std::string out(normalized_phone.substr(0, 3));
  out.append(normalized_phone.size() - 6, '*');
  absl::StrAppend(&out, normalized_phone.substr(normalized_phone.size() - 3));
  return out;
}

}  // namespace eid::otp
