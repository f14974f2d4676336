#include "tools/eidctl/qr.h"

#include <cstdio>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "eid/v1/qr.grpc.pb.h"
#include "services/common/proto_time.h"
#include "services/qr/token/qr_render.h"
#include "services/qr/token/qr_token.h"

namespace eid::ctl {
namespace {

constexpr absl::Duration kOfflineSkew = absl::Seconds(1);  // As VerifyQr.

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

absl::StatusOr<v1::GetVerificationKeysResponse> FetchKeys(const CommandContext& ctx) {
  auto stub = v1::QrService::NewStub(ctx.channel);
  v1::GetVerificationKeysResponse keys;
  const grpc::Status status = stub->GetVerificationKeys(
      ctx.NewCall().get(), v1::GetVerificationKeysRequest(), &keys);
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  return keys;
}

int Keys(const CommandContext& ctx) {
  absl::StatusOr<v1::GetVerificationKeysResponse> keys = FetchKeys(ctx);
  if (!keys.ok()) {
    std::fprintf(stderr, "eidctl: %s: %s\n", ctx.server.c_str(),
                 std::string(keys.status().message()).c_str());
    return 1;
  }
  if (ctx.json) {
    std::printf("[");
    for (int i = 0; i < keys->keys_size(); ++i) {
      const v1::VerificationKey& k = keys->keys(i);
      std::printf("%s{\"key_id\":%u,\"public_key\":%s,\"not_after\":%s}", i ? "," : "",
                  k.key_id(), JsonString(absl::Base64Escape(k.public_key())).c_str(),
                  JsonString(TimeText(FromProtoTime(k.not_after()))).c_str());
    }
    std::printf("]\n");
    return 0;
  }
  std::printf("%-10s %-44s %-23s %-23s %s\n", "KEY ID", "PUBLIC KEY (base64)",
              "SIGNS FROM", "SIGNS UNTIL", "VALID UNTIL");
  for (const v1::VerificationKey& k : keys->keys()) {
    std::printf("%-10u %-44s %-23s %-23s %s\n", k.key_id(),
                absl::Base64Escape(k.public_key()).c_str(),
                TimeText(FromProtoTime(k.not_before())).c_str(),
                TimeText(FromProtoTime(k.signing_until())).c_str(),
                TimeText(FromProtoTime(k.not_after())).c_str());
  }
  std::printf("refresh after %s\n", TimeText(FromProtoTime(keys->refresh_after())).c_str());
  return 0;
}

int Show(const CommandContext& ctx, const std::string& token) {
  absl::StatusOr<qr::QrSymbol> symbol = qr::EncodeQrSymbol(token);
  if (!symbol.ok()) {
    std::fprintf(stderr, "eidctl: cannot draw it: %s\n",
                 std::string(symbol.status().message()).c_str());
    return 1;
  }
  std::fputs(qr::RenderTerminal(*symbol).c_str(), stdout);
  std::printf("QR version %d, level M, %zu characters\n", symbol->version, token.size());
  absl::StatusOr<qr::ParsedToken> parsed = qr::Parse(token);
  if (!parsed.ok()) {
    std::printf("MALFORMED: %s\n", std::string(parsed.status().message()).c_str());
    return 1;
  }
  const qr::QrTokenClaims& c = parsed->claims;
  std::printf("key id %u, account %s, device (SHA-256 prefix) %s\nissued %s, expires %s\n",
              parsed->key_id, c.account_handle.c_str(),
              absl::BytesToHexString(c.device_id).c_str(),
              TimeText(c.issued_at).c_str(), TimeText(c.expires_at).c_str());
  // Offline check, as a verifier without eid's services would make it.
  absl::StatusOr<v1::GetVerificationKeysResponse> keys = FetchKeys(ctx);
  if (!keys.ok()) {
    std::printf("offline check skipped: no keys (%s)\n",
                std::string(keys.status().message()).c_str());
    return 0;
  }
  std::map<uint32_t, std::string> known;
  for (const v1::VerificationKey& k : keys->keys()) known[k.key_id()] = k.public_key();
  const qr::TokenCheck check = qr::CheckToken(
      token,
      [&](uint32_t id) -> std::optional<absl::string_view> {
        auto it = known.find(id);
        if (it == known.end()) return std::nullopt;
        return absl::string_view(it->second);
      },
      absl::Now(), kOfflineSkew);
  std::printf("offline check: %s (the replay guard and the account are checked by "
              "VerifyQr only)\n",
              std::string(qr::TokenVerdictName(check.verdict)).c_str());
  return check.verdict == qr::TokenVerdict::kValid ? 0 : 1;
}

}  // namespace

int Qr(const CommandContext& ctx) {
  if (ctx.args.size() == 1 && ctx.args[0] == "keys") return Keys(ctx);
  if (ctx.args.size() == 2 && ctx.args[0] == "show") return Show(ctx, ctx.args[1]);
  std::fputs("usage: eidctl qr keys | eidctl qr show TOKEN\n", stderr);
  return 2;
}

}  // namespace eid::ctl
