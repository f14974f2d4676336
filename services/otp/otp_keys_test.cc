#include "services/otp/otp_keys.h"

#include "gtest/gtest.h"

namespace eid::otp {
namespace {

TEST(OtpKeysTest, EverythingOfAnAccountSharesItsRoutingKey) {
  for (const std::string& key :
       {OtpKey("acc-1", 1), AttemptsKey("acc-1"), AccountDayKey("acc-1", 20000),
        RequestKey("acc-1", "req|with|bars")}) {
    EXPECT_EQ(key.substr(0, key.find('|')), "acc-1") << key;
  }
  EXPECT_EQ(PhoneDayKey("+84912345678", 3), "phone:+84912345678|day|3");
}

TEST(OtpKeysTest, DueKeysSortByTime) {
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  const std::string a = DueKey(2, t, "m2-x");
  const std::string b = DueKey(2, t + absl::Microseconds(1), "m2-a");
  const std::string c = DueKey(2, t + absl::Hours(1000), "m2-a");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a.rfind(DuePrefix(2), 0), 0u);
  EXPECT_EQ(DueTimeOfKey(b), t + absl::Microseconds(1));
  EXPECT_EQ(DueTimeOfKey("smsq-2|m|m2-x"), std::nullopt);
}

TEST(OtpKeysTest, OtpIdRoundTripsAndRejectsForgeries) {
  OtpId id{"acc.with.dots", 2, 17, "0123456789abcdef"};
  const std::string text = FormatOtpId(id);
  std::optional<OtpId> back = ParseOtpId(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->account_id, "acc.with.dots");
  EXPECT_EQ(back->purpose, 2);
  EXPECT_EQ(back->seq, 17u);
  EXPECT_EQ(back->nonce, "0123456789abcdef");
  EXPECT_EQ(ParseOtpId(""), std::nullopt);
  EXPECT_EQ(ParseOtpId("o1.YWJj.1.1.xyz"), std::nullopt);
  EXPECT_EQ(ParseOtpId("o1.YWJj.1.01.0123456789abcdef"), std::nullopt);
  EXPECT_EQ(ParseOtpId("o1.YXx8.1.1.0123456789abcdef"), std::nullopt);  // "a||"
}

TEST(OtpKeysTest, MessageIdsNameTheirPartition) {
  const std::string id = FormatMessageId(3, std::string(32, 'a'));
  EXPECT_EQ(PartitionOfMessageId(id, 4), 3);
  EXPECT_EQ(PartitionOfMessageId(id, 3), -1);
  EXPECT_EQ(PartitionOfMessageId("m3-short", 4), -1);
  EXPECT_EQ(PartitionOfMessageId("x", 4), -1);
}

TEST(OtpKeysTest, DaysAreVietnamDays) {
  // 2025-01-01 16:59:59 UTC is 23:59:59 in Hanoi; a second later is the 2nd.
  const absl::Time before = absl::FromUnixSeconds(1735750799);
  EXPECT_EQ(VietnamDay(before) + 1, VietnamDay(before + absl::Seconds(1)));
  EXPECT_EQ(NextVietnamDayStart(before), before + absl::Seconds(1));
}

}  // namespace
}  // namespace eid::otp
