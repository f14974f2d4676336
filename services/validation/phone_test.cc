#include "services/validation/phone.h"

#include <string>

#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid::validation {
namespace {

struct Case {
  const char* input;
  const char* normal;
};

class NormalizePhoneTest : public testing::TestWithParam<Case> {};

TEST_P(NormalizePhoneTest, AcceptsEveryFormAndGivesOneNormalForm) {
  absl::StatusOr<std::string> n = NormalizePhone(GetParam().input);
  ASSERT_TRUE(n.ok()) << GetParam().input << " " << n.status();
  EXPECT_EQ(*n, GetParam().normal);
  // The normal form is a fixed point.
  EXPECT_EQ(NormalizePhone(*n).value_or(""), GetParam().normal);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, NormalizePhoneTest,
    testing::Values(Case{"0912345678", "+84912345678"},
                    Case{"+84912345678", "+84912345678"},
                    Case{"84912345678", "+84912345678"},
                    Case{"+84 912 345 678", "+84912345678"},
                    Case{"0912.345.678", "+84912345678"},
                    Case{"091-234-5678", "+84912345678"},
                    Case{" 0912 345 678 ", "+84912345678"},
                    Case{"0386123456", "+84386123456"},  // Viettel 03x
                    Case{"0523123456", "+84523123456"},  // Vietnamobile 05x
                    Case{"0701234567", "+84701234567"},  // MobiFone 07x
                    Case{"0812345678", "+84812345678"},  // Vinaphone 08x
                    Case{"84 84 123 4567", "+84841234567"}));

TEST(NormalizePhoneRejectTest, RejectsEverythingElse) {
  for (absl::string_view bad : {
           "",
           "091234567",      // 9 digits after 0
           "09123456789",    // 11 digits after 0
           "+8491234567",    // 8 after +84
           "+849123456789",  // 10 after +84
           "+840912345678",  // Trunk zero after the country code
           "0212345678",     // Landline-style prefix 2
           "0112345678",     // Prefix 1
           "0412345678",     // Prefix 4
           "0612345678",     // Prefix 6
           "+84212345678",
           "912345678",             // No prefix at all
           "+85912345678",          // Another country
           "(091) 234 5678",        // Parentheses
           "09l2345678",            // Letter l
           "０９１２３４５６７８",  // Full-width digits
           "0912\t345678",          // Tab is not a separator
           "+ 84912345678x",
           "0912345678 0912345678 0912345678",  // Too long
       }) {
    absl::StatusOr<std::string> n = NormalizePhone(bad);
    ASSERT_FALSE(n.ok()) << bad;
    EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(n.status()), "PHONE_INVALID") << bad;
    if (!std::string(bad).empty()) {
      EXPECT_EQ(std::string(n.status().message()).find(std::string(bad)),
                std::string::npos);
    }
  }
}

TEST(MaskPhoneTest, ShowsOnlyTheLastThreeDigits) {
  EXPECT_EQ(MaskPhone("+84912345678"), "+84******678");
  EXPECT_EQ(MaskPhone("0912 345 789"), "+84******789");
  EXPECT_EQ(MaskPhone("84912345678"), "+84******678");
  EXPECT_EQ(MaskPhone("not a phone 0123"), "***");
  EXPECT_EQ(MaskPhone(""), "***");
}

}  // namespace
}  // namespace eid::validation
