#include "services/reports/csv.h"

#include "gtest/gtest.h"
#include "services/common/proto_time.h"

namespace eid::reports {
namespace {

TEST(CsvTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("Nguyễn Văn An"), "Nguyễn Văn An");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\r\nlines"), "\"two\r\nlines\"");
  EXPECT_EQ(CsvField(""), "");
}

TEST(CsvTest, DatesAsVietnameseWriteThemWithUnknownParts) {
  v1::Date d;
  d.set_year(1990);
  EXPECT_EQ(DateText(d), "1990");
  d.set_month(5);
  EXPECT_EQ(DateText(d), "05/1990");
  d.set_day(7);
  EXPECT_EQ(DateText(d), "07/05/1990");
}

TEST(CsvTest, LineInVietnamTime) {
  v1::NotActivatedRow row;
  row.set_masked_id_number("068******005");
  row.set_full_name("Hoàng Văn Em");
  row.mutable_date_of_birth()->set_year(2008);
  row.mutable_date_of_birth()->set_month(1);
  row.mutable_date_of_birth()->set_day(2);
  row.set_phone("+84910000005");
  row.set_level(v1::ACCOUNT_LEVEL_2);
  row.mutable_locality()->set_province_code("68");
  row.mutable_locality()->set_district_code("672");
  *row.mutable_approved_at() = ToProtoTime(absl::FromUnixSeconds(1772355600));  // 09:00Z
  EXPECT_EQ(CsvLine(7, row),
            "7,068******005,Hoàng Văn Em,02/01/2008,+84910000005,2,68,672,,"
            "2026-03-01T16:00:00+07:00\r\n");
}

}  // namespace
}  // namespace eid::reports
