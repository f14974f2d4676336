#include "services/otp/sms_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/validation/full_name.h"

namespace eid::otp {

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
  // Exactly the names registration accepts (validation/full_name.h), so a
  // registered name never fails its approval SMS.
  absl::StatusOr<std::string> name = validation::NormalizeFullName(utf8_name);
  if (!name.ok()) return name.status();
  return validation::ToGsm7Upper(*name);
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
