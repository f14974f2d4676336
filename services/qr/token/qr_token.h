// QR token format v1 (docs/qr-token.md): the signed, one-minute identity
// token the citizen's app shows as a QR code.
//
//   "EID1:" Base45( body | Ed25519 signature )
//   body = version(1)=1 | key_id(4) | handle_len(1) handle | device_len(1)
//          device_id | nonce(16) | issued_at(4) | expires_at(4)
//
// Integers are big-endian; times are Unix seconds (unsigned 32-bit). The
// signature covers kSigningContext followed by the body.
//
// A verifier checks, in this order, each failure with its own verdict
// (verification.proto): Parse (MALFORMED) -> the key id is one it knows
// (UNKNOWN_KEY) -> VerifySignature (FORGED) -> CheckTimeWindow (EXPIRED,
// NOT_YET_VALID). CheckToken runs all four.
//
// Pure functions and immutable keys: everything here is thread-safe.
#ifndef EID_SERVICES_QR_TOKEN_QR_TOKEN_H_
#define EID_SERVICES_QR_TOKEN_QR_TOKEN_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace eid::qr {

// The text every v1 token starts with (QR alphanumeric characters only).
inline constexpr absl::string_view kTokenPrefix = "EID1:";
// The body's first byte.
inline constexpr uint8_t kTokenVersion = 1;
// Bounds of the two length-prefixed fields, in bytes (both at least 1).
inline constexpr size_t kMaxAccountHandleBytes = 32;
inline constexpr size_t kMaxDeviceIdBytes = 32;
inline constexpr size_t kNonceBytes = 16;
inline constexpr size_t kSignatureBytes = 64;  // Ed25519
inline constexpr size_t kPublicKeyBytes = 32;  // Ed25519, raw (RFC 8032)
inline constexpr size_t kSeedBytes = 32;       // Ed25519 seed
// How long a token is valid; v1 tokens are never valid for longer.
inline constexpr absl::Duration kTokenLifetime = absl::Seconds(60);
// Signed before the body, so no other eid signature can pass for a token.
inline constexpr absl::string_view kSigningContext = "eid.v1/qr-token\n";
// The longest token text (both variable fields at their bound): 244.
size_t MaxTokenChars();

// What a token says. Times are whole seconds (Encode rejects fractions).
struct QrTokenClaims {
  // The opaque account handle (account_id); never the ID number.
  std::string account_handle;
  // The device the token was made for (the session's device).
  std::string device_id;
  // kNonceBytes random bytes: what the replay guard remembers.
  std::string nonce;
  absl::Time issued_at;
  // issued_at + kTokenLifetime when issued by the QR service.
  absl::Time expires_at;
};

// A token that Parse accepted: well formed, not yet checked against a key.
struct ParsedToken {
  uint32_t key_id = 0;
  QrTokenClaims claims;
  // The body as it appeared in the token (what the signature covers, after
  // kSigningContext).
  std::string body;
  std::string signature;  // kSignatureBytes
};

// An Ed25519 signing key of the QR service, with its key id. Immutable;
// the secret half is wiped on destruction.
class QrSigningKey {
 public:
  // From a kSeedBytes seed. INVALID_ARGUMENT if the seed is another size;
  // INTERNAL if libsodium cannot start.
  static absl::StatusOr<std::unique_ptr<QrSigningKey>> FromSeed(
      uint32_t key_id, absl::string_view seed);
  ~QrSigningKey();
  QrSigningKey(const QrSigningKey&) = delete;
  QrSigningKey& operator=(const QrSigningKey&) = delete;

  uint32_t key_id() const { return key_id_; }
  // The raw kPublicKeyBytes public key (VerificationKey.public_key).
  const std::string& public_key() const { return public_key_; }
  // The detached signature of kSigningContext + `body`.
  std::string SignBody(absl::string_view body) const;

 private:
  QrSigningKey() = default;
  uint32_t key_id_ = 0;
  std::string public_key_;
  std::string secret_key_;  // libsodium's 64-byte secret key.
};

// The body (unsigned) of a token with these fields. INVALID_ARGUMENT if the
// claims cannot be a v1 token: a handle or device id empty or over its bound,
// a nonce not kNonceBytes, a time with a fraction of a second or outside
// [0, 2^32) Unix seconds, or expires_at not after issued_at or more than
// kTokenLifetime after it. For every token Parse accepts,
// EncodeBody(token.key_id, token.claims) == token.body.
absl::StatusOr<std::string> EncodeBody(uint32_t key_id,
                                       const QrTokenClaims& claims);

// The token text: prefix + Base45(body + signature), signed by `key` under
// its key id. Errors as EncodeBody, and INVALID_ARGUMENT for a handle of
// exactly 12 ASCII digits (an ID number, which a token must never carry).
absl::StatusOr<std::string> Encode(const QrTokenClaims& claims,
                                   const QrSigningKey& key);

// Why Parse rejected a text. Every one is the MALFORMED verdict; the names
// are stable (logs, metrics, docs/qr-token.md).
enum class TokenDefect {
  kBadPrefix,          // does not start with kTokenPrefix
  kTooLong,            // more than MaxTokenChars() characters
  kBadBase45,          // not strict Base45 after the prefix
  kUnknownVersion,     // first body byte is not kTokenVersion
  kTruncated,          // the bytes end inside a field or the signature
  kBadHandleLength,    // account handle length 0 or over its bound
  kBadDeviceIdLength,  // device id length 0 or over its bound
  kBadValidity,        // expires_at not after issued_at, or over the lifetime
  kTrailingBytes,      // bytes after the signature
};

// "BAD_PREFIX", "TOO_LONG", ... (the enumerator without the k, upper case).
absl::string_view TokenDefectName(TokenDefect defect);

// The fields of `text`, checked for form only (no key, no clock).
// INVALID_ARGUMENT otherwise, whose message starts with the defect's name
// and which carries it for TokenDefectOf. Never reads outside `text`, never
// allocates more than a few times its length, never aborts.
absl::StatusOr<ParsedToken> Parse(absl::string_view text);

// The defect a status returned by Parse carries; nullopt for any other.
std::optional<TokenDefect> TokenDefectOf(const absl::Status& status);

// True iff `token`'s signature verifies under `public_key` (raw,
// kPublicKeyBytes; any other size is false).
bool VerifySignature(const ParsedToken& token, absl::string_view public_key);

// The outcomes of the checks, named as verification.proto's Verdict (this
// library does not depend on the protos).
enum class TokenVerdict {
  kValid,  // every check here passed (replay and account checks remain)
  kMalformed,
  kUnknownKey,
  kForged,
  kExpired,
  kNotYetValid,
};
absl::string_view TokenVerdictName(TokenVerdict verdict);

// Whether `now` lies in the token's window widened by `skew` on both sides:
// kNotYetValid if now < issued_at - skew, kExpired if
// now >= expires_at + skew, kValid otherwise.
TokenVerdict CheckTimeWindow(const ParsedToken& token, absl::Time now,
                             absl::Duration skew);

// Where CheckToken finds public keys: the raw public key for a key id
// valid now, or nullopt for an unknown one. The view must stay valid until
// CheckToken returns.
using PublicKeyLookup =
    absl::FunctionRef<std::optional<absl::string_view>(uint32_t key_id)>;

struct TokenCheck {
  TokenVerdict verdict = TokenVerdict::kMalformed;
  // Set unless kMalformed.
  std::optional<ParsedToken> token;
  // Set when kMalformed.
  std::optional<TokenDefect> defect;
};

// All four checks in order: Parse, the key id's lookup, VerifySignature,
// CheckTimeWindow; stops at the first that fails.
TokenCheck CheckToken(absl::string_view text, PublicKeyLookup public_key_for,
                      absl::Time now, absl::Duration skew);

}  // namespace eid::qr

#endif  // EID_SERVICES_QR_TOKEN_QR_TOKEN_H_
