#include "services/validation/security_answer.h"

#include <optional>

#include "services/common/status.h"
#include "services/validation/vietnamese_text.h"

namespace eid::validation {
namespace {

constexpr size_t kMaxInputBytes = 4 * kMaxSecurityAnswerBytes;

bool IsSpace(char32_t c) {
  return c == U' ' || (c >= U'\t' && c <= U'\r') || c == 0x00A0 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x3000;
}

// Punctuation, symbols, controls and invisible format characters: dropped.
bool IsDropped(char32_t c) {
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) return true;
  if (c < 0x80) {
    return !((c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') ||
             (c >= U'0' && c <= U'9') || c == U' ');
  }
  if (c >= 0x00A1 && c <= 0x00BF) return c != 0x00AA && c != 0x00BA;
  if (c == 0x00D7 || c == 0x00F7) return true;  // × ÷
  if (c >= 0x200B && c <= 0x206F) return true;  // Format and punctuation.
  if (c == 0xFEFF) return true;                 // Byte-order mark.
  return false;
}

absl::Status AnswerError(absl::string_view why) {
  return InvalidArgument(v1::SECURITY_ANSWER_INVALID, why);
}

}  // namespace

absl::StatusOr<std::string> NormalizeSecurityAnswer(absl::string_view answer) {
  if (answer.size() > kMaxInputBytes) {
    return AnswerError("security answer is too long");
  }
  std::optional<std::u32string> decoded = DecodeUtf8(answer);
  if (!decoded.has_value()) {
    return AnswerError("security answer is not valid UTF-8");
  }
  const std::u32string folded = FoldDiacritics(ToNfc(*decoded));

  std::u32string out;
  out.reserve(folded.size());
  bool pending_space = false;
  for (char32_t c : folded) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (IsDropped(c)) continue;
    if ((c >= U'A' && c <= U'Z') ||
        (c >= 0x00C0 && c <= 0x00DE && c != 0x00D7)) {
      c += 0x20;  // ASCII and Latin-1 capitals: the lower case is 0x20 on.
    }
    if (pending_space) out.push_back(U' ');
    pending_space = false;
    out.push_back(c);
  }
  std::string result = EncodeUtf8(out);
  if (result.empty()) {
    return AnswerError("security answer is empty");
  }
  if (result.size() > kMaxSecurityAnswerBytes) {
    return AnswerError("security answer is longer than 200 bytes");
  }
  return result;
}

}  // namespace eid::validation
