#include "services/validation/full_name.h"

#include <string>

#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid::validation {
namespace {

struct Case {
  const char* input;
  const char* normal;
};

class NormalizeFullNameTest : public testing::TestWithParam<Case> {};

TEST_P(NormalizeFullNameTest, AcceptsAndNormalises) {
  absl::StatusOr<std::string> n = NormalizeFullName(GetParam().input);
  ASSERT_TRUE(n.ok()) << GetParam().input << " " << n.status();
  EXPECT_EQ(*n, GetParam().normal);
  EXPECT_EQ(NormalizeFullName(*n).value_or(""), *n);  // Idempotent.
}

INSTANTIATE_TEST_SUITE_P(
    Names, NormalizeFullNameTest,
    testing::Values(
        Case{"Nguyễn Văn A", "Nguyễn Văn A"},
        Case{"  Trần   Thị\tNgọc  Ánh ", "Trần Thị Ngọc Ánh"},
        Case{"Đặng\xC2\xA0Thị Hoa", "Đặng Thị Hoa"},  // No-break space.
        // Combining marks compose to the precomposed letters.
        Case{"Nguye\xCC\x82\xCC\x83n Vu\xCC\x9B\xCC\x83", "Nguyễn Vữ"},
        Case{"Lê Thị Hô\xCC\xA3i", "Lê Thị Hội"},
        Case{"Hồ-Nguyễn Minh", "Hồ-Nguyễn Minh"},
        Case{"H'Hen Niê", "H'Hen Niê"},
        Case{"H\xE2\x80\x99Hen Niê", "H'Hen Niê"},  // Typographic apostrophe.
        Case{"Ly", "Ly"},                           // One word is enough.
        Case{"JOHN SMITH", "JOHN SMITH"}, Case{"Lò Văn Páo", "Lò Văn Páo"}));

TEST(NormalizeFullNameTest, DecomposedAndPrecomposedNamesAreEqual) {
  const std::string precomposed = "Nguyễn Thị Ngọc Ánh Phượng";
  const std::string decomposed =
      "Nguye\xCC\x82\xCC\x83n Thi\xCC\xA3 Ngo\xCC\xA3\x63 "
      "A\xCC\x81nh Phu\xCC\x9Bo\xCC\x9B\xCC\xA3ng";
  ASSERT_NE(precomposed, decomposed);
  EXPECT_EQ(NormalizeFullName(decomposed).value_or("?"), precomposed);
}

TEST(NormalizeFullNameTest, RejectsWithFullNameInvalid) {
  const std::string too_long(101, 'a');
  const std::string max_len(100, 'a');
  EXPECT_TRUE(ValidateFullName(max_len).ok());
  for (absl::string_view bad : {
           absl::string_view(""),
           absl::string_view("   "),
           absl::string_view("A"),
           absl::string_view(too_long),
           absl::string_view(std::string(1001, ' ')),
           absl::string_view("Nguyễn Văn 3"),
           absl::string_view("Nguyễn.Văn"),
           absl::string_view("Nguyễn\nVăn"),
           absl::string_view("Nguyễn_Văn"),
           absl::string_view("-Nguyễn"),
           absl::string_view("Nguyễn-"),
           absl::string_view("Nguyễn--Văn"),
           absl::string_view("Nguyễn - Văn"),
           absl::string_view("O''Neil"),
           absl::string_view("Nguy\xFF"
                             "en"),                  // Bad UTF-8.
           absl::string_view("Nguyễn 中"),           // Not a Latin letter.
           absl::string_view("Nguyen\xE2\x80\x8B"),  // Zero-width space.
           absl::string_view("x\xCC\x81yz"),  // Mark with no letter form.
           absl::string_view("Ðặng Hoa"),     // U+00D0 Eth, not Đ.
       }) {
    const absl::Status s = ValidateFullName(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << testing::PrintToString(std::string(bad));
    EXPECT_EQ(ReasonOf(s), "FULL_NAME_INVALID")
        << testing::PrintToString(std::string(bad));
  }
}

TEST(NormalizeFullNameTest, LengthCountsCharactersNotBytes) {
  // 100 Vietnamese letters of 3 bytes each, split into words.
  std::string name;
  for (int i = 0; i < 24; ++i) name += "ỄỄỄ ";
  name += "ỄỄỄỄ";  // 24 x 4 + 4 = 100 characters.
  absl::StatusOr<std::string> n = NormalizeFullName(name);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(ValidateFullName(name + "Ễ").code(),
            absl::StatusCode::kInvalidArgument);
}

struct GsmCase {
  const char* input;
  const char* gsm;
};

class ToGsm7UpperTest : public testing::TestWithParam<GsmCase> {};

TEST_P(ToGsm7UpperTest, FoldsAndCapitalises) {
  const std::string out = ToGsm7Upper(GetParam().input);
  EXPECT_EQ(out, GetParam().gsm);
  for (char c : out) {
    EXPECT_NE(std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '-?").find(c),
              std::string::npos)
        << "not in the GSM-7 subset: " << int(static_cast<unsigned char>(c));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Names, ToGsm7UpperTest,
    testing::Values(GsmCase{"Nguyễn Văn A", "NGUYEN VAN A"},
                    GsmCase{"Đặng Thị Hoa", "DANG THI HOA"},
                    GsmCase{"đỗ đức ƯỚC", "DO DUC UOC"},
                    GsmCase{"Trương Mỹ Lan", "TRUONG MY LAN"},
                    GsmCase{"Nguye\xCC\x82\xCC\x83n", "NGUYEN"},
                    GsmCase{"Hồ-Nguyễn H’Hen", "HO-NGUYEN H'HEN"},
                    GsmCase{"  Lê\xC2\xA0\tHoà  ", "LE HOA"},
                    GsmCase{"Müller 中 文", "M?LLER ? ?"},
                    GsmCase{"a@b{c}", "A?B?C?"},
                    GsmCase{"bad\xFF"
                            "byte",
                            "BAD?BYTE"},
                    GsmCase{"", ""}));

TEST(ToGsm7UpperTest, EveryVietnameseLetterBecomesAnAsciiCapital) {
  const std::string all =
      "aàảãáạăằẳẵắặâầẩẫấậđeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợ"
      "uùủũúụưừửữứựyỳỷỹýỵ";
  std::string upper;
  for (const char* p =
           "AÀẢÃÁẠĂẰẲẴẮẶÂẦẨẪẤẬĐEÈẺẼÉẸÊỀỂỄẾỆIÌỈĨÍỊOÒỎÕÓỌÔỒỔỖỐỘƠỜỞỠỚỢ"
           "UÙỦŨÚỤƯỪỬỮỨỰYỲỶỸÝỴ";
       *p; ++p) {
    upper.push_back(*p);
  }
  const std::string expected =
      "AAAAAAAAAAAAAAAAAADEEEEEEEEEEEEIIIIIIOOOOOOOOOOOOOOOOOO"
      "UUUUUUUUUUUUYYYYYY";
  EXPECT_EQ(ToGsm7Upper(all), expected);
  EXPECT_EQ(ToGsm7Upper(upper), expected);
}

}  // namespace
}  // namespace eid::validation
