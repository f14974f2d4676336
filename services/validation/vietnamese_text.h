// Unicode text as Vietnamese names and answers need it, without ICU: strict
// UTF-8 decoding, NFC normalisation for Latin letters with the Vietnamese
// marks, and diacritic folding ("Nguyễn Đức" -> "Nguyen Duc").
//
// Coverage. The normaliser knows the 222 precomposed letters of U+00C0..U+024F
// and U+1E00..U+1EFF whose canonical decomposition is an ASCII letter followed
// by marks from this set only: grave U+0300, acute U+0301, circumflex U+0302,
// tilde U+0303, breve U+0306, hook above U+0309, horn U+031B, dot below
// U+0323. That includes every Vietnamese letter (a ă â e ê i o ô ơ u ư y with
// each of the five tones, upper and lower case). It also maps U+0340 and
// U+0341 (legacy tone marks some Vietnamese keyboards produce) to U+0300 and
// U+0301, as NFC does. Every other code point is left unchanged and treated as
// a starter (canonical combining class 0), so for text made of the covered
// letters and marks the result is exactly Unicode NFC; for other text it is
// the input with the covered sequences composed.
//
// All functions are pure and thread-safe.
#ifndef EID_SERVICES_VALIDATION_VIETNAMESE_TEXT_H_
#define EID_SERVICES_VALIDATION_VIETNAMESE_TEXT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace eid::validation {

// The code points of `utf8`, or nullopt when it is not well-formed UTF-8
// (stray or missing continuation bytes, overlong forms, surrogates, values
// above U+10FFFF).
std::optional<std::u32string> DecodeUtf8(absl::string_view utf8);

// The UTF-8 encoding of `text`. Code points that cannot be encoded
// (surrogates, above U+10FFFF) are written as U+FFFD.
std::string EncodeUtf8(std::u32string_view text);

// `text` in NFC (see Coverage above): decomposed, combining marks put in
// canonical order, then recomposed. Idempotent.
std::u32string ToNfc(std::u32string_view text);

// `text` with every covered letter replaced by its base ASCII letter, đ by d
// and Đ by D, and every combining mark (U+0300..U+036F) removed. Other code
// points are kept. Case is kept. Works on composed and decomposed input.
std::u32string FoldDiacritics(std::u32string_view text);

// The same on UTF-8: ToNfc then FoldDiacritics; each ill-formed byte sequence
// becomes U+FFFD. "Nguyễn Văn Đức" -> "Nguyen Van Duc".
std::string FoldDiacritics(absl::string_view utf8);

// Whether `c` is a letter of a Vietnamese (or plain Latin) name: an ASCII
// letter, đ, Đ, or a covered precomposed letter.
bool IsNameLetter(char32_t c);

// Whether `c` is a combining diacritical mark (U+0300..U+036F).
bool IsCombiningMark(char32_t c);

}  // namespace eid::validation

#endif  // EID_SERVICES_VALIDATION_VIETNAMESE_TEXT_H_
