// Citizens' full names: validation and normalisation (stored form), and the
// unaccented capitals of the approval SMS.
//
// Rules of NormalizeFullName, in order; any failure is INVALID_ARGUMENT
// (FULL_NAME_INVALID) and the message never contains the name:
//   1. at most 1000 bytes, and well-formed UTF-8;
//   2. NFC (vietnamese_text.h), so "e" + U+0302 + U+0301 equals "ế";
//      the typographic apostrophe U+2019 becomes "'";
//   3. runs of white space (space, tab, no-break space) become one space;
//      leading and trailing white space is removed; any other control or
//      format character is rejected;
//   4. every remaining character is a letter (IsNameLetter: ASCII letters,
//      đ Đ and the Latin letters with the Vietnamese marks, which includes
//      every Vietnamese letter), a space, a hyphen or an apostrophe; a
//      hyphen or apostrophe stands between two letters ("Hồ-Nguyễn",
//      "H'Hen"), never at a word's edge or next to another one;
//   5. 2 to 100 characters (code points, after normalisation).
// One word is enough: some citizens (of some ethnic minorities, and foreign-
// born ones) are registered with a one-word name; the population database,
// not this check, decides whether the name is the citizen's. Case is kept.
//
// All functions are pure and thread-safe.
#ifndef EID_SERVICES_VALIDATION_FULL_NAME_H_
#define EID_SERVICES_VALIDATION_FULL_NAME_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/validation/vietnamese_text.h"  // FoldDiacritics.

namespace eid::validation {

// Longest accepted name, in characters after normalisation.
inline constexpr size_t kMaxFullNameChars = 100;

// `name` normalised as above, or FULL_NAME_INVALID.
absl::StatusOr<std::string> NormalizeFullName(absl::string_view name);

// NormalizeFullName's verdict alone.
absl::Status ValidateFullName(absl::string_view name);

// The name in unaccented capitals, for the GSM-7 approval SMS:
// "Nguyễn Văn A" -> "NGUYEN VAN A", "Đặng Thị Hoa" -> "DANG THI HOA".
// Diacritics are folded (FoldDiacritics), ASCII letters capitalised; digits,
// space, hyphen and apostrophe kept; white space becomes one space (trimmed);
// every other character becomes '?'. The result is always in the GSM 03.38
// basic character set (and ASCII). Meant for names that passed
// NormalizeFullName, safe on anything.
std::string ToGsm7Upper(absl::string_view name);

}  // namespace eid::validation

#endif  // EID_SERVICES_VALIDATION_FULL_NAME_H_
