#include "services/validation/passcode.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "services/common/status.h"

namespace eid::validation {
namespace {

constexpr size_t kLength = 6;

bool IsSixDigits(absl::string_view p) {
  return p.size() == kLength && std::all_of(p.begin(), p.end(), [](char c) {
           return absl::ascii_isdigit(static_cast<unsigned char>(c));
         });
}

// All one digit, or each digit `step` more than the one before (step -1, 0
// or +1).
bool IsRun(absl::string_view p, int step) {
  for (size_t i = 1; i < p.size(); ++i) {
    if (p[i] - p[i - 1] != step) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> BirthDatePasscodes(const v1::Date& birth_date) {
  const int year = birth_date.year();
  const int m = birth_date.month();
  const int d = birth_date.day();
  std::vector<std::string> out;
  if (year <= 0 || year > 9999 || m < 0 || m > 12 || d < 0 || d > 31) {
    return out;
  }
  const int yy = year % 100;
  const int cc = year / 100;
  if (m > 0) {
    out.push_back(absl::StrFormat("%02d%04d", m, year));  // MMYYYY
    out.push_back(absl::StrFormat("%04d%02d", year, m));  // YYYYMM
  }
  if (m > 0 && d > 0) {
    out.push_back(absl::StrFormat("%02d%02d%02d", d, m, yy));  // DDMMYY
    out.push_back(absl::StrFormat("%02d%02d%02d", m, d, yy));  // MMDDYY
    out.push_back(absl::StrFormat("%02d%02d%02d", yy, m, d));  // YYMMDD
    out.push_back(absl::StrFormat("%02d%02d%02d", d, m, cc));  // DDMMCC
    if (d < 10 && m < 10) {
      out.push_back(absl::StrFormat("%d%d%04d", d, m, year));  // DMYYYY
      out.push_back(absl::StrFormat("%04d%d%d", year, m, d));  // YYYYMD
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::Status ValidatePasscode(absl::string_view passcode,
                              const v1::Date& birth_date) {
  if (!IsSixDigits(passcode)) {
    return InvalidArgument(v1::PASSCODE_NOT_SIX_DIGITS,
                           "passcode must be exactly 6 digits");
  }
  if (IsRun(passcode, 0) || IsRun(passcode, 1) || IsRun(passcode, -1)) {
    return InvalidArgument(
        v1::PASSCODE_TOO_SIMPLE,
        "passcode must not be one digit repeated or an ascending or "
        "descending run");
  }
  for (const std::string& form : BirthDatePasscodes(birth_date)) {
    if (passcode == form) {
      return InvalidArgument(v1::PASSCODE_IS_BIRTH_DATE,
                             "passcode must not be the date of birth");
    }
  }
  return absl::OkStatus();
}

}  // namespace eid::validation
