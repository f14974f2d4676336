#include "services/common/log.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid::log {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetSinkForTesting([this](absl::string_view l) { lines_.emplace_back(l); });
  }
  void TearDown() override {
    SetSinkForTesting(nullptr);
    SetMinLevel(Level::kInfo);
  }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, WritesOneJsonObjectPerEntry) {
  Info("otp.sent").With("purpose", "activation").With("attempt", 2);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr("\"level\":\"info\""));
  EXPECT_THAT(lines_[0], HasSubstr("\"event\":\"otp.sent\""));
  EXPECT_THAT(lines_[0], HasSubstr("\"purpose\":\"activation\""));
  EXPECT_THAT(lines_[0], HasSubstr("\"attempt\":2"));
  EXPECT_EQ(lines_[0].front(), '{');
  EXPECT_EQ(lines_[0].back(), '}');
}

TEST_F(LogTest, RedactsFieldsThatNameASecret) {
  Info("x")
      .With("passcode", "123789")
      .With("otp_code", "555111")
      .With("session_token", "tok-abc")
      .With("pepper_file", "/etc/eid/pepper")
      .With("answer", "my first dog")
      .With("otp_attempts", 3);
  ASSERT_EQ(lines_.size(), 1u);
  for (const char* secret : {"123789", "555111", "tok-abc", "/etc/eid/pepper",
                             "my first dog"}) {
    EXPECT_THAT(lines_[0], Not(HasSubstr(secret)));
  }
  EXPECT_THAT(lines_[0], HasSubstr("\"passcode\":\"[redacted]\""));
  EXPECT_THAT(lines_[0], HasSubstr("\"otp_attempts\":3"));
}

TEST_F(LogTest, EscapesQuotesAndControlCharacters) {
  Info("x").With("name", "a\"b\nc");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr(R"("name":"a\"b\nc")"));
}

TEST_F(LogTest, DropsLinesBelowTheMinimumLevel) {
  Debug("hidden");
  SetMinLevel(Level::kError);
  Warning("hidden too");
  Error("shown");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr("shown"));
}

TEST_F(LogTest, StatusFieldsIncludeTheReason) {
  Warning("rejected").With(InvalidArgument(v1::PHONE_INVALID, "bad phone"));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr("\"reason\":\"PHONE_INVALID\""));
  EXPECT_THAT(lines_[0], HasSubstr("\"code\":\"INVALID_ARGUMENT\""));
}

TEST(MaskTest, IdNumberKeepsProvinceAndLastTwoDigits) {
  EXPECT_EQ(MaskIdNumber("001203012345"), "001*******45");
  EXPECT_EQ(MaskIdNumber("12345"), "***");
}

TEST(MaskTest, PhoneKeepsPrefixAndLastTwoDigits) {
  EXPECT_EQ(MaskPhone("+84912345678"), "+84*******78");
  EXPECT_EQ(MaskPhone("0912345678"), "0*******78");
  EXPECT_EQ(MaskPhone("12"), "***");
}

}  // namespace
}  // namespace eid::log
