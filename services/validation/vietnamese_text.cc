#include "services/validation/vietnamese_text.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace eid::validation {
namespace {

// A precomposed letter and its canonical decomposition into two code points
// (which may itself decompose further, e.g. ệ -> ẹ + U+0302 -> e + U+0323 +
// U+0302).
struct Composition {
  char32_t composed;
  char32_t first;
  char32_t mark;
};

// Generated from UnicodeData.txt (Unicode 14): every code point of
// U+00C0..U+024F and U+1E00..U+1EFF with a two-part canonical decomposition
// whose full decomposition is an ASCII letter followed only by the marks
// listed in the header. Sorted by `composed`. None is a composition exclusion.
constexpr Composition kCompositions[] = {
    {0x00C0, 0x0041, 0x0300},  // À
    {0x00C1, 0x0041, 0x0301},  // Á
    {0x00C2, 0x0041, 0x0302},  // Â
    {0x00C3, 0x0041, 0x0303},  // Ã
    {0x00C8, 0x0045, 0x0300},  // È
    {0x00C9, 0x0045, 0x0301},  // É
    {0x00CA, 0x0045, 0x0302},  // Ê
    {0x00CC, 0x0049, 0x0300},  // Ì
    {0x00CD, 0x0049, 0x0301},  // Í
    {0x00CE, 0x0049, 0x0302},  // Î
    {0x00D1, 0x004E, 0x0303},  // Ñ
    {0x00D2, 0x004F, 0x0300},  // Ò
    {0x00D3, 0x004F, 0x0301},  // Ó
    {0x00D4, 0x004F, 0x0302},  // Ô
    {0x00D5, 0x004F, 0x0303},  // Õ
    {0x00D9, 0x0055, 0x0300},  // Ù
    {0x00DA, 0x0055, 0x0301},  // Ú
    {0x00DB, 0x0055, 0x0302},  // Û
    {0x00DD, 0x0059, 0x0301},  // Ý
    {0x00E0, 0x0061, 0x0300},  // à
    {0x00E1, 0x0061, 0x0301},  // á
    {0x00E2, 0x0061, 0x0302},  // â
    {0x00E3, 0x0061, 0x0303},  // ã
    {0x00E8, 0x0065, 0x0300},  // è
    {0x00E9, 0x0065, 0x0301},  // é
    {0x00EA, 0x0065, 0x0302},  // ê
    {0x00EC, 0x0069, 0x0300},  // ì
    {0x00ED, 0x0069, 0x0301},  // í
    {0x00EE, 0x0069, 0x0302},  // î
    {0x00F1, 0x006E, 0x0303},  // ñ
    {0x00F2, 0x006F, 0x0300},  // ò
    {0x00F3, 0x006F, 0x0301},  // ó
    {0x00F4, 0x006F, 0x0302},  // ô
    {0x00F5, 0x006F, 0x0303},  // õ
    {0x00F9, 0x0075, 0x0300},  // ù
    {0x00FA, 0x0075, 0x0301},  // ú
    {0x00FB, 0x0075, 0x0302},  // û
    {0x00FD, 0x0079, 0x0301},  // ý
    {0x0102, 0x0041, 0x0306},  // Ă
    {0x0103, 0x0061, 0x0306},  // ă
    {0x0106, 0x0043, 0x0301},  // Ć
    {0x0107, 0x0063, 0x0301},  // ć
    {0x0108, 0x0043, 0x0302},  // Ĉ
    {0x0109, 0x0063, 0x0302},  // ĉ
    {0x0114, 0x0045, 0x0306},  // Ĕ
    {0x0115, 0x0065, 0x0306},  // ĕ
    {0x011C, 0x0047, 0x0302},  // Ĝ
    {0x011D, 0x0067, 0x0302},  // ĝ
    {0x011E, 0x0047, 0x0306},  // Ğ
    {0x011F, 0x0067, 0x0306},  // ğ
    {0x0124, 0x0048, 0x0302},  // Ĥ
    {0x0125, 0x0068, 0x0302},  // ĥ
    {0x0128, 0x0049, 0x0303},  // Ĩ
    {0x0129, 0x0069, 0x0303},  // ĩ
    {0x012C, 0x0049, 0x0306},  // Ĭ
    {0x012D, 0x0069, 0x0306},  // ĭ
    {0x0134, 0x004A, 0x0302},  // Ĵ
    {0x0135, 0x006A, 0x0302},  // ĵ
    {0x0139, 0x004C, 0x0301},  // Ĺ
    {0x013A, 0x006C, 0x0301},  // ĺ
    {0x0143, 0x004E, 0x0301},  // Ń
    {0x0144, 0x006E, 0x0301},  // ń
    {0x014E, 0x004F, 0x0306},  // Ŏ
    {0x014F, 0x006F, 0x0306},  // ŏ
    {0x0154, 0x0052, 0x0301},  // Ŕ
    {0x0155, 0x0072, 0x0301},  // ŕ
    {0x015A, 0x0053, 0x0301},  // Ś
    {0x015B, 0x0073, 0x0301},  // ś
    {0x015C, 0x0053, 0x0302},  // Ŝ
    {0x015D, 0x0073, 0x0302},  // ŝ
    {0x0168, 0x0055, 0x0303},  // Ũ
    {0x0169, 0x0075, 0x0303},  // ũ
    {0x016C, 0x0055, 0x0306},  // Ŭ
    {0x016D, 0x0075, 0x0306},  // ŭ
    {0x0174, 0x0057, 0x0302},  // Ŵ
    {0x0175, 0x0077, 0x0302},  // ŵ
    {0x0176, 0x0059, 0x0302},  // Ŷ
    {0x0177, 0x0079, 0x0302},  // ŷ
    {0x0179, 0x005A, 0x0301},  // Ź
    {0x017A, 0x007A, 0x0301},  // ź
    {0x01A0, 0x004F, 0x031B},  // Ơ
    {0x01A1, 0x006F, 0x031B},  // ơ
    {0x01AF, 0x0055, 0x031B},  // Ư
    {0x01B0, 0x0075, 0x031B},  // ư
    {0x01F4, 0x0047, 0x0301},  // Ǵ
    {0x01F5, 0x0067, 0x0301},  // ǵ
    {0x01F8, 0x004E, 0x0300},  // Ǹ
    {0x01F9, 0x006E, 0x0300},  // ǹ
    {0x1E04, 0x0042, 0x0323},  // Ḅ
    {0x1E05, 0x0062, 0x0323},  // ḅ
    {0x1E0C, 0x0044, 0x0323},  // Ḍ
    {0x1E0D, 0x0064, 0x0323},  // ḍ
    {0x1E24, 0x0048, 0x0323},  // Ḥ
    {0x1E25, 0x0068, 0x0323},  // ḥ
    {0x1E30, 0x004B, 0x0301},  // Ḱ
    {0x1E31, 0x006B, 0x0301},  // ḱ
    {0x1E32, 0x004B, 0x0323},  // Ḳ
    {0x1E33, 0x006B, 0x0323},  // ḳ
    {0x1E36, 0x004C, 0x0323},  // Ḷ
    {0x1E37, 0x006C, 0x0323},  // ḷ
    {0x1E3E, 0x004D, 0x0301},  // Ḿ
    {0x1E3F, 0x006D, 0x0301},  // ḿ
    {0x1E42, 0x004D, 0x0323},  // Ṃ
    {0x1E43, 0x006D, 0x0323},  // ṃ
    {0x1E46, 0x004E, 0x0323},  // Ṇ
    {0x1E47, 0x006E, 0x0323},  // ṇ
    {0x1E4C, 0x00D5, 0x0301},  // Ṍ
    {0x1E4D, 0x00F5, 0x0301},  // ṍ
    {0x1E54, 0x0050, 0x0301},  // Ṕ
    {0x1E55, 0x0070, 0x0301},  // ṕ
    {0x1E5A, 0x0052, 0x0323},  // Ṛ
    {0x1E5B, 0x0072, 0x0323},  // ṛ
    {0x1E62, 0x0053, 0x0323},  // Ṣ
    {0x1E63, 0x0073, 0x0323},  // ṣ
    {0x1E6C, 0x0054, 0x0323},  // Ṭ
    {0x1E6D, 0x0074, 0x0323},  // ṭ
    {0x1E78, 0x0168, 0x0301},  // Ṹ
    {0x1E79, 0x0169, 0x0301},  // ṹ
    {0x1E7C, 0x0056, 0x0303},  // Ṽ
    {0x1E7D, 0x0076, 0x0303},  // ṽ
    {0x1E7E, 0x0056, 0x0323},  // Ṿ
    {0x1E7F, 0x0076, 0x0323},  // ṿ
    {0x1E80, 0x0057, 0x0300},  // Ẁ
    {0x1E81, 0x0077, 0x0300},  // ẁ
    {0x1E82, 0x0057, 0x0301},  // Ẃ
    {0x1E83, 0x0077, 0x0301},  // ẃ
    {0x1E88, 0x0057, 0x0323},  // Ẉ
    {0x1E89, 0x0077, 0x0323},  // ẉ
    {0x1E90, 0x005A, 0x0302},  // Ẑ
    {0x1E91, 0x007A, 0x0302},  // ẑ
    {0x1E92, 0x005A, 0x0323},  // Ẓ
    {0x1E93, 0x007A, 0x0323},  // ẓ
    {0x1EA0, 0x0041, 0x0323},  // Ạ
    {0x1EA1, 0x0061, 0x0323},  // ạ
    {0x1EA2, 0x0041, 0x0309},  // Ả
    {0x1EA3, 0x0061, 0x0309},  // ả
    {0x1EA4, 0x00C2, 0x0301},  // Ấ
    {0x1EA5, 0x00E2, 0x0301},  // ấ
    {0x1EA6, 0x00C2, 0x0300},  // Ầ
    {0x1EA7, 0x00E2, 0x0300},  // ầ
    {0x1EA8, 0x00C2, 0x0309},  // Ẩ
    {0x1EA9, 0x00E2, 0x0309},  // ẩ
    {0x1EAA, 0x00C2, 0x0303},  // Ẫ
    {0x1EAB, 0x00E2, 0x0303},  // ẫ
    {0x1EAC, 0x1EA0, 0x0302},  // Ậ
    {0x1EAD, 0x1EA1, 0x0302},  // ậ
    {0x1EAE, 0x0102, 0x0301},  // Ắ
    {0x1EAF, 0x0103, 0x0301},  // ắ
    {0x1EB0, 0x0102, 0x0300},  // Ằ
    {0x1EB1, 0x0103, 0x0300},  // ằ
    {0x1EB2, 0x0102, 0x0309},  // Ẳ
    {0x1EB3, 0x0103, 0x0309},  // ẳ
    {0x1EB4, 0x0102, 0x0303},  // Ẵ
    {0x1EB5, 0x0103, 0x0303},  // ẵ
    {0x1EB6, 0x1EA0, 0x0306},  // Ặ
    {0x1EB7, 0x1EA1, 0x0306},  // ặ
    {0x1EB8, 0x0045, 0x0323},  // Ẹ
    {0x1EB9, 0x0065, 0x0323},  // ẹ
    {0x1EBA, 0x0045, 0x0309},  // Ẻ
    {0x1EBB, 0x0065, 0x0309},  // ẻ
    {0x1EBC, 0x0045, 0x0303},  // Ẽ
    {0x1EBD, 0x0065, 0x0303},  // ẽ
    {0x1EBE, 0x00CA, 0x0301},  // Ế
    {0x1EBF, 0x00EA, 0x0301},  // ế
    {0x1EC0, 0x00CA, 0x0300},  // Ề
    {0x1EC1, 0x00EA, 0x0300},  // ề
    {0x1EC2, 0x00CA, 0x0309},  // Ể
    {0x1EC3, 0x00EA, 0x0309},  // ể
    {0x1EC4, 0x00CA, 0x0303},  // Ễ
    {0x1EC5, 0x00EA, 0x0303},  // ễ
    {0x1EC6, 0x1EB8, 0x0302},  // Ệ
    {0x1EC7, 0x1EB9, 0x0302},  // ệ
    {0x1EC8, 0x0049, 0x0309},  // Ỉ
    {0x1EC9, 0x0069, 0x0309},  // ỉ
    {0x1ECA, 0x0049, 0x0323},  // Ị
    {0x1ECB, 0x0069, 0x0323},  // ị
    {0x1ECC, 0x004F, 0x0323},  // Ọ
    {0x1ECD, 0x006F, 0x0323},  // ọ
    {0x1ECE, 0x004F, 0x0309},  // Ỏ
    {0x1ECF, 0x006F, 0x0309},  // ỏ
    {0x1ED0, 0x00D4, 0x0301},  // Ố
    {0x1ED1, 0x00F4, 0x0301},  // ố
    {0x1ED2, 0x00D4, 0x0300},  // Ồ
    {0x1ED3, 0x00F4, 0x0300},  // ồ
    {0x1ED4, 0x00D4, 0x0309},  // Ổ
    {0x1ED5, 0x00F4, 0x0309},  // ổ
    {0x1ED6, 0x00D4, 0x0303},  // Ỗ
    {0x1ED7, 0x00F4, 0x0303},  // ỗ
    {0x1ED8, 0x1ECC, 0x0302},  // Ộ
    {0x1ED9, 0x1ECD, 0x0302},  // ộ
    {0x1EDA, 0x01A0, 0x0301},  // Ớ
    {0x1EDB, 0x01A1, 0x0301},  // ớ
    {0x1EDC, 0x01A0, 0x0300},  // Ờ
    {0x1EDD, 0x01A1, 0x0300},  // ờ
    {0x1EDE, 0x01A0, 0x0309},  // Ở
    {0x1EDF, 0x01A1, 0x0309},  // ở
    {0x1EE0, 0x01A0, 0x0303},  // Ỡ
    {0x1EE1, 0x01A1, 0x0303},  // ỡ
    {0x1EE2, 0x01A0, 0x0323},  // Ợ
    {0x1EE3, 0x01A1, 0x0323},  // ợ
    {0x1EE4, 0x0055, 0x0323},  // Ụ
    {0x1EE5, 0x0075, 0x0323},  // ụ
    {0x1EE6, 0x0055, 0x0309},  // Ủ
    {0x1EE7, 0x0075, 0x0309},  // ủ
    {0x1EE8, 0x01AF, 0x0301},  // Ứ
    {0x1EE9, 0x01B0, 0x0301},  // ứ
    {0x1EEA, 0x01AF, 0x0300},  // Ừ
    {0x1EEB, 0x01B0, 0x0300},  // ừ
    {0x1EEC, 0x01AF, 0x0309},  // Ử
    {0x1EED, 0x01B0, 0x0309},  // ử
    {0x1EEE, 0x01AF, 0x0303},  // Ữ
    {0x1EEF, 0x01B0, 0x0303},  // ữ
    {0x1EF0, 0x01AF, 0x0323},  // Ự
    {0x1EF1, 0x01B0, 0x0323},  // ự
    {0x1EF2, 0x0059, 0x0300},  // Ỳ
    {0x1EF3, 0x0079, 0x0300},  // ỳ
    {0x1EF4, 0x0059, 0x0323},  // Ỵ
    {0x1EF5, 0x0079, 0x0323},  // ỵ
    {0x1EF6, 0x0059, 0x0309},  // Ỷ
    {0x1EF7, 0x0079, 0x0309},  // ỷ
    {0x1EF8, 0x0059, 0x0303},  // Ỹ
    {0x1EF9, 0x0079, 0x0303},  // ỹ
};

constexpr char32_t kReplacement = 0xFFFD;

const Composition* FindDecomposition(char32_t c) {
  const Composition* end = std::end(kCompositions);
  const Composition* it = std::lower_bound(
      std::begin(kCompositions), end, c,
      [](const Composition& e, char32_t v) { return e.composed < v; });
  return it != end && it->composed == c ? it : nullptr;
}

// The same entries ordered by (first, mark), for composition.
const std::vector<Composition>& CompositionsByPair() {
  static const std::vector<Composition>* const by_pair = [] {
    auto* v = new std::vector<Composition>(std::begin(kCompositions),
                                           std::end(kCompositions));
    std::sort(v->begin(), v->end(),
              [](const Composition& a, const Composition& b) {
                return a.first != b.first ? a.first < b.first : a.mark < b.mark;
              });
    return v;
  }();
  return *by_pair;
}

// The precomposed letter for `first` + `mark`, or 0 if there is none.
char32_t Compose(char32_t first, char32_t mark) {
  const std::vector<Composition>& v = CompositionsByPair();
  auto it = std::lower_bound(v.begin(), v.end(), Composition{0, first, mark},
                             [](const Composition& a, const Composition& b) {
                               return a.first != b.first ? a.first < b.first
                                                         : a.mark < b.mark;
                             });
  return it != v.end() && it->first == first && it->mark == mark ? it->composed
                                                                 : 0;
}

// Canonical combining class of the covered marks; 0 for everything else.
int CombiningClass(char32_t c) {
  switch (c) {
    case 0x0300:
    case 0x0301:
    case 0x0302:
    case 0x0303:
    case 0x0306:
    case 0x0309:
      return 230;
    case 0x031B:
      return 216;
    case 0x0323:
      return 220;
    default:
      return 0;
  }
}

// Appends the full canonical decomposition of `c` to `out`.
void AppendDecomposed(char32_t c, std::u32string* out) {
  if (c == 0x0340) c = 0x0300;  // Singleton decompositions.
  if (c == 0x0341) c = 0x0301;
  const Composition* d = FindDecomposition(c);
  if (d == nullptr) {
    out->push_back(c);
    return;
  }
  AppendDecomposed(d->first, out);
  out->push_back(d->mark);
}

void AppendUtf8(char32_t c, std::string* out) {
  if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = kReplacement;
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Decodes one code point at `s[*pos]` and advances `*pos`. Returns false, and
// advances past the first byte only, when the sequence there is ill-formed.
bool DecodeOne(absl::string_view s, size_t* pos, char32_t* out) {
  const uint8_t b0 = static_cast<uint8_t>(s[*pos]);
  int len;
  char32_t c;
  char32_t min;
  if (b0 < 0x80) {
    *out = b0;
    ++*pos;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, c = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, c = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, c = b0 & 0x07, min = 0x10000;
  } else {
    ++*pos;
    return false;
  }
  if (s.size() - *pos < static_cast<size_t>(len)) {
    ++*pos;
    return false;
  }
  for (int i = 1; i < len; ++i) {
    const uint8_t b = static_cast<uint8_t>(s[*pos + i]);
    if ((b & 0xC0) != 0x80) {
      ++*pos;
      return false;
    }
    c = (c << 6) | (b & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    ++*pos;
    return false;
  }
  *pos += len;
  *out = c;
  return true;
}

// Decodes `s`, replacing each ill-formed byte with U+FFFD.
std::u32string DecodeLossy(absl::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t c;
    out.push_back(DecodeOne(s, &pos, &c) ? c : kReplacement);
  }
  return out;
}

}  // namespace

std::optional<std::u32string> DecodeUtf8(absl::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  size_t pos = 0;
  while (pos < utf8.size()) {
    char32_t c;
    if (!DecodeOne(utf8, &pos, &c)) return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) AppendUtf8(c, &out);
  return out;
}

std::u32string ToNfc(std::u32string_view text) {
  // 1. Full canonical decomposition.
  std::u32string d;
  d.reserve(text.size() * 2);
  for (char32_t c : text) AppendDecomposed(c, &d);

  // 2. Canonical ordering: stable sort of each run of non-starters by class.
  for (size_t i = 0; i < d.size();) {
    if (CombiningClass(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && CombiningClass(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + i, d.begin() + j, [](char32_t a, char32_t b) {
      return CombiningClass(a) < CombiningClass(b);
    });
    i = j;
  }

  // 3. Canonical composition: a mark joins the last starter unless a
  // character between them has a class of 0 or at least the mark's own.
  std::u32string out;
  out.reserve(d.size());
  size_t starter = std::u32string::npos;
  int last_class = 0;  // Class of the last character kept after the starter.
  for (char32_t c : d) {
    const int cc = CombiningClass(c);
    if (starter != std::u32string::npos && cc != 0) {
      const bool adjacent = out.size() == starter + 1;
      if (adjacent || (last_class != 0 && last_class < cc)) {
        if (char32_t composed = Compose(out[starter], c); composed != 0) {
          out[starter] = composed;
          continue;
        }
      }
    }
    if (cc == 0) starter = out.size();
    last_class = cc;
    out.push_back(c);
  }
  return out;
}

std::u32string FoldDiacritics(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::u32string d;
  for (char32_t c : text) {
    if (c == 0x0111) {
      out.push_back(U'd');
    } else if (c == 0x0110) {
      out.push_back(U'D');
    } else if (IsCombiningMark(c)) {
      // Dropped.
    } else if (FindDecomposition(c) != nullptr) {
      d.clear();
      AppendDecomposed(c, &d);
      out.push_back(d[0]);  // The base ASCII letter; the rest are marks.
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FoldDiacritics(absl::string_view utf8) {
  return EncodeUtf8(FoldDiacritics(ToNfc(DecodeLossy(utf8))));
}

bool IsNameLetter(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || c == 0x0110 ||
         c == 0x0111 || FindDecomposition(c) != nullptr;
}

bool IsCombiningMark(char32_t c) { return c >= 0x0300 && c <= 0x036F; }

}  // namespace eid::validation
