// libFuzzer target for the token parser (tools/fuzz/qr_token_fuzz.sh), also
// linked into qr_token_fuzzer_replay_test, which runs the seed corpus
// through it under Bazel.
//
// Feeds the input, as token text, to Base45Decode, Parse, VerifySignature,
// CheckTimeWindow and CheckToken, and aborts when an invariant breaks:
//   - strict Base45 is canonical: what decodes re-encodes to the same text;
//   - Parse is canonical: an accepted token is exactly the prefix plus the
//     Base45 of EncodeBody(its fields) and its signature;
//   - a rejection always carries a TokenDefect;
//   - CheckToken agrees with Parse.
// Sanitizers catch reads past the end and other memory errors.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/qr/token/base45.h"
#include "services/qr/token/qr_token.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "qr_token_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

// The public key of the seed corpus's signing key (seed of 32 'k' bytes),
// so that valid seeds get past the signature.
const std::string& SeedPublicKey() {
  static const std::string* pk = [] {
    auto key = eid::qr::QrSigningKey::FromSeed(1, std::string(32, 'k'));
    return new std::string((*key)->public_key());
  }();
  return *pk;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eid::qr;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  if (std::optional<std::string> bytes = Base45Decode(text)) {
    Check(Base45Encode(*bytes) == text, "Base45 round trip");
  }

  absl::StatusOr<ParsedToken> parsed = Parse(text);
  const std::string& pk = SeedPublicKey();
  TokenCheck check = CheckToken(
      text, [&](uint32_t) -> std::optional<absl::string_view> { return pk; },
      absl::FromUnixSeconds(1767225600), absl::Seconds(5));
  if (!parsed.ok()) {
    Check(TokenDefectOf(parsed.status()).has_value(), "rejection has a defect");
    Check(check.verdict == TokenVerdict::kMalformed, "CheckToken malformed");
    Check(check.defect == TokenDefectOf(parsed.status()), "same defect");
    return 0;
  }
  Check(check.verdict != TokenVerdict::kMalformed, "CheckToken parses");
  Check(text.size() <= MaxTokenChars(), "length bound");
  absl::StatusOr<std::string> body = EncodeBody(parsed->key_id, parsed->claims);
  Check(body.ok(), "parsed claims re-encode");
  Check(*body == parsed->body, "body is canonical");
  Check(absl::StrCat(kTokenPrefix, Base45Encode(absl::StrCat(
                                       *body, parsed->signature))) == text,
        "token is canonical");
  const bool signed_by_seed_key = VerifySignature(*parsed, pk);
  Check(signed_by_seed_key == (check.verdict != TokenVerdict::kForged),
        "CheckToken signature");
  CheckTimeWindow(*parsed, absl::FromUnixSeconds(0), absl::ZeroDuration());
  CheckTimeWindow(*parsed, absl::InfiniteFuture(), absl::Seconds(5));
  return 0;
}
