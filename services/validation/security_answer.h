// Security answers (activation step 4, recovery): the canonical form that is
// hashed and compared, so that answers differing only in case, spacing,
// diacritics or punctuation match: "  Nguyễn   Thị  Hoa. " and
// "nguyen thi hoa" both become "nguyen thi hoa".
//
// NormalizeSecurityAnswer, in order:
//   1. the input must be well-formed UTF-8 of at most 800 bytes;
//   2. NFC, then diacritics folded (vietnamese_text.h: "ễ" -> "e",
//      "Đ" -> "D", stray combining marks dropped);
//   3. ASCII and Latin-1 capitals lowercased ("Ç" -> "ç"; other capitals,
//      e.g. Cyrillic, are kept as they are);
//   4. punctuation dropped without leaving a gap ("O'Neil" -> "oneil",
//      "Hà-Nội" -> "hanoi"): ASCII punctuation and symbols, U+00A1..U+00BF
//      except U+00AA/U+00BA, and the General Punctuation block U+2010..U+205E;
//      control and format characters (C0, DEL, C1, U+200B..U+200F,
//      U+2060..U+206F, U+FEFF) are dropped too;
//   5. white space (ASCII, U+0085 excluded as a control, U+00A0,
//      U+2000..U+200A, U+3000) collapsed to one space and trimmed.
// The result must hold 1 to 200 bytes; otherwise INVALID_ARGUMENT
// (SECURITY_ANSWER_INVALID). The message never contains the answer.
//
// Pure and thread-safe.
#ifndef EID_SERVICES_VALIDATION_SECURITY_ANSWER_H_
#define EID_SERVICES_VALIDATION_SECURITY_ANSWER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eid::validation {

// Longest normalised answer, in bytes.
inline constexpr size_t kMaxSecurityAnswerBytes = 200;

// The canonical form of `answer`, or SECURITY_ANSWER_INVALID.
absl::StatusOr<std::string> NormalizeSecurityAnswer(absl::string_view answer);

}  // namespace eid::validation

#endif  // EID_SERVICES_VALIDATION_SECURITY_ANSWER_H_
