#include "services/otp/sms_text.h"

#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/otp/phone.h"

namespace eid::otp {
namespace {

TEST(SmsTextTest, OtpTextSaysCodeAndLifetimeInGsm7) {
  const std::string text =
      OtpSmsText(v1::OTP_PURPOSE_ACTIVATION, "123456", absl::Minutes(5));
  EXPECT_EQ(text,
            "VNeID: Ma OTP kich hoat tai khoan cua ban la 123456. Ma co hieu "
            "luc trong "
            "5 phut. Khong chia se ma nay cho bat ky ai.");
  EXPECT_TRUE(IsGsm7Basic(text));
  EXPECT_LE(text.size(), 160u);
  const std::string recovery =
      OtpSmsText(v1::OTP_PURPOSE_RECOVERY, "000001", absl::Seconds(90));
  EXPECT_NE(recovery.find("khoi phuc"), std::string::npos);
  EXPECT_NE(recovery.find("trong 2 phut"), std::string::npos);
  EXPECT_TRUE(IsGsm7Basic(recovery));
}

TEST(SmsTextTest, ApprovalTextIsTheSeedsWordForWord) {
  absl::StatusOr<std::string> name = FoldNameToGsm7Upper("Nguyễn Văn A");
  ASSERT_TRUE(name.ok()) << name.status();
  absl::StatusOr<std::string> text =
      NoticeSmsText(v1::NOTICE_KIND_REGISTRATION_APPROVED, *name);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "Cuc Canh sat QLHC ve TTXH thong bao: Ho so dang ky tai khoan dinh "
            "danh dien "
            "tu cua cong dan NGUYEN VAN A da duoc phe duyet. De nghi truy cap "
            "ung dung "
            "VNeID hoac dia chi http://vneid.gov.vn de kich hoat tai khoan");
  EXPECT_TRUE(IsGsm7Basic(*text));
}

TEST(SmsTextTest, EveryNoticeIsGsm7) {
  for (v1::NoticeKind kind :
       {v1::NOTICE_KIND_REGISTRATION_APPROVED, v1::NOTICE_KIND_DEVICE_CHANGED,
        v1::NOTICE_KIND_ACCOUNT_LOCKED}) {
    absl::StatusOr<std::string> text = NoticeSmsText(kind, "TRAN THI B");
    ASSERT_TRUE(text.ok()) << kind;
    EXPECT_TRUE(IsGsm7Basic(*text)) << *text;
  }
  EXPECT_EQ(ReasonOf(NoticeSmsText(v1::NOTICE_KIND_UNSPECIFIED, "X").status()),
            "FIELD_INVALID");
  EXPECT_EQ(
      ReasonOf(
          NoticeSmsText(v1::NOTICE_KIND_REGISTRATION_APPROVED, "").status()),
      "FULL_NAME_INVALID");
}

TEST(SmsTextTest, FoldsVietnameseNamesToUnaccentedCapitals) {
  EXPECT_EQ(*FoldNameToGsm7Upper("Đặng Thị Ánh   Nguyệt"),
            "DANG THI ANH NGUYET");
  EXPECT_EQ(*FoldNameToGsm7Upper("  trương  ngọc ước "), "TRUONG NGOC UOC");
  EXPECT_EQ(*FoldNameToGsm7Upper("Lê Thị Hồng-Nhung"), "LE THI HONG-NHUNG");
  // Decomposed (NFD) input: e + circumflex + dot below.
  EXPECT_EQ(*FoldNameToGsm7Upper("Le\xcc\x82\xcc\xa3"), "LE");
  // Every name registration accepts has its SMS form, not only Vietnamese
  // letters: the Ê Đê Ñ, and Latin letters with other marks.
  EXPECT_EQ(*FoldNameToGsm7Upper("Y Ñuê Niê"), "Y NUE NIE");
  EXPECT_EQ(*FoldNameToGsm7Upper("H'Hen Niê"), "H'HEN NIE");
  for (const char* bad :
       {"", "   ", "Nguyen 3", "Nguyen_A", "Ng\xff", "名前", "\xcc\x81"}) {
    EXPECT_EQ(ReasonOf(FoldNameToGsm7Upper(bad).status()), "FULL_NAME_INVALID")
        << bad;
  }
  EXPECT_EQ(ReasonOf(FoldNameToGsm7Upper(std::string(101, 'a')).status()),
            "FULL_NAME_INVALID");
}

TEST(SmsTextTest, Gsm7CheckRejectsEscapeAndNonAsciiCharacters) {
  EXPECT_TRUE(IsGsm7Basic("Ma OTP: 123456 (5 phut) @ http://vneid.gov.vn?x=1"));
  for (const char* bad : {"[", "{", "~", "\\", "^", "|", "`", "é"}) {
    EXPECT_FALSE(IsGsm7Basic(bad)) << bad;
  }
}

TEST(PhoneTest, NormalisesBothFormsAndMasks) {
  EXPECT_EQ(NormalizePhone("0912345678"), "+84912345678");
  EXPECT_EQ(NormalizePhone("+84 912-345-678"), "+84912345678");
  for (const char* bad :
       {"", "912345678", "091234567", "09123456789", "+8491234567",
        "84912345678", "+84a12345678", "0912 34567x"}) {
    EXPECT_EQ(NormalizePhone(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(MaskedPhone("+84912345678"), "+84******678");
}

}  // namespace
}  // namespace eid::otp
