#include "services/validation/security_answer.h"

#include <string>

#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid::validation {
namespace {

struct Case {
  const char* input;
  const char* normal;
};

class NormalizeSecurityAnswerTest : public testing::TestWithParam<Case> {};

TEST_P(NormalizeSecurityAnswerTest, GivesTheCanonicalForm) {
  absl::StatusOr<std::string> n = NormalizeSecurityAnswer(GetParam().input);
  ASSERT_TRUE(n.ok()) << GetParam().input << " " << n.status();
  EXPECT_EQ(*n, GetParam().normal);
  EXPECT_EQ(NormalizeSecurityAnswer(*n).value_or(""), *n);  // Idempotent.
}

INSTANTIATE_TEST_SUITE_P(
    Answers, NormalizeSecurityAnswerTest,
    testing::Values(
        Case{"  Nguyễn   Thị  Hoa ", "nguyen thi hoa"},
        Case{"nguyen thi hoa", "nguyen thi hoa"},
        Case{"NGUYỄN THỊ HOA.", "nguyen thi hoa"},
        Case{"Nguye\xCC\x82\xCC\x83n\tThi\xCC\xA3\nHoa", "nguyen thi hoa"},
        Case{"Hà Nội, Việt Nam!", "ha noi viet nam"}, Case{"Đà-Lạt", "dalat"},
        Case{"O'Neil", "oneil"}, Case{"“Con Mèo” — Mướp…", "con meo muop"},
        Case{"\xEF\xBB\xBFtrường\xE2\x80\x8B số 1", "truong so 1"},
        Case{"\xE3\x80\x80Huế\xC2\xA0 xưa ", "hue xua"},
        Case{"Ça va", "ça va"},  // Non-covered letters stay (not folded).
        Case{"1975", "1975"}));

TEST(NormalizeSecurityAnswerTest, VariantsOfOneAnswerMatch) {
  const char* variants[] = {
      "  Nguyễn   Thị  Hoa ", "nguyen thi hoa",
      "NGUYEN THI HOA",       "Nguye\xCC\x82\xCC\x83n Thi\xCC\xA3 Hoa",
      "nguyễn, thị hoa.",
  };
  for (const char* v : variants) {
    EXPECT_EQ(NormalizeSecurityAnswer(v).value_or("?"), "nguyen thi hoa") << v;
  }
}

TEST(NormalizeSecurityAnswerTest, RejectsEmptyTooLongAndBadUtf8) {
  const std::string long_normalised(201, 'a');
  const std::string at_limit(200, 'a');
  EXPECT_TRUE(NormalizeSecurityAnswer(at_limit).ok());
  // 200 letters padded with spaces is fine: the limit is on the result.
  EXPECT_TRUE(NormalizeSecurityAnswer("   " + at_limit + "   ").ok());
  for (const std::string& bad :
       {std::string(""), std::string("   "), std::string("?!.,;"),
        std::string("\xCC\x81\xCC\x80"), long_normalised,
        std::string(801, ' ') + "a",
        std::string("ho\xFF"
                    "a")}) {
    absl::StatusOr<std::string> n = NormalizeSecurityAnswer(bad);
    ASSERT_FALSE(n.ok()) << testing::PrintToString(bad);
    EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(n.status()), "SECURITY_ANSWER_INVALID");
  }
}

TEST(NormalizeSecurityAnswerTest, ErrorNeverEchoesTheAnswer) {
  const std::string secret = "mèo mướp" + std::string(300, 'x');
  absl::StatusOr<std::string> n = NormalizeSecurityAnswer(secret);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(std::string(n.status().message()).find("muop"), std::string::npos);
  EXPECT_EQ(std::string(n.status().message()).find("xxx"), std::string::npos);
}

}  // namespace
}  // namespace eid::validation
