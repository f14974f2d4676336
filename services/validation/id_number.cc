#include "services/validation/id_number.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/common/status.h"
#include "services/validation/provinces.h"

namespace eid::validation {
namespace {

constexpr size_t kIdLength = 12;
constexpr int kEarliestBirthYear = 1900;

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Vietnam has kept UTC+7 without daylight saving since 1975.
absl::CivilDay TodayInVietnam(absl::Time now) {
  return absl::ToCivilDay(now, absl::FixedTimeZone(7 * 60 * 60));
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

absl::Status BirthDateError(absl::string_view why) {
  return InvalidArgument(v1::BIRTH_DATE_INVALID,
                         absl::StrCat("date of birth ", why));
}

}  // namespace

absl::StatusOr<IdNumberParts> ParseIdNumber(absl::string_view id) {
  if (id.size() != kIdLength || !AllDigits(id)) {
    return InvalidArgument(v1::ID_NUMBER_INVALID_FORMAT,
                           "ID number must be exactly 12 digits");
  }
  const Province* province = FindProvinceByIdCode(id.substr(0, 3));
  if (province == nullptr) {
    return InvalidArgument(
        v1::ID_NUMBER_INVALID_PROVINCE,
        "ID number does not start with an official province code");
  }
  IdNumberParts parts;
  parts.province_code = std::string(province->id_code);
  const int c = id[3] - '0';
  parts.century_start = 1900 + 100 * (c / 2);
  parts.sex = c % 2 == 0 ? v1::SEX_MALE : v1::SEX_FEMALE;
  parts.year_in_century = (id[4] - '0') * 10 + (id[5] - '0');
  return parts;
}

absl::Status ValidateIdNumberForLookup(absl::string_view id, absl::Time now) {
  absl::StatusOr<IdNumberParts> parts = ParseIdNumber(id);
  if (!parts.ok()) return parts.status();
  if (parts->birth_year() > TodayInVietnam(now).year()) {
    return InvalidArgument(
        v1::ID_NUMBER_INVALID_CENTURY,
        "ID number's century and year digits give a year of birth in the "
        "future");
  }
  return absl::OkStatus();
}

absl::Status ValidateIdNumber(absl::string_view id, const v1::Date& birth_date,
                              v1::Sex sex) {
  absl::StatusOr<IdNumberParts> parts = ParseIdNumber(id);
  if (!parts.ok()) return parts.status();
  const int year = birth_date.year();
  if (year == 0) return BirthDateError("has no year");
  if (year < parts->century_start || year >= parts->century_start + 100) {
    return InvalidArgument(
        v1::ID_NUMBER_INVALID_CENTURY,
        absl::StrCat("ID number's fourth digit names the ",
                     parts->century_start,
                     "s, which do not contain the year of birth"));
  }
  if (year % 100 != parts->year_in_century) {
    return InvalidArgument(
        v1::ID_NUMBER_BIRTH_YEAR_MISMATCH,
        "ID number's fifth and sixth digits are not the last two digits of "
        "the year of birth");
  }
  if (sex != v1::SEX_UNSPECIFIED && sex != parts->sex) {
    return InvalidArgument(
        v1::ID_NUMBER_SEX_MISMATCH,
        absl::StrCat("ID number's fourth digit encodes ",
                     parts->sex == v1::SEX_MALE ? "male" : "female",
                     ", not the sex given"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBirthDate(const v1::Date& birth_date, absl::Time now) {
  const int y = birth_date.year();
  const int m = birth_date.month();
  const int d = birth_date.day();
  if (y < kEarliestBirthYear || y > 9999) {
    return BirthDateError(
        absl::StrCat("must have a year from ", kEarliestBirthYear));
  }
  if (m < 0 || m > 12) return BirthDateError("has no such month");
  if (d < 0 || d > 31) return BirthDateError("has no such day");
  if (m == 0 && d != 0) return BirthDateError("has a day but no month");
  if (d > 0 && d > DaysInMonth(y, m)) {
    return BirthDateError("is not a day of its month");
  }
  // Compare from the first day of what is known: a partial date is in the
  // future only when all of it is.
  const absl::CivilDay first(y, m == 0 ? 1 : m, d == 0 ? 1 : d);
  if (first > TodayInVietnam(now)) {
    return BirthDateError("is in the future");
  }
  return absl::OkStatus();
}

absl::Status ValidateCardNumber(absl::string_view card_number,
                                absl::string_view id_number) {
  if (card_number.size() != kIdLength || !AllDigits(card_number)) {
    return InvalidArgument(v1::CARD_NUMBER_INVALID,
                           "card number must be exactly 12 digits");
  }
  if (FindProvinceByIdCode(card_number.substr(0, 3)) == nullptr) {
    return InvalidArgument(
        v1::CARD_NUMBER_INVALID,
        "card number does not start with an official province code");
  }
  if (!id_number.empty() && card_number != id_number) {
    return InvalidArgument(
        v1::CARD_NUMBER_INVALID,
        "a chip citizen-ID card's number is its holder's ID number");
  }
  return absl::OkStatus();
}

std::string MaskIdNumber(absl::string_view id) {
  if (id.size() != kIdLength) return std::string(id.size(), '*');
  return absl::StrCat(id.substr(0, 3), "******", id.substr(9));
}

}  // namespace eid::validation
