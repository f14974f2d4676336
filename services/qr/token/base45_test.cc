#include "services/qr/token/base45.h"

#include <string>

#include "gtest/gtest.h"

namespace eid::qr {
namespace {

// RFC 9285 section 4.3 and 4.4.
TEST(Base45Test, EncodesTheRfcExamples) {
  EXPECT_EQ(Base45Encode("AB"), "BB8");
  EXPECT_EQ(Base45Encode("Hello!!"), "%69 VD92EX0");
  EXPECT_EQ(Base45Encode("base-45"), "UJCLQE7W581");
  EXPECT_EQ(Base45Encode(""), "");
}

TEST(Base45Test, DecodesTheRfcExample) {
  EXPECT_EQ(Base45Decode("QED8WEX0"), "ietf!");
  EXPECT_EQ(Base45Decode("%69 VD92EX0"), "Hello!!");
  EXPECT_EQ(Base45Decode(""), "");
}

TEST(Base45Test, RoundTripsEveryByteValueAndPair) {
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    EXPECT_EQ(Base45Decode(Base45Encode(one)), one);
    for (int b = 0; b < 256; b += 17) {
      const std::string two = {static_cast<char>(a), static_cast<char>(b)};
      EXPECT_EQ(Base45Decode(Base45Encode(two)), two);
    }
  }
  const std::string edges("\x00\x00\xff\xff\xff", 5);
  EXPECT_EQ(Base45Encode(edges).size(), Base45EncodedSize(5));
  EXPECT_EQ(Base45Decode(Base45Encode(edges)), edges);
}

TEST(Base45Test, RejectsALengthOneMoreThanAMultipleOfThree) {
  EXPECT_FALSE(Base45Decode("A"));
  EXPECT_FALSE(Base45Decode("BB8A"));
  EXPECT_TRUE(Base45Decode("BB8A0"));  // "A0" = 10
}

TEST(Base45Test, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_FALSE(Base45Decode("bb8"));  // lower case
  EXPECT_FALSE(Base45Decode("BB#"));
  EXPECT_FALSE(Base45Decode(std::string("BB\0", 3)));
  EXPECT_FALSE(Base45Decode("B\xc3\x80"));
  EXPECT_FALSE(Base45Decode("BB8=="));
}

TEST(Base45Test, RejectsThreeCharacterGroupsAbove65535) {
  // "FGW" = 15 + 16*45 + 32*2025 = 65535, the largest; "GGW" is 65536.
  EXPECT_EQ(Base45Decode("FGW"), std::string("\xff\xff", 2));
  EXPECT_FALSE(Base45Decode("GGW"));
  EXPECT_FALSE(Base45Decode(":::"));
  EXPECT_FALSE(Base45Decode("BB8GGW"));
}

TEST(Base45Test, RejectsTwoCharacterGroupsAbove255) {
  // "U5" = 30 + 5*45 = 255, the largest; "V5" is 256.
  EXPECT_EQ(Base45Decode("U5"), std::string("\xff", 1));
  EXPECT_FALSE(Base45Decode("V5"));
  EXPECT_FALSE(Base45Decode("::"));
  EXPECT_FALSE(Base45Decode("BB8V5"));
}

}  // namespace
}  // namespace eid::qr
