#include "services/qr/token/qr_token.h"

#include <sodium.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/qr/token/base45.h"

namespace eid::qr {
namespace {

constexpr uint32_t kKeyId = 0x0a0b0c0d;
const absl::Time kIssued = absl::FromUnixSeconds(1767225600);  // 2026-01-01

std::unique_ptr<QrSigningKey> MakeKey(char fill, uint32_t key_id = kKeyId) {
  return *QrSigningKey::FromSeed(key_id, std::string(kSeedBytes, fill));
}

QrTokenClaims Claims(size_t handle_bytes = 22, size_t device_bytes = 22) {
  QrTokenClaims c;
  c.account_handle = std::string(handle_bytes, 'h');
  c.device_id = std::string(device_bytes, 'd');
  c.nonce = std::string("0123456789abcdef");
  c.issued_at = kIssued;
  c.expires_at = kIssued + kTokenLifetime;
  return c;
}

// The text of a token with these raw bytes (body and signature).
std::string TextOf(absl::string_view bytes) {
  return absl::StrCat(kTokenPrefix, Base45Encode(bytes));
}

// The raw bytes (body and signature) of a token text.
std::string BytesOf(absl::string_view text) {
  text.remove_prefix(kTokenPrefix.size());
  return *Base45Decode(text);
}

// A token whose body is `body`, signed by `key` whatever the body says.
std::string SignedText(const QrSigningKey& key, absl::string_view body) {
  return TextOf(absl::StrCat(body, key.SignBody(body)));
}

std::optional<TokenDefect> DefectOfParsing(absl::string_view text) {
  absl::StatusOr<ParsedToken> parsed = Parse(text);
  if (parsed.ok()) return std::nullopt;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return TokenDefectOf(parsed.status());
}

class QrTokenTest : public ::testing::Test {
 protected:
  // A verifier that knows every key id as `key_`, so that only the
  // signature can tell a changed key id apart.
  TokenVerdict CheckAnyKeyId(absl::string_view text, absl::Time now) {
    const std::string& pk = key_->public_key();
    return CheckToken(
               text,
               [&](uint32_t) -> std::optional<absl::string_view> { return pk; },
               now, absl::Seconds(5))
        .verdict;
  }

  std::unique_ptr<QrSigningKey> key_ = MakeKey('k');
};

TEST_F(QrTokenTest, RoundTripsEveryField) {
  const QrTokenClaims claims = Claims();
  const std::string text = *Encode(claims, *key_);
  absl::StatusOr<ParsedToken> parsed = Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->key_id, kKeyId);
  EXPECT_EQ(parsed->claims.account_handle, claims.account_handle);
  EXPECT_EQ(parsed->claims.device_id, claims.device_id);
  EXPECT_EQ(parsed->claims.nonce, claims.nonce);
  EXPECT_EQ(parsed->claims.issued_at, claims.issued_at);
  EXPECT_EQ(parsed->claims.expires_at, claims.expires_at);
  EXPECT_EQ(parsed->body, *EncodeBody(kKeyId, claims));
  EXPECT_EQ(parsed->signature.size(), kSignatureBytes);
  EXPECT_TRUE(VerifySignature(*parsed, key_->public_key()));
}

TEST_F(QrTokenTest, RoundTripsBinaryFieldsAtTheirBounds) {
  QrTokenClaims claims = Claims(kMaxAccountHandleBytes, 1);
  claims.account_handle[0] = '\0';
  claims.account_handle[31] = '\xff';
  claims.device_id = "\x80";
  claims.nonce = std::string(kNonceBytes, '\0');
  absl::StatusOr<ParsedToken> parsed = Parse(*Encode(claims, *key_));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->claims.account_handle, claims.account_handle);
  EXPECT_EQ(parsed->claims.device_id, claims.device_id);
  EXPECT_EQ(parsed->claims.nonce, claims.nonce);
}

TEST_F(QrTokenTest, TextIsPrefixPlusBase45AndAtMost244Characters) {
  const std::string text =
      *Encode(Claims(kMaxAccountHandleBytes, kMaxDeviceIdBytes), *key_);
  EXPECT_EQ(text.substr(0, 5), "EID1:");
  EXPECT_EQ(text.size(), 244u);
  EXPECT_EQ(MaxTokenChars(), 244u);
  EXPECT_EQ(Encode(Claims(1, 1), *key_)->size(), 5 + Base45EncodedSize(97));
  EXPECT_TRUE(Base45Decode(text.substr(5)));
}

TEST_F(QrTokenTest, SameClaimsAndKeyGiveTheSameToken) {
  // Ed25519 is deterministic; single use comes from the nonce.
  EXPECT_EQ(*Encode(Claims(), *key_), *Encode(Claims(), *key_));
  QrTokenClaims other = Claims();
  other.nonce[0] ^= 1;
  EXPECT_NE(*Encode(Claims(), *key_), *Encode(other, *key_));
}

TEST_F(QrTokenTest, EncodeRejectsClaimsThatCannotBeAV1Token) {
  struct Case {
    const char* name;
    void (*change)(QrTokenClaims&);
  };
  const Case cases[] = {
      {"empty handle", [](QrTokenClaims& c) { c.account_handle.clear(); }},
      {"long handle",
       [](QrTokenClaims& c) { c.account_handle.assign(33, 'h'); }},
      {"ID number as handle",
       [](QrTokenClaims& c) { c.account_handle = "001099012345"; }},
      {"empty device", [](QrTokenClaims& c) { c.device_id.clear(); }},
      {"long device", [](QrTokenClaims& c) { c.device_id.assign(33, 'd'); }},
      {"short nonce", [](QrTokenClaims& c) { c.nonce.resize(15); }},
      {"long nonce", [](QrTokenClaims& c) { c.nonce.append("x"); }},
      {"fraction of a second",
       [](QrTokenClaims& c) { c.issued_at += absl::Milliseconds(1); }},
      {"before 1970",
       [](QrTokenClaims& c) {
         c.issued_at = absl::FromUnixSeconds(-10);
         c.expires_at = absl::FromUnixSeconds(50);
       }},
      {"after 2106",
       [](QrTokenClaims& c) {
         c.issued_at = absl::FromUnixSeconds(int64_t{1} << 32);
         c.expires_at = c.issued_at + absl::Seconds(60);
       }},
      {"empty window", [](QrTokenClaims& c) { c.expires_at = c.issued_at; }},
      {"window too long",
       [](QrTokenClaims& c) {
         c.expires_at = c.issued_at + absl::Seconds(61);
       }},
  };
  for (const Case& tc : cases) {
    QrTokenClaims claims = Claims();
    tc.change(claims);
    absl::StatusOr<std::string> text = Encode(claims, *key_);
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument)
        << tc.name;
  }
  // A 12-character handle with a letter is fine.
  QrTokenClaims claims = Claims();
  claims.account_handle = "00109901234a";
  EXPECT_TRUE(Encode(claims, *key_).ok());
}

TEST_F(QrTokenTest, SigningKeyNeedsA32ByteSeed) {
  EXPECT_EQ(QrSigningKey::FromSeed(1, std::string(31, 's')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QrSigningKey::FromSeed(1, std::string(33, 's')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeKey('k')->public_key(), key_->public_key());
  EXPECT_NE(MakeKey('j')->public_key(), key_->public_key());
  EXPECT_EQ(key_->public_key().size(), kPublicKeyBytes);
}

TEST_F(QrTokenTest, EverySingleBitFlipOfTheTextIsForgedOrMalformed) {
  const std::string text = *Encode(Claims(), *key_);
  ASSERT_EQ(CheckAnyKeyId(text, kIssued), TokenVerdict::kValid);
  int forged = 0, malformed = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = text;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      const TokenVerdict v = CheckAnyKeyId(flipped, kIssued);
      ASSERT_TRUE(v == TokenVerdict::kForged || v == TokenVerdict::kMalformed)
          << "char " << i << " bit " << bit << ": " << TokenVerdictName(v);
      (v == TokenVerdict::kForged ? forged : malformed)++;
    }
  }
  // Both kinds happen: some flips stay in the alphabet and decode.
  EXPECT_GT(forged, 0);
  EXPECT_GT(malformed, 0);
}

TEST_F(QrTokenTest, EverySingleBitFlipOfTheBytesIsForgedOrMalformed) {
  // Flips that a well-formed Base45 text carries into the signed bytes:
  // the signature must cover every bit.
  const std::string bytes = BytesOf(*Encode(Claims(), *key_));
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      const TokenVerdict v = CheckAnyKeyId(TextOf(flipped), kIssued);
      ASSERT_TRUE(v == TokenVerdict::kForged || v == TokenVerdict::kMalformed)
          << "byte " << i << " bit " << bit << ": " << TokenVerdictName(v);
    }
  }
}

TEST_F(QrTokenTest, EveryTruncationIsMalformed) {
  const std::string text =
      *Encode(Claims(kMaxAccountHandleBytes, kMaxDeviceIdBytes), *key_);
  for (size_t n = 0; n < text.size(); ++n) {
    EXPECT_TRUE(DefectOfParsing(text.substr(0, n)).has_value()) << n;
  }
  // Cut at every byte, the text still strict Base45: always TRUNCATED.
  const std::string bytes = BytesOf(text);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DefectOfParsing(TextOf(bytes.substr(0, n))),
              TokenDefect::kTruncated)
        << n;
  }
}

TEST_F(QrTokenTest, RejectsTrailingBytesAndCharacters) {
  const std::string text = *Encode(Claims(), *key_);
  EXPECT_EQ(DefectOfParsing(TextOf(BytesOf(text) + "x")),
            TokenDefect::kTrailingBytes);
  EXPECT_EQ(DefectOfParsing(TextOf(BytesOf(text) + "xy")),
            TokenDefect::kTrailingBytes);
  EXPECT_TRUE(DefectOfParsing(text + "0").has_value());
  EXPECT_TRUE(DefectOfParsing(text + "\n").has_value());
  EXPECT_TRUE(DefectOfParsing(text + " ").has_value());
}

TEST_F(QrTokenTest, RejectsAWrongPrefix) {
  const std::string rest = Encode(Claims(), *key_)->substr(kTokenPrefix.size());
  for (const std::string& prefix :
       {std::string(""), std::string("EID1"), std::string("eid1:"),
        std::string("EID2:"), std::string(" EID1:"), std::string("EID:")}) {
    EXPECT_EQ(DefectOfParsing(prefix + rest), TokenDefect::kBadPrefix)
        << prefix;
  }
  EXPECT_EQ(DefectOfParsing(""), TokenDefect::kBadPrefix);
  EXPECT_EQ(DefectOfParsing("EID"), TokenDefect::kBadPrefix);
}

TEST_F(QrTokenTest, RejectsOverlongTextBeforeDecodingIt) {
  EXPECT_EQ(DefectOfParsing(
                absl::StrCat(kTokenPrefix, std::string(MaxTokenChars(), '0'))),
            TokenDefect::kTooLong);
  EXPECT_EQ(
      DefectOfParsing(absl::StrCat(kTokenPrefix, std::string(1 << 20, 'Z'))),
      TokenDefect::kTooLong);
}

TEST_F(QrTokenTest, RejectsTextThatIsNotStrictBase45) {
  EXPECT_EQ(DefectOfParsing("EID1:bb8"), TokenDefect::kBadBase45);
  EXPECT_EQ(DefectOfParsing("EID1:GGW"), TokenDefect::kBadBase45);
  EXPECT_EQ(DefectOfParsing("EID1:BB8A"), TokenDefect::kBadBase45);
  EXPECT_EQ(DefectOfParsing("EID1:"), TokenDefect::kTruncated);
}

TEST_F(QrTokenTest, RejectsOtherVersionsEvenWhenSigned) {
  std::string body = *EncodeBody(kKeyId, Claims());
  for (int version : {0, 2, 0xff}) {
    body[0] = static_cast<char>(version);
    EXPECT_EQ(DefectOfParsing(SignedText(*key_, body)),
              TokenDefect::kUnknownVersion)
        << version;
  }
}

TEST_F(QrTokenTest, RejectsFieldLengthsOutOfBoundsEvenWhenSigned) {
  const std::string good = *EncodeBody(kKeyId, Claims(3, 3));
  // Layout: version(1) key_id(4) len(1)=3 "hhh" len(1)=3 "ddd" ...
  ASSERT_EQ(good[5], 3);
  ASSERT_EQ(good[9], 3);
  for (int len : {0, 33, 0xff}) {
    std::string body = good;
    body[5] = static_cast<char>(len);
    EXPECT_EQ(DefectOfParsing(SignedText(*key_, body)),
              TokenDefect::kBadHandleLength)
        << len;
    body = good;
    body[9] = static_cast<char>(len);
    EXPECT_EQ(DefectOfParsing(SignedText(*key_, body)),
              TokenDefect::kBadDeviceIdLength)
        << len;
  }
}

TEST_F(QrTokenTest, RejectsImpossibleValidityEvenWhenSigned) {
  const std::string good = *EncodeBody(kKeyId, Claims());
  const size_t expires_at = good.size() - 4;
  auto with_expiry = [&](uint32_t seconds) {
    std::string body = good;
    for (int i = 0; i < 4; ++i) {
      body[expires_at + i] = static_cast<char>(seconds >> (24 - 8 * i));
    }
    return DefectOfParsing(SignedText(*key_, body));
  };
  const uint32_t issued = static_cast<uint32_t>(absl::ToUnixSeconds(kIssued));
  EXPECT_EQ(with_expiry(issued + 60), std::nullopt);
  EXPECT_EQ(with_expiry(issued + 1), std::nullopt);
  EXPECT_EQ(with_expiry(issued + 61), TokenDefect::kBadValidity);
  EXPECT_EQ(with_expiry(issued), TokenDefect::kBadValidity);
  EXPECT_EQ(with_expiry(issued - 1), TokenDefect::kBadValidity);
  EXPECT_EQ(with_expiry(0xffffffff), TokenDefect::kBadValidity);
}

TEST_F(QrTokenTest, DefectIsNamedInTheMessageAndCarriedByTheStatus) {
  absl::StatusOr<ParsedToken> parsed = Parse("EID1:GGW");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().substr(0, 11), "BAD_BASE45:");
  EXPECT_EQ(TokenDefectOf(parsed.status()), TokenDefect::kBadBase45);
  EXPECT_EQ(TokenDefectOf(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(TokenDefectOf(absl::InvalidArgumentError("BAD_BASE45")),
            std::nullopt);
}

TEST_F(QrTokenTest, AnotherKeyMakesItForged) {
  const std::string text = *Encode(Claims(), *key_);
  const std::unique_ptr<QrSigningKey> other = MakeKey('o');
  absl::StatusOr<ParsedToken> parsed = Parse(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(VerifySignature(*parsed, other->public_key()));
  EXPECT_FALSE(VerifySignature(*parsed, ""));
  EXPECT_FALSE(VerifySignature(*parsed, key_->public_key().substr(1)));
  EXPECT_FALSE(VerifySignature(*parsed, std::string(kPublicKeyBytes, '\0')));

  // Same key id, other key: what a verifier sees of a forger.
  const std::string forged =
      *Encode(Claims(), *MakeKey('f', /*key_id=*/kKeyId));
  EXPECT_EQ(CheckAnyKeyId(forged, kIssued), TokenVerdict::kForged);
}

TEST_F(QrTokenTest, SignatureWithoutTheContextPrefixIsForged) {
  const std::string body = *EncodeBody(kKeyId, Claims());
  // libsodium's secret key for the same seed, signing the bare body.
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  const std::string seed(kSeedBytes, 'k');
  crypto_sign_seed_keypair(pk, sk,
                           reinterpret_cast<const unsigned char*>(seed.data()));
  std::string signature(kSignatureBytes, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(&signature[0]), nullptr,
                       reinterpret_cast<const unsigned char*>(body.data()),
                       body.size(), sk);
  EXPECT_EQ(CheckAnyKeyId(TextOf(body + signature), kIssued),
            TokenVerdict::kForged);
  EXPECT_EQ(CheckAnyKeyId(SignedText(*key_, body), kIssued),
            TokenVerdict::kValid);
}

TEST_F(QrTokenTest, TimeWindowWithoutSkewIsHalfOpen) {
  const ParsedToken token = *Parse(*Encode(Claims(), *key_));
  const absl::Duration none = absl::ZeroDuration();
  EXPECT_EQ(CheckTimeWindow(token, kIssued - absl::Nanoseconds(1), none),
            TokenVerdict::kNotYetValid);
  EXPECT_EQ(CheckTimeWindow(token, kIssued, none), TokenVerdict::kValid);
  EXPECT_EQ(
      CheckTimeWindow(token, kIssued + absl::Seconds(60) - absl::Nanoseconds(1),
                      none),
      TokenVerdict::kValid);
  EXPECT_EQ(CheckTimeWindow(token, kIssued + absl::Seconds(60), none),
            TokenVerdict::kExpired);
  EXPECT_EQ(CheckTimeWindow(token, kIssued + absl::Seconds(61), none),
            TokenVerdict::kExpired);
}

TEST_F(QrTokenTest, TimeWindowWidensBySkewOnBothSides) {
  const ParsedToken token = *Parse(*Encode(Claims(), *key_));
  const absl::Duration skew = absl::Seconds(5);
  EXPECT_EQ(CheckTimeWindow(token, kIssued - skew - absl::Nanoseconds(1), skew),
            TokenVerdict::kNotYetValid);
  EXPECT_EQ(CheckTimeWindow(token, kIssued - skew, skew), TokenVerdict::kValid);
  EXPECT_EQ(
      CheckTimeWindow(token, kIssued + absl::Seconds(65) - absl::Nanoseconds(1),
                      skew),
      TokenVerdict::kValid);
  EXPECT_EQ(CheckTimeWindow(token, kIssued + absl::Seconds(65), skew),
            TokenVerdict::kExpired);
  EXPECT_EQ(CheckTimeWindow(token, kIssued + absl::Hours(24), skew),
            TokenVerdict::kExpired);
  EXPECT_EQ(CheckTimeWindow(token, kIssued - absl::Hours(24), skew),
            TokenVerdict::kNotYetValid);
}

TEST_F(QrTokenTest, CheckTokenAppliesTheChecksInVerifyQrsOrder) {
  const std::string text = *Encode(Claims(), *key_);
  const std::string& pk = key_->public_key();
  const std::string wrong = MakeKey('w')->public_key();
  auto known_only = [&](uint32_t id) -> std::optional<absl::string_view> {
    if (id == kKeyId) return pk;
    return std::nullopt;
  };
  auto wrong_key = [&](uint32_t) -> std::optional<absl::string_view> {
    return wrong;
  };
  auto nothing = [](uint32_t) -> std::optional<absl::string_view> {
    return std::nullopt;
  };
  const absl::Duration skew = absl::Seconds(2);
  const absl::Time late = kIssued + absl::Minutes(5);

  TokenCheck c = CheckToken("EID1:GGW", known_only, kIssued, skew);
  EXPECT_EQ(c.verdict, TokenVerdict::kMalformed);
  EXPECT_EQ(c.defect, TokenDefect::kBadBase45);
  EXPECT_FALSE(c.token.has_value());

  // Unknown key wins over a bad signature and a stale time.
  c = CheckToken(text, nothing, late, skew);
  EXPECT_EQ(c.verdict, TokenVerdict::kUnknownKey);
  ASSERT_TRUE(c.token.has_value());
  EXPECT_EQ(c.token->key_id, kKeyId);
  // A bad signature wins over a stale time.
  EXPECT_EQ(CheckToken(text, wrong_key, late, skew).verdict,
            TokenVerdict::kForged);
  EXPECT_EQ(CheckToken(text, known_only, late, skew).verdict,
            TokenVerdict::kExpired);
  EXPECT_EQ(
      CheckToken(text, known_only, kIssued - absl::Minutes(1), skew).verdict,
      TokenVerdict::kNotYetValid);
  c = CheckToken(text, known_only, kIssued + absl::Seconds(30), skew);
  EXPECT_EQ(c.verdict, TokenVerdict::kValid);
  EXPECT_FALSE(c.defect.has_value());
  EXPECT_EQ(c.token->claims.account_handle, Claims().account_handle);
}

TEST(TokenNamesTest, AreStable) {
  EXPECT_EQ(TokenVerdictName(TokenVerdict::kNotYetValid), "NOT_YET_VALID");
  EXPECT_EQ(TokenVerdictName(TokenVerdict::kUnknownKey), "UNKNOWN_KEY");
  EXPECT_EQ(TokenDefectName(TokenDefect::kBadDeviceIdLength),
            "BAD_DEVICE_ID_LENGTH");
  EXPECT_EQ(TokenDefectName(TokenDefect::kTrailingBytes), "TRAILING_BYTES");
}

}  // namespace
}  // namespace eid::qr
