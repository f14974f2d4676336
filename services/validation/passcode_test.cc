#include "services/validation/passcode.h"

#include <string>

#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid::validation {
namespace {

v1::Date MakeDate(int y, int m, int d) {
  v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

const v1::Date kBirth = MakeDate(1990, 3, 15);

void ExpectRejected(absl::string_view passcode, const v1::Date& birth,
                    const char* reason) {
  const absl::Status s = ValidatePasscode(passcode, birth);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << passcode;
  EXPECT_EQ(ReasonOf(s), reason) << passcode;
  // Never echo the passcode.
  if (!passcode.empty()) {
    EXPECT_EQ(std::string(s.message()).find(std::string(passcode)),
              std::string::npos)
        << s;
  }
}

TEST(ValidatePasscodeTest, AcceptsOrdinaryPasscodes) {
  for (absl::string_view ok :
       {"583920", "102938", "890123", "135790", "112233", "121212", "000001",
        "098765", "150391", "199103"}) {
    EXPECT_TRUE(ValidatePasscode(ok, kBirth).ok()) << ok;
  }
}

TEST(ValidatePasscodeTest, RejectsAnythingButSixAsciiDigits) {
  for (absl::string_view bad : {"", "12345", "1234567", "12345a", " 58392",
                                "58392 ", "5839-2", "５８３９２０", "+58392"}) {
    ExpectRejected(bad, kBirth, "PASSCODE_NOT_SIX_DIGITS");
  }
}

TEST(ValidatePasscodeTest, RejectsRepeatsAndRuns) {
  for (absl::string_view simple :
       {"000000", "111111", "999999", "012345", "123456", "234567", "345678",
        "456789", "987654", "876543", "765432", "654321", "543210"}) {
    ExpectRejected(simple, kBirth, "PASSCODE_TOO_SIMPLE");
  }
}

TEST(ValidatePasscodeTest, RejectsTheDateOfBirthInEachForm) {
  // 15 March 1990.
  for (absl::string_view form : {"150390",     // DDMMYY
                                 "031590",     // MMDDYY
                                 "900315",     // YYMMDD
                                 "150319",     // DDMMYYYY, first six
                                 "031990",     // MMYYYY
                                 "199003"}) {  // YYYYMM
    ExpectRejected(form, kBirth, "PASSCODE_IS_BIRTH_DATE");
  }
  // 5 March 1990: unpadded day and month as well.
  const v1::Date early = MakeDate(1990, 3, 5);
  for (absl::string_view form :
       {"050390", "030590", "900305", "050319", "531990", "199035"}) {
    ExpectRejected(form, early, "PASSCODE_IS_BIRTH_DATE");
  }
  // Born in 2001: "010101" is the date, not a run.
  ExpectRejected("010101", MakeDate(2001, 1, 1), "PASSCODE_IS_BIRTH_DATE");
}

TEST(ValidatePasscodeTest, PartialAndUnknownBirthDates) {
  // Year and month only: MMYYYY and YYYYMM, but no day forms.
  const v1::Date month_only = MakeDate(1990, 3, 0);
  ExpectRejected("031990", month_only, "PASSCODE_IS_BIRTH_DATE");
  ExpectRejected("199003", month_only, "PASSCODE_IS_BIRTH_DATE");
  EXPECT_TRUE(ValidatePasscode("000390", month_only).ok());
  // Year only, or nothing known: no birth-date check.
  EXPECT_TRUE(BirthDatePasscodes(MakeDate(1990, 0, 0)).empty());
  EXPECT_TRUE(BirthDatePasscodes(MakeDate(0, 0, 0)).empty());
  EXPECT_TRUE(ValidatePasscode("150390", MakeDate(0, 0, 0)).ok());
  // Simplicity is checked whatever the date.
  ExpectRejected("123456", MakeDate(0, 0, 0), "PASSCODE_TOO_SIMPLE");
}

TEST(BirthDatePasscodesTest, ListsEachFormOnce) {
  EXPECT_EQ(BirthDatePasscodes(kBirth),
            (std::vector<std::string>{"031590", "031990", "150319", "150390",
                                      "199003", "900315"}));
  // 1 January 2001: DDMMYY = MMDDYY = YYMMDD = "010101".
  const std::vector<std::string> forms =
      BirthDatePasscodes(MakeDate(2001, 1, 1));
  EXPECT_EQ(std::count(forms.begin(), forms.end(), "010101"), 1);
  EXPECT_EQ(forms.size(), 6u);  // 010101 010120 012001 112001 200101 200111
}

}  // namespace
}  // namespace eid::validation
