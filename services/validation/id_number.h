// The 12-digit personal identification number, the date of birth and the
// chip citizen-ID card number.
//
// An ID number is 12 ASCII digits PPP C YY NNNNNN:
//   PPP     code of the province where the birth was registered, from the
//           official list of 63 (provinces.h; codes stay valid after 2025);
//   C       century and sex: 0/1 born 1900-1999 male/female, 2/3 2000-2099,
//           4/5 2100-2199, 6/7 2200-2299, 8/9 2300-2399 (even male, odd
//           female);
//   YY      last two digits of the year of birth;
//   NNNNNN  a serial number (not checked: it has no check digit).
//
// Every rejection is INVALID_ARGUMENT with a stable reason from error.proto;
// messages never contain the number itself. Checks run in the order the
// reasons are listed for each function, and the first failure is returned.
//
// Dates are calendar dates in Vietnam (UTC+7, no daylight saving): "today"
// is the date in Hà Nội at `now`.
//
// All functions are pure and thread-safe.
#ifndef EID_SERVICES_VALIDATION_ID_NUMBER_H_
#define EID_SERVICES_VALIDATION_ID_NUMBER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eid/v1/common.pb.h"

namespace eid::validation {

// What an ID number says about its holder.
struct IdNumberParts {
  std::string province_code;  // The former province's three digits, "001".
  int century_start = 0;      // First year of the century of birth: 1900...
  v1::Sex sex = v1::SEX_UNSPECIFIED;  // SEX_MALE or SEX_FEMALE.
  int year_in_century = 0;            // YY, 0..99.

  // century_start + year_in_century.
  int birth_year() const { return century_start + year_in_century; }
};

// Decodes `id`. Errors: ID_NUMBER_INVALID_FORMAT (not exactly 12 ASCII
// digits), ID_NUMBER_INVALID_PROVINCE (first three digits not an official
// province code, e.g. "000" or "099").
absl::StatusOr<IdNumberParts> ParseIdNumber(absl::string_view id);

// Checks an ID number given alone (looking a citizen up by ID number and
// phone): as ParseIdNumber, then ID_NUMBER_INVALID_CENTURY when the encoded
// year of birth (century + YY) is after the current year at `now`.
absl::Status ValidateIdNumberForLookup(absl::string_view id, absl::Time now);

// Checks an ID number against the holder's date of birth and sex (at
// registration). As ParseIdNumber, then:
//   BIRTH_DATE_INVALID             birth_date.year is 0 (no year to check);
//   ID_NUMBER_INVALID_CENTURY      the fourth digit's century does not contain
//                                  birth_date.year;
//   ID_NUMBER_BIRTH_YEAR_MISMATCH  YY is not birth_date.year % 100;
//   ID_NUMBER_SEX_MISMATCH         the fourth digit's sex is not `sex`.
// SEX_UNSPECIFIED skips the sex check (the caller decides whether sex is
// required). The date itself is checked by ValidateBirthDate, not here.
absl::Status ValidateIdNumber(absl::string_view id, const v1::Date& birth_date,
                              v1::Sex sex);

// Checks a date of birth. BIRTH_DATE_INVALID when: year before 1900 or after
// 9999; month not 0..12; day not 0..31 or past the month's end (29 February
// only in leap years); day set without a month; or the date is after today
// at `now`. A partial date (month 0, or day 0: old population records) is
// in the future only if its whole year (or month) is.
absl::Status ValidateBirthDate(const v1::Date& birth_date, absl::Time now);

// Checks the number of a chip citizen-ID card (Level2Intake.card_number).
// Since 2021 the card number is the holder's personal identification number,
// so: CARD_NUMBER_INVALID when it is not 12 ASCII digits starting with an
// official province code, or, when `id_number` is not empty, when it differs
// from `id_number`. (Older 9-digit identity cards are not chip cards and are
// rejected.)
absl::Status ValidateCardNumber(absl::string_view card_number,
                                absl::string_view id_number);

// The ID number (or card number) for logs, responses and reports: the first
// three and last three digits with the six middle ones masked,
// "001******345". Anything that is not 12 bytes is masked whole (same length,
// all '*'), so a malformed value never leaks either.
std::string MaskIdNumber(absl::string_view id);

}  // namespace eid::validation

#endif  // EID_SERVICES_VALIDATION_ID_NUMBER_H_
