#include "services/validation/full_name.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "services/common/status.h"

namespace eid::validation {
namespace {

constexpr size_t kMaxInputBytes = 1000;
constexpr size_t kMinChars = 2;

bool IsNameSpace(char32_t c) { return c == U' ' || c == U'\t' || c == 0x00A0; }

bool IsJoiner(char32_t c) { return c == U'-' || c == U'\''; }

absl::Status NameError(absl::string_view why) {
  return InvalidArgument(v1::FULL_NAME_INVALID, why);
}

}  // namespace

absl::StatusOr<std::string> NormalizeFullName(absl::string_view name) {
  if (name.size() > kMaxInputBytes) return NameError("full name is too long");
  std::optional<std::u32string> decoded = DecodeUtf8(name);
  if (!decoded.has_value()) return NameError("full name is not valid UTF-8");
  const std::u32string nfc = ToNfc(*decoded);

  std::u32string out;
  out.reserve(nfc.size());
  bool pending_space = false;
  for (char32_t c : nfc) {
    if (c == 0x2019) c = U'\'';
    if (IsNameSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (!IsNameLetter(c) && !IsJoiner(c)) {
      return NameError(
          "full name may hold only letters, spaces, hyphens and apostrophes");
    }
    if (pending_space) out.push_back(U' ');
    pending_space = false;
    out.push_back(c);
  }
  if (out.empty()) return NameError("full name is empty");
  for (size_t i = 0; i < out.size(); ++i) {
    if (!IsJoiner(out[i])) continue;
    if (i == 0 || i + 1 == out.size() || !IsNameLetter(out[i - 1]) ||
        !IsNameLetter(out[i + 1])) {
      return NameError(
          "a hyphen or apostrophe in a full name must join two letters");
    }
  }
  if (out.size() < kMinChars || out.size() > kMaxFullNameChars) {
    return NameError("full name must be 2 to 100 characters long");
  }
  return EncodeUtf8(out);
}

absl::Status ValidateFullName(absl::string_view name) {
  return NormalizeFullName(name).status();
}

std::string ToGsm7Upper(absl::string_view name) {
  // FoldDiacritics replaces ill-formed bytes, so its result always decodes.
  const std::u32string folded =
      DecodeUtf8(FoldDiacritics(name)).value_or(std::u32string());
  std::string out;
  out.reserve(folded.size());
  bool pending_space = false;
  for (char32_t c : folded) {
    if (c == 0x2019) c = U'\'';
    char g;
    if (IsNameSpace(c) || c == U'\n' || c == U'\r') {
      pending_space = !out.empty();
      continue;
    } else if (c >= 0x80) {
      g = '?';
    } else if (absl::ascii_isalpha(static_cast<unsigned char>(c))) {
      g = absl::ascii_toupper(static_cast<unsigned char>(c));
    } else if (absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
               IsJoiner(c)) {
      g = static_cast<char>(c);
    } else {
      g = '?';
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(g);
  }
  return out;
}

}  // namespace eid::validation
