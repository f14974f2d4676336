#include "services/otp/sms_text.h"

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace eid::otp {
namespace {

// Decodes one UTF-8 code point at `s[*i]`, advancing `*i`; -1 if malformed.
int32_t NextCodePoint(absl::string_view s, size_t* i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(*i);
  int len;
  int32_t cp;
  if (c < 0x80) {
    ++*i;
    return c;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, cp = c & 0x07;
  } else {
    return -1;
  }
  if (*i + len > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    if ((b(*i + k) & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (b(*i + k) & 0x3f);
  }
  *i += len;
  return cp;
}

// Every precomposed Vietnamese letter (both cases) -> its capital base
// letter.
const absl::flat_hash_map<int32_t, char>& FoldTable() {
  static const auto* const table = [] {
    auto* t = new absl::flat_hash_map<int32_t, char>();
    const std::vector<std::pair<char, absl::string_view>> groups = {
        {'A', "àáảãạăằắẳẵặâầấẩẫậÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ"},
        {'E', "èéẻẽẹêềếểễệÈÉẺẼẸÊỀẾỂỄỆ"},
        {'I', "ìíỉĩịÌÍỈĨỊ"},
        {'O', "òóỏõọôồốổỗộơờớởỡợÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ"},
        {'U', "ùúủũụưừứửữựÙÚỦŨỤƯỪỨỬỮỰ"},
        {'Y', "ỳýỷỹỵỲÝỶỸỴ"},
        {'D', "đĐ"},
    };
    for (const auto& [base, letters] : groups) {
      size_t i = 0;
      while (i < letters.size()) (*t)[NextCodePoint(letters, &i)] = base;
    }
    return t;
  }();
  return *table;
}

// The combining marks of decomposed Vietnamese: grave, acute, circumflex,
// tilde, breve, hook above, horn, dot below.
bool IsVietnameseCombiningMark(int32_t cp) {
  switch (cp) {
    case 0x0300:
    case 0x0301:
    case 0x0302:
    case 0x0303:
    case 0x0306:
    case 0x0309:
    case 0x031b:
    case 0x0323:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string OtpSmsText(v1::OtpPurpose purpose, absl::string_view code,
                       absl::Duration lifetime) {
  std::string what;
  switch (purpose) {
    case v1::OTP_PURPOSE_ACTIVATION:
      what = "Ma OTP kich hoat tai khoan cua ban la ";
      break;
    case v1::OTP_PURPOSE_RECOVERY:
      what = "Ma OTP khoi phuc tai khoan cua ban la ";
      break;
    default:
      what = "Ma OTP cua ban la ";
      break;
  }
  std::string validity;
  if (lifetime < absl::Minutes(1)) {
    validity = absl::StrCat(absl::ToInt64Seconds(lifetime), " giay");
  } else {
    validity = absl::StrCat(
        absl::ToInt64Seconds(lifetime + absl::Seconds(59)) / 60, " phut");
  }
  return absl::StrCat(kSmsSender, ": ", what, code, ". Ma co hieu luc trong ",
                      validity, ". Khong chia se ma nay cho bat ky ai.");
}

absl::StatusOr<std::string> NoticeSmsText(v1::NoticeKind kind,
                                          absl::string_view folded_name) {
  switch (kind) {
    case v1::NOTICE_KIND_REGISTRATION_APPROVED:
      if (folded_name.empty()) {
        return InvalidArgument(v1::FULL_NAME_INVALID, "full_name is required");
      }
      return absl::StrCat(
          "Cuc Canh sat QLHC ve TTXH thong bao: Ho so dang ky tai khoan dinh "
          "danh "
          "dien tu cua cong dan ",
          folded_name,
          " da duoc phe duyet. De nghi truy cap ung dung VNeID hoac dia chi "
          "http://vneid.gov.vn de kich hoat tai khoan");
    case v1::NOTICE_KIND_DEVICE_CHANGED:
      return std::string(
          "VNeID: Tai khoan dinh danh dien tu cua ban vua duoc chuyen sang "
          "thiet bi "
          "moi. Neu khong phai ban thuc hien, hay lien he co quan Cong an gan "
          "nhat.");
    case v1::NOTICE_KIND_ACCOUNT_LOCKED:
      return std::string(
          "VNeID: Tai khoan dinh danh dien tu cua ban da bi khoa. Vui long "
          "lien he "
          "co quan Cong an gan nhat de duoc ho tro.");
    default:
      return InvalidArgument(v1::FIELD_INVALID, "kind is not a known notice");
  }
}

absl::StatusOr<std::string> FoldNameToGsm7Upper(absl::string_view utf8_name) {
  std::string out;
  int letters = 0;
  bool pending_space = false;
  size_t i = 0;
  while (i < utf8_name.size()) {
    const int32_t cp = NextCodePoint(utf8_name, &i);
    if (cp < 0)
      return InvalidArgument(v1::FULL_NAME_INVALID, "full_name is not UTF-8");
    char c;
    if (cp < 0x80 && absl::ascii_isalpha(static_cast<unsigned char>(cp))) {
      c = absl::ascii_toupper(static_cast<unsigned char>(cp));
    } else if (cp == ' ' || cp == '\t') {
      pending_space = !out.empty();
      continue;
    } else if (cp == '-' || cp == '\'') {
      c = static_cast<char>(cp);
    } else if (IsVietnameseCombiningMark(cp)) {
      if (out.empty() || pending_space) {
        return InvalidArgument(v1::FULL_NAME_INVALID,
                               "full_name has a stray accent");
      }
      continue;
    } else if (auto it = FoldTable().find(cp); it != FoldTable().end()) {
      c = it->second;
    } else {
      return InvalidArgument(
          v1::FULL_NAME_INVALID,
          "full_name holds a character that is not a letter");
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
    if (++letters > 100) {
      return InvalidArgument(v1::FULL_NAME_INVALID, "full_name is too long");
    }
  }
  if (out.empty())
    return InvalidArgument(v1::FULL_NAME_INVALID, "full_name is empty");
  return out;
}

bool IsGsm7Basic(absl::string_view text) {
  for (unsigned char c : text) {
    const bool ok = absl::ascii_isalnum(c) || c == ' ' || c == '\n' ||
                    c == '\r' || c == '@' || c == '$' || c == '_' || c == '!' ||
                    c == '"' || c == '#' || c == '%' || c == '&' || c == '\'' ||
                    c == '(' || c == ')' || c == '*' || c == '+' || c == ',' ||
                    c == '-' || c == '.' || c == '/' || c == ':' || c == ';' ||
                    c == '<' || c == '=' || c == '>' || c == '?';
    if (!ok) return false;
  }
  return true;
}

}  // namespace eid::otp
