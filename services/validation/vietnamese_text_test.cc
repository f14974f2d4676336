#include "services/validation/vietnamese_text.h"

#include <string>

#include "gtest/gtest.h"

namespace eid::validation {
namespace {

std::u32string U32(absl::string_view utf8) {
  std::optional<std::u32string> d = DecodeUtf8(utf8);
  EXPECT_TRUE(d.has_value()) << utf8;
  return d.value_or(std::u32string());
}

std::string Nfc(absl::string_view utf8) { return EncodeUtf8(ToNfc(U32(utf8))); }

TEST(Utf8Test, RoundTripsWellFormedText) {
  const std::string s = "Nguyễn Văn Đức 😀 ok";
  const std::u32string d = U32(s);
  EXPECT_EQ(d.size(), 19u);
  EXPECT_EQ(d[4], char32_t{0x1EC5});  // ễ
  EXPECT_EQ(EncodeUtf8(d), s);
}

TEST(Utf8Test, RejectsIllFormedSequences) {
  for (absl::string_view bad : {
           absl::string_view("\x80"),              // Stray continuation.
           absl::string_view("\xC3"),              // Truncated.
           absl::string_view("\xC0\xAF"),          // Overlong '/'.
           absl::string_view("\xE0\x80\xAF"),      // Overlong.
           absl::string_view("\xED\xA0\x80"),      // Surrogate U+D800.
           absl::string_view("\xF4\x90\x80\x80"),  // Above U+10FFFF.
           absl::string_view("\xFF"),
           absl::string_view("ab\xE1\xBB"),  // Truncated at the end.
       }) {
    EXPECT_FALSE(DecodeUtf8(bad).has_value()) << testing::PrintToString(bad);
  }
  EXPECT_TRUE(DecodeUtf8(absl::string_view("\0", 1)).has_value());
}

struct NfcCase {
  const char* input;
  const char* nfc;
};

class NfcTest : public testing::TestWithParam<NfcCase> {};

TEST_P(NfcTest, ComposesToThePrecomposedLetter) {
  EXPECT_EQ(Nfc(GetParam().input), GetParam().nfc);
  // Idempotent.
  EXPECT_EQ(Nfc(GetParam().nfc), GetParam().nfc);
}

INSTANTIATE_TEST_SUITE_P(
    Vietnamese, NfcTest,
    testing::Values(
        NfcCase{"e\xCC\x82\xCC\x81", "ế"},  // e + circumflex + acute
        NfcCase{"\xC3\xAA\xCC\x81", "ế"},   // ê + acute
        NfcCase{"e\xCC\x82\xCC\xA3", "ệ"},  // e + circumflex + dot below
        NfcCase{"e\xCC\xA3\xCC\x82", "ệ"},  // e + dot below + circumflex
        NfcCase{"o\xCC\xA3\xCC\x9B", "ợ"},  // dot below before horn
        NfcCase{"o\xCC\x9B\xCC\x80", "ờ"},  // o + horn + grave
        NfcCase{"a\xCC\x86\xCC\x83", "ẵ"},  // a + breve + tilde
        NfcCase{"A\xCC\x86\xCC\xA3", "Ặ"},  // A + breve + dot below
        NfcCase{"u\xCC\x9B\xCC\x89", "ử"},  // u + horn + hook above
        NfcCase{"y\xCC\x83", "ỹ"},
        NfcCase{"a\xCD\x80", "à"},  // legacy U+0340 grave
        NfcCase{"a\xCD\x81", "á"},  // legacy U+0341 acute
        NfcCase{"Nguye\xCC\x82\xCC\x83n", "Nguyễn"},
        // Two marks of the same class keep their order: é + circumflex has no
        // precomposed form, so it stays "é" + U+0302.
        NfcCase{"e\xCC\x81\xCC\x82", "\xC3\xA9\xCC\x82"},
        // A mark with nothing to attach to stays.
        NfcCase{"\xCC\x81"
                "a",
                "\xCC\x81"
                "a"},
        NfcCase{"đ Đ x", "đ Đ x"}));

TEST(NfcTest, EveryVietnameseLetterComposesFromItsDecomposedForm) {
  // Base letters, with their shape mark (breve, circumflex, horn) if any.
  struct Base {
    const char* nfd;
    const char* tones;  // The letter with no tone, grave, hook, tilde, acute,
                        // dot below (the order of the Vietnamese alphabet).
  };
  const Base kBases[] = {
      {"a", "aàảãáạ"}, {"a\xCC\x86", "ăằẳẵắặ"}, {"a\xCC\x82", "âầẩẫấậ"},
      {"e", "eèẻẽéẹ"}, {"e\xCC\x82", "êềểễếệ"}, {"i", "iìỉĩíị"},
      {"o", "oòỏõóọ"}, {"o\xCC\x82", "ôồổỗốộ"}, {"o\xCC\x9B", "ơờởỡớợ"},
      {"u", "uùủũúụ"}, {"u\xCC\x9B", "ưừửữứự"}, {"y", "yỳỷỹýỵ"},
      {"A", "AÀẢÃÁẠ"}, {"A\xCC\x86", "ĂẰẲẴẮẶ"}, {"A\xCC\x82", "ÂẦẨẪẤẬ"},
      {"E", "EÈẺẼÉẸ"}, {"E\xCC\x82", "ÊỀỂỄẾỆ"}, {"I", "IÌỈĨÍỊ"},
      {"O", "OÒỎÕÓỌ"}, {"O\xCC\x82", "ÔỒỔỖỐỘ"}, {"O\xCC\x9B", "ƠỜỞỠỚỢ"},
      {"U", "UÙỦŨÚỤ"}, {"U\xCC\x9B", "ƯỪỬỮỨỰ"}, {"Y", "YỲỶỸÝỴ"},
  };
  const char* kTones[] = {"",         "\xCC\x80", "\xCC\x89",
                          "\xCC\x83", "\xCC\x81", "\xCC\xA3"};
  int letters = 0;
  for (const Base& b : kBases) {
    const std::u32string expected = U32(b.tones);
    ASSERT_EQ(expected.size(), 6u) << b.tones;
    for (int t = 0; t < 6; ++t) {
      const std::string nfd = std::string(b.nfd) + kTones[t];
      const std::u32string got = ToNfc(U32(nfd));
      ASSERT_EQ(got.size(), 1u) << nfd;
      EXPECT_EQ(got[0], expected[t]) << nfd;
      EXPECT_TRUE(IsNameLetter(got[0]));
      // Folding gives back the bare base letter.
      EXPECT_EQ(FoldDiacritics(got), std::u32string(1, char32_t(b.nfd[0])));
      ++letters;
    }
  }
  EXPECT_EQ(letters, 144);  // 12 vowels x 6 tones x 2 cases.
}

TEST(FoldDiacriticsTest, FoldsComposedAndDecomposedVietnamese) {
  EXPECT_EQ(FoldDiacritics("Nguyễn Văn Đức"), "Nguyen Van Duc");
  EXPECT_EQ(FoldDiacritics("đường Hồ Chí Minh"), "duong Ho Chi Minh");
  EXPECT_EQ(FoldDiacritics("Nguye\xCC\x82\xCC\x83n"), "Nguyen");
  EXPECT_EQ(FoldDiacritics("TRẦN THỊ NGỌC ÁNH"), "TRAN THI NGOC ANH");
  EXPECT_EQ(FoldDiacritics("x\xCC\x81"), "x");  // Stray mark dropped.
}

TEST(FoldDiacriticsTest, KeepsOtherCharactersAndReplacesBadBytes) {
  EXPECT_EQ(FoldDiacritics("ß ç 中"), "ß ç 中");
  EXPECT_EQ(FoldDiacritics("a\xFF"
                           "b"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(IsNameLetterTest, LettersOnly) {
  EXPECT_TRUE(IsNameLetter(U'a'));
  EXPECT_TRUE(IsNameLetter(U'Z'));
  EXPECT_TRUE(IsNameLetter(0x0111));  // đ
  EXPECT_TRUE(IsNameLetter(0x01B0));  // ư
  EXPECT_FALSE(IsNameLetter(U'1'));
  EXPECT_FALSE(IsNameLetter(U' '));
  EXPECT_FALSE(IsNameLetter(0x0301));  // A bare mark.
  EXPECT_FALSE(IsNameLetter(0x00DF));  // ß: not covered.
  EXPECT_FALSE(IsNameLetter(0x4E2D));  // 中
}

}  // namespace
}  // namespace eid::validation
