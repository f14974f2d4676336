#include "services/qr/token/qr_token.h"

#include <sodium.h>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "services/common/sodium.h"
#include "services/qr/token/base45.h"

namespace eid::qr {
namespace {

// Fixed-size parts of the body: version, key id, the two length bytes,
// nonce, two times.
constexpr size_t kFixedBodyBytes = 1 + 4 + 1 + 1 + kNonceBytes + 4 + 4;
constexpr size_t kMaxTokenBytes = kFixedBodyBytes + kMaxAccountHandleBytes +
                                  kMaxDeviceIdBytes + kSignatureBytes;

// The status payload that carries a TokenDefect's name.
constexpr char kDefectPayloadUrl[] = "type.eid/eid.qr.TokenDefect";

constexpr TokenDefect kAllDefects[] = {
    TokenDefect::kBadPrefix,         TokenDefect::kTooLong,
    TokenDefect::kBadBase45,         TokenDefect::kUnknownVersion,
    TokenDefect::kTruncated,         TokenDefect::kBadHandleLength,
    TokenDefect::kBadDeviceIdLength, TokenDefect::kBadValidity,
    TokenDefect::kTrailingBytes,
};

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

void PutUint32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

// Unix seconds of `t` if it is a whole second in [0, 2^32).
std::optional<uint32_t> WholeSeconds(absl::Time t) {
  if (t < absl::UnixEpoch() || t >= absl::FromUnixSeconds(int64_t{1} << 32)) {
    return std::nullopt;
  }
  const int64_t s = absl::ToUnixSeconds(t);
  if (absl::FromUnixSeconds(s) != t) return std::nullopt;
  return static_cast<uint32_t>(s);
}

// The window rule shared by EncodeBody and Parse.
bool ValidityOk(uint32_t issued_at, uint32_t expires_at) {
  return expires_at > issued_at &&
         absl::Seconds(expires_at - issued_at) <= kTokenLifetime;
}

absl::Status Defect(TokenDefect defect, absl::string_view detail) {
  absl::Status status = absl::InvalidArgumentError(
      absl::StrCat(TokenDefectName(defect), ": ", detail));
  status.SetPayload(kDefectPayloadUrl, absl::Cord(TokenDefectName(defect)));
  return status;
}

// Reads the body front to back; every read checks the bytes left first.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : rest_(bytes) {}

  bool Byte(uint8_t* out) {
    if (rest_.empty()) return false;
    *out = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return true;
  }
  bool Uint32(uint32_t* out) {
    if (rest_.size() < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(rest_[i]);
    rest_.remove_prefix(4);
    *out = v;
    return true;
  }
  bool Take(size_t n, std::string* out) {
    if (rest_.size() < n) return false;
    out->assign(rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }
  size_t left() const { return rest_.size(); }

 private:
  absl::string_view rest_;
};

}  // namespace

size_t MaxTokenChars() {
  return kTokenPrefix.size() + Base45EncodedSize(kMaxTokenBytes);
}

absl::StatusOr<std::unique_ptr<QrSigningKey>> QrSigningKey::FromSeed(
    uint32_t key_id, absl::string_view seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 seed is ", crypto_sign_SEEDBYTES, " bytes"));
  }
  if (!SodiumReady()) return absl::InternalError("libsodium failed to start");
  std::unique_ptr<QrSigningKey> key(new QrSigningKey());
  key->key_id_ = key_id;
  key->public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  key->secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(
      reinterpret_cast<unsigned char*>(&key->public_key_[0]),
      reinterpret_cast<unsigned char*>(&key->secret_key_[0]), Bytes(seed));
  return key;
}

QrSigningKey::~QrSigningKey() {
  if (!secret_key_.empty()) sodium_memzero(&secret_key_[0], secret_key_.size());
}

std::string QrSigningKey::SignBody(absl::string_view body) const {
  const std::string message = absl::StrCat(kSigningContext, body);
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(&signature[0]), nullptr,
                       Bytes(message), message.size(), Bytes(secret_key_));
  return signature;
}

absl::StatusOr<std::string> EncodeBody(uint32_t key_id,
                                       const QrTokenClaims& claims) {
  const QrTokenClaims& c = claims;
  if (c.account_handle.empty() ||
      c.account_handle.size() > kMaxAccountHandleBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "account handle must be 1 to ", kMaxAccountHandleBytes, " bytes"));
  }
  if (c.device_id.empty() || c.device_id.size() > kMaxDeviceIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("device id must be 1 to ", kMaxDeviceIdBytes, " bytes"));
  }
  if (c.nonce.size() != kNonceBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("nonce must be ", kNonceBytes, " bytes"));
  }
  const std::optional<uint32_t> issued = WholeSeconds(c.issued_at);
  const std::optional<uint32_t> expires = WholeSeconds(c.expires_at);
  if (!issued || !expires) {
    return absl::InvalidArgumentError(
        "issued_at and expires_at must be whole Unix seconds below 2^32");
  }
  if (!ValidityOk(*issued, *expires)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expires_at must be after issued_at, by at most ",
                     absl::FormatDuration(kTokenLifetime)));
  }
  std::string body;
  body.reserve(kFixedBodyBytes + c.account_handle.size() + c.device_id.size());
  body.push_back(static_cast<char>(kTokenVersion));
  PutUint32(key_id, &body);
  body.push_back(static_cast<char>(c.account_handle.size()));
  body.append(c.account_handle);
  body.push_back(static_cast<char>(c.device_id.size()));
  body.append(c.device_id);
  body.append(c.nonce);
  PutUint32(*issued, &body);
  PutUint32(*expires, &body);
  return body;
}

absl::StatusOr<std::string> Encode(const QrTokenClaims& claims,
                                   const QrSigningKey& key) {
  const std::string& handle = claims.account_handle;
  if (handle.size() == 12 &&
      handle.find_first_not_of("0123456789") == std::string::npos) {
    return absl::InvalidArgumentError(
        "account handle looks like an ID number; tokens carry the opaque "
        "handle");
  }
  absl::StatusOr<std::string> body = EncodeBody(key.key_id(), claims);
  if (!body.ok()) return body.status();
  const std::string signature = key.SignBody(*body);
  return absl::StrCat(kTokenPrefix,
                      Base45Encode(absl::StrCat(*body, signature)));
}

absl::string_view TokenDefectName(TokenDefect defect) {
  switch (defect) {
    case TokenDefect::kBadPrefix:
      return "BAD_PREFIX";
    case TokenDefect::kTooLong:
      return "TOO_LONG";
    case TokenDefect::kBadBase45:
      return "BAD_BASE45";
    case TokenDefect::kUnknownVersion:
      return "UNKNOWN_VERSION";
    case TokenDefect::kTruncated:
      return "TRUNCATED";
    case TokenDefect::kBadHandleLength:
      return "BAD_HANDLE_LENGTH";
    case TokenDefect::kBadDeviceIdLength:
      return "BAD_DEVICE_ID_LENGTH";
    case TokenDefect::kBadValidity:
      return "BAD_VALIDITY";
    case TokenDefect::kTrailingBytes:
      return "TRAILING_BYTES";
  }
  return "UNKNOWN_DEFECT";
}

std::optional<TokenDefect> TokenDefectOf(const absl::Status& status) {
  const absl::optional<absl::Cord> name = status.GetPayload(kDefectPayloadUrl);
  if (!name) return std::nullopt;
  for (TokenDefect d : kAllDefects) {
    if (*name == TokenDefectName(d)) return d;
  }
  return std::nullopt;
}

absl::StatusOr<ParsedToken> Parse(absl::string_view text) {
  if (text.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return Defect(TokenDefect::kBadPrefix,
                  absl::StrCat("a token starts with \"", kTokenPrefix, "\""));
  }
  if (text.size() > MaxTokenChars()) {
    return Defect(
        TokenDefect::kTooLong,
        absl::StrCat(text.size(), " characters; at most ", MaxTokenChars()));
  }
  text.remove_prefix(kTokenPrefix.size());
  std::optional<std::string> bytes = Base45Decode(text);
  if (!bytes) return Defect(TokenDefect::kBadBase45, "not strict Base45");

  ParsedToken token;
  Reader r(*bytes);
  uint8_t version = 0;
  if (!r.Byte(&version)) return Defect(TokenDefect::kTruncated, "no version");
  if (version != kTokenVersion) {
    return Defect(TokenDefect::kUnknownVersion,
                  absl::StrCat("version ", version, "; this parser reads ",
                               kTokenVersion));
  }
  if (!r.Uint32(&token.key_id)) {
    return Defect(TokenDefect::kTruncated, "ends in the key id");
  }
  uint8_t handle_len = 0;
  if (!r.Byte(&handle_len)) {
    return Defect(TokenDefect::kTruncated, "ends before the account handle");
  }
  if (handle_len == 0 || handle_len > kMaxAccountHandleBytes) {
    return Defect(TokenDefect::kBadHandleLength,
                  absl::StrCat("account handle of ", handle_len, " bytes"));
  }
  if (!r.Take(handle_len, &token.claims.account_handle)) {
    return Defect(TokenDefect::kTruncated, "ends in the account handle");
  }
  uint8_t device_len = 0;
  if (!r.Byte(&device_len)) {
    return Defect(TokenDefect::kTruncated, "ends before the device id");
  }
  if (device_len == 0 || device_len > kMaxDeviceIdBytes) {
    return Defect(TokenDefect::kBadDeviceIdLength,
                  absl::StrCat("device id of ", device_len, " bytes"));
  }
  if (!r.Take(device_len, &token.claims.device_id)) {
    return Defect(TokenDefect::kTruncated, "ends in the device id");
  }
  if (!r.Take(kNonceBytes, &token.claims.nonce)) {
    return Defect(TokenDefect::kTruncated, "ends in the nonce");
  }
  uint32_t issued_at = 0, expires_at = 0;
  if (!r.Uint32(&issued_at) || !r.Uint32(&expires_at)) {
    return Defect(TokenDefect::kTruncated, "ends in the times");
  }
  const size_t body_size = bytes->size() - r.left();
  if (!r.Take(kSignatureBytes, &token.signature)) {
    return Defect(TokenDefect::kTruncated, "ends in the signature");
  }
  if (r.left() != 0) {
    return Defect(TokenDefect::kTrailingBytes,
                  absl::StrCat(r.left(), " bytes after the signature"));
  }
  // Checked last: a truncated token is reported as truncated even when its
  // times happen to be odd.
  if (!ValidityOk(issued_at, expires_at)) {
    return Defect(
        TokenDefect::kBadValidity,
        absl::StrCat("issued at ", issued_at, ", expires at ", expires_at));
  }
  token.claims.issued_at = absl::FromUnixSeconds(issued_at);
  token.claims.expires_at = absl::FromUnixSeconds(expires_at);
  bytes->resize(body_size);
  token.body = std::move(*bytes);
  return token;
}

bool VerifySignature(const ParsedToken& token, absl::string_view public_key) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES ||
      token.signature.size() != crypto_sign_BYTES) {
    return false;
  }
  if (!SodiumReady()) return false;
  const std::string message = absl::StrCat(kSigningContext, token.body);
  return crypto_sign_verify_detached(Bytes(token.signature), Bytes(message),
                                     message.size(), Bytes(public_key)) == 0;
}

absl::string_view TokenVerdictName(TokenVerdict verdict) {
  switch (verdict) {
    case TokenVerdict::kValid:
      return "VALID";
    case TokenVerdict::kMalformed:
      return "MALFORMED";
    case TokenVerdict::kUnknownKey:
      return "UNKNOWN_KEY";
    case TokenVerdict::kForged:
      return "FORGED";
    case TokenVerdict::kExpired:
      return "EXPIRED";
    case TokenVerdict::kNotYetValid:
      return "NOT_YET_VALID";
  }
  return "UNKNOWN_VERDICT";
}

TokenVerdict CheckTimeWindow(const ParsedToken& token, absl::Time now,
                             absl::Duration skew) {
  if (now < token.claims.issued_at - skew) return TokenVerdict::kNotYetValid;
  if (now >= token.claims.expires_at + skew) return TokenVerdict::kExpired;
  return TokenVerdict::kValid;
}

TokenCheck CheckToken(absl::string_view text, PublicKeyLookup public_key_for,
                      absl::Time now, absl::Duration skew) {
  TokenCheck check;
  absl::StatusOr<ParsedToken> parsed = Parse(text);
  if (!parsed.ok()) {
    check.verdict = TokenVerdict::kMalformed;
    check.defect = TokenDefectOf(parsed.status());
    return check;
  }
  check.token = std::move(*parsed);
  const std::optional<absl::string_view> key =
      public_key_for(check.token->key_id);
  if (!key) {
    check.verdict = TokenVerdict::kUnknownKey;
  } else if (!VerifySignature(*check.token, *key)) {
    check.verdict = TokenVerdict::kForged;
  } else {
    check.verdict = CheckTimeWindow(*check.token, now, skew);
  }
  return check;
}

}  // namespace eid::qr
