#include "tools/eidctl/registration_file.h"

#include "gtest/gtest.h"

namespace eid::ctl {
namespace {

TEST(SplitCsvTest, QuotesCrlfAndLineNumbers) {
  auto records = SplitCsv("\xEF\xBB\xBF" "a,b\r\n\"x, \"\"y\"\"\",\"two\nlines\"\r\n\r\nlast,\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"x, \"y\"", "two\nlines"}));
  EXPECT_EQ(records[2].line, 5);  // After the blank line 4.
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"last", ""}));
}

TEST(RegistrationFileTest, CsvRowsBecomeRequests) {
  std::string error;
  auto rows = ParseRegistrationFile(
      "reg.csv",
      "level,id_number,full_name,date_of_birth,sex,phone,province,district,commune,"
      "org_units,approve,card_number,intake_office,officer_id\n"
      "1,001090000001,Nguyễn Văn An,17/05/1990,M,0910000001,01,001,00001,"
      "SCHOOL_CLASS:THPT-LH/12A1:THPT-LH;AGENCY:BTC,1,,,\n"
      "2,068190000002,Trần Thị Bình,1990,F,0910000002,68,672,,,0,068190000002,CA-LH,CB-1\n"
      "3,x,y,z,M,0,01,,,,,,,\n"
      "1,001090000004,Lê Văn Cường,17-05-1990,M,0910000004,01,,,,,,,\n"
      "1,001090000005,Lê Văn Dũng,01/01/1990,X,0910000005,01,,,,,,,\n"
      "1,too,few\n",
      &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(rows.size(), 6u);
  ASSERT_TRUE(rows[0].ok) << rows[0].error;
  const auto& a = rows[0].request;
  EXPECT_EQ(a.row_ref(), "reg.csv:2");
  EXPECT_EQ(a.level(), v1::ACCOUNT_LEVEL_1);
  EXPECT_TRUE(a.approve());
  EXPECT_EQ(a.person().full_name(), "Nguyễn Văn An");
  EXPECT_EQ(a.person().date_of_birth().day(), 17);
  EXPECT_EQ(a.person().date_of_birth().month(), 5);
  EXPECT_EQ(a.person().sex(), v1::SEX_MALE);
  EXPECT_EQ(a.person().locality().commune_code(), "00001");
  ASSERT_EQ(a.person().org_units_size(), 2);
  EXPECT_EQ(a.person().org_units(0).kind(), v1::ORG_UNIT_KIND_SCHOOL_CLASS);
  EXPECT_EQ(a.person().org_units(0).parent_code(), "THPT-LH");
  EXPECT_EQ(a.person().org_units(1).code(), "BTC");
  ASSERT_TRUE(rows[1].ok) << rows[1].error;
  EXPECT_EQ(rows[1].request.level(), v1::ACCOUNT_LEVEL_2);
  EXPECT_EQ(rows[1].request.person().date_of_birth().month(), 0);
  EXPECT_EQ(rows[1].request.intake().intake_office().code(), "CA-LH");
  EXPECT_EQ(rows[1].request.intake().intake_office().kind(), v1::ORG_UNIT_KIND_POLICE_OFFICE);
  EXPECT_FALSE(rows[2].ok);
  EXPECT_EQ(rows[2].line, 4);
  EXPECT_NE(rows[2].error.find("level"), std::string::npos);
  EXPECT_FALSE(rows[3].ok);
  EXPECT_NE(rows[3].error.find("date_of_birth"), std::string::npos);
  EXPECT_FALSE(rows[4].ok);
  EXPECT_NE(rows[4].error.find("sex"), std::string::npos);
  EXPECT_FALSE(rows[5].ok);
  EXPECT_EQ(rows[5].line, 7);
}

TEST(RegistrationFileTest, UnknownColumnIsAFileError) {
  std::string error;
  auto rows = ParseRegistrationFile("reg.csv", "id_number,nickname\n1,2\n", &error);
  EXPECT_TRUE(rows.empty());
  EXPECT_NE(error.find("nickname"), std::string::npos);
  rows = ParseRegistrationFile("reg.csv", "", &error);
  EXPECT_TRUE(rows.empty());
  EXPECT_FALSE(error.empty());
}

TEST(RegistrationFileTest, JsonLines) {
  std::string error;
  auto rows = ParseRegistrationFile(
      "reg.jsonl",
      "{\"level\":2,\"id_number\":\"001090000001\",\"sex\":\"F\",\"approve\":true,"
      "\"org_units\":[\"AGENCY:BTC\"],\"province\":\"01\"}\n"
      "\n"
      "not json\n"
      "{\"nickname\":\"x\"}\n",
      &error);
  ASSERT_TRUE(error.empty());
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_TRUE(rows[0].ok) << rows[0].error;
  EXPECT_EQ(rows[0].request.level(), v1::ACCOUNT_LEVEL_2);
  EXPECT_TRUE(rows[0].request.approve());
  EXPECT_EQ(rows[0].request.person().org_units(0).code(), "BTC");
  EXPECT_EQ(rows[0].request.row_ref(), "reg.jsonl:1");
  EXPECT_FALSE(rows[1].ok);
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_FALSE(rows[2].ok);
  EXPECT_NE(rows[2].error.find("nickname"), std::string::npos);
}

}  // namespace
}  // namespace eid::ctl
