#include "services/validation/id_number.h"

#include <string>

#include "absl/time/civil_time.h"
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

// 1 July 2025, 12:00 in Hà Nội.
absl::Time Now() {
  return absl::FromCivil(absl::CivilSecond(2025, 7, 1, 12, 0, 0),
                         absl::FixedTimeZone(7 * 3600));
}

void ExpectRejected(const absl::Status& s, const char* reason,
                    absl::string_view secret = "") {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(ReasonOf(s), reason) << s;
  if (!secret.empty()) {
    EXPECT_EQ(std::string(s.message()).find(std::string(secret)),
              std::string::npos)
        << s;
  }
}

TEST(ParseIdNumberTest, DecodesProvinceCenturySexAndYear) {
  struct Case {
    const char* id;
    const char* province;
    int century_start;
    v1::Sex sex;
    int yy;
  };
  for (const Case& c : {
           Case{"001090012345", "001", 1900, v1::SEX_MALE, 90},
           Case{"001190012345", "001", 1900, v1::SEX_FEMALE, 90},
           Case{"079205000001", "079", 2000, v1::SEX_MALE, 5},
           Case{"096312999999", "096", 2000, v1::SEX_FEMALE, 12},
           Case{"002400000000", "002", 2100, v1::SEX_MALE, 0},
           Case{"004501000000", "004", 2100, v1::SEX_FEMALE, 1},
           Case{"030677000000", "030", 2200, v1::SEX_MALE, 77},
           Case{"030777000000", "030", 2200, v1::SEX_FEMALE, 77},
           Case{"045899000000", "045", 2300, v1::SEX_MALE, 99},
           Case{"045999000000", "045", 2300, v1::SEX_FEMALE, 99},
       }) {
    absl::StatusOr<IdNumberParts> p = ParseIdNumber(c.id);
    ASSERT_TRUE(p.ok()) << c.id << " " << p.status();
    EXPECT_EQ(p->province_code, c.province) << c.id;
    EXPECT_EQ(p->century_start, c.century_start) << c.id;
    EXPECT_EQ(p->sex, c.sex) << c.id;
    EXPECT_EQ(p->year_in_century, c.yy) << c.id;
    EXPECT_EQ(p->birth_year(), c.century_start + c.yy) << c.id;
  }
}

TEST(ParseIdNumberTest, RejectsAnythingButTwelveAsciiDigits) {
  for (absl::string_view id :
       {"", "00109001234", "0010900123456", "00109001234a", " 01090012345",
        "001-90012345", "００１０９００１２３４５", "001 090 012 345",
        "+01090012345"}) {
    ExpectRejected(ParseIdNumber(id).status(), "ID_NUMBER_INVALID_FORMAT");
  }
}

TEST(ParseIdNumberTest, RejectsUnknownProvinceCodes) {
  for (absl::string_view id : {"000090012345", "099090012345", "003090012345",
                               "100090012345", "990090012345"}) {
    ExpectRejected(ParseIdNumber(id).status(), "ID_NUMBER_INVALID_PROVINCE",
                   id);
  }
}

TEST(ValidateIdNumberTest, AcceptsConsistentNumbers) {
  EXPECT_TRUE(
      ValidateIdNumber("001090012345", MakeDate(1990, 3, 15), v1::SEX_MALE)
          .ok());
  EXPECT_TRUE(
      ValidateIdNumber("079305012345", MakeDate(2005, 12, 31), v1::SEX_FEMALE)
          .ok());
  EXPECT_TRUE(
      ValidateIdNumber("031100012345", MakeDate(1900, 1, 1), v1::SEX_FEMALE)
          .ok());
  // Year-only date, sex not given.
  EXPECT_TRUE(ValidateIdNumber("096199012345", MakeDate(1999, 0, 0),
                               v1::SEX_UNSPECIFIED)
                  .ok());
}

TEST(ValidateIdNumberTest, EachInconsistencyHasItsReason) {
  struct Case {
    const char* id;
    v1::Date date;
    v1::Sex sex;
    const char* reason;
  };
  for (const Case& c : {
           // Format and province come first.
           Case{"00109001234", MakeDate(1990, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_INVALID_FORMAT"},
           Case{"000090012345", MakeDate(1990, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_INVALID_PROVINCE"},
           // Century digit 0 (1900s) but born 2005.
           Case{"001005012345", MakeDate(2005, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_INVALID_CENTURY"},
           // Century digit 2 (2000s) but born 1990.
           Case{"001290012345", MakeDate(1990, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_INVALID_CENTURY"},
           // Century digit 4 (2100s).
           Case{"001490012345", MakeDate(1990, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_INVALID_CENTURY"},
           Case{"001890012345", MakeDate(1990, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_INVALID_CENTURY"},
           // Right century, wrong year digits.
           Case{"001091012345", MakeDate(1990, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_BIRTH_YEAR_MISMATCH"},
           Case{"001209012345", MakeDate(2010, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_BIRTH_YEAR_MISMATCH"},
           // Sex digit disagrees.
           Case{"001190012345", MakeDate(1990, 1, 1), v1::SEX_MALE,
                "ID_NUMBER_SEX_MISMATCH"},
           Case{"001290012345", MakeDate(2090, 1, 1), v1::SEX_FEMALE,
                "ID_NUMBER_SEX_MISMATCH"},
           // No year to compare with.
           Case{"001090012345", MakeDate(0, 0, 0), v1::SEX_MALE,
                "BIRTH_DATE_INVALID"},
       }) {
    ExpectRejected(ValidateIdNumber(c.id, c.date, c.sex), c.reason, c.id);
  }
}

TEST(ValidateIdNumberForLookupTest, RejectsBirthYearsInTheFuture) {
  EXPECT_TRUE(ValidateIdNumberForLookup("001090012345", Now()).ok());
  EXPECT_TRUE(ValidateIdNumberForLookup("001225012345", Now()).ok());  // 2025
  ExpectRejected(ValidateIdNumberForLookup("001226012345", Now()),
                 "ID_NUMBER_INVALID_CENTURY");  // 2026
  ExpectRejected(ValidateIdNumberForLookup("001400012345", Now()),
                 "ID_NUMBER_INVALID_CENTURY");  // 2100
  ExpectRejected(ValidateIdNumberForLookup("001990012345", Now()),
                 "ID_NUMBER_INVALID_CENTURY");  // 2390
  ExpectRejected(ValidateIdNumberForLookup("099090012345", Now()),
                 "ID_NUMBER_INVALID_PROVINCE");
  ExpectRejected(ValidateIdNumberForLookup("0010900123", Now()),
                 "ID_NUMBER_INVALID_FORMAT");
}

TEST(ValidateBirthDateTest, AcceptsRealPastDates) {
  for (const v1::Date& d :
       {MakeDate(1990, 3, 15), MakeDate(1900, 1, 1), MakeDate(2000, 2, 29),
        MakeDate(2024, 2, 29), MakeDate(2025, 7, 1), MakeDate(1975, 0, 0),
        MakeDate(2025, 7, 0), MakeDate(2025, 0, 0), MakeDate(1999, 12, 31)}) {
    EXPECT_TRUE(ValidateBirthDate(d, Now()).ok()) << d.ShortDebugString();
  }
}

TEST(ValidateBirthDateTest, RejectsImpossibleEarlyAndFutureDates) {
  for (const v1::Date& d :
       {MakeDate(1899, 12, 31), MakeDate(0, 0, 0), MakeDate(-5, 1, 1),
        MakeDate(10000, 1, 1), MakeDate(1990, 13, 1), MakeDate(1990, -1, 1),
        MakeDate(1990, 4, 31), MakeDate(1900, 2, 29), MakeDate(2023, 2, 29),
        MakeDate(1990, 1, 32), MakeDate(1990, 0, 5), MakeDate(2025, 7, 2),
        MakeDate(2025, 8, 0), MakeDate(2026, 0, 0), MakeDate(2090, 1, 1)}) {
    ExpectRejected(ValidateBirthDate(d, Now()), "BIRTH_DATE_INVALID");
  }
}

TEST(ValidateBirthDateTest, TodayIsTheDateInVietnam) {
  // 30 June 2025 18:00 UTC is already 1 July 01:00 in Hà Nội.
  const absl::Time evening_utc = absl::FromCivil(
      absl::CivilSecond(2025, 6, 30, 18, 0, 0), absl::UTCTimeZone());
  EXPECT_TRUE(ValidateBirthDate(MakeDate(2025, 7, 1), evening_utc).ok());
  ExpectRejected(ValidateBirthDate(MakeDate(2025, 7, 2), evening_utc),
                 "BIRTH_DATE_INVALID");
}

TEST(ValidateCardNumberTest, ChipCardNumberIsTheIdNumber) {
  EXPECT_TRUE(ValidateCardNumber("001090012345", "001090012345").ok());
  EXPECT_TRUE(ValidateCardNumber("001090012345", "").ok());
  for (auto [card, id] :
       {std::pair<const char*, const char*>{"001090012346", "001090012345"},
        {"123456789", ""},  // Old 9-digit identity card.
        {"00109001234X", ""},
        {"", ""},
        {"099090012345", ""}}) {
    ExpectRejected(ValidateCardNumber(card, id), "CARD_NUMBER_INVALID");
  }
}

TEST(MaskIdNumberTest, KeepsFirstAndLastThreeDigits) {
  EXPECT_EQ(MaskIdNumber("001090012345"), "001******345");
  EXPECT_EQ(MaskIdNumber("0010900123"), "**********");
  EXPECT_EQ(MaskIdNumber(""), "");
}

}  // namespace
}  // namespace eid::validation
