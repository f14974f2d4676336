#include "services/qr/qr_issuer.h"

#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/qr/token/qr_render.h"
#include "services/qr/token/qr_token.h"
#include "services/qr/token_device.h"

namespace eid::qr {
namespace {

constexpr int kDefaultPngScale = 8;

prometheus::Family<prometheus::Counter>& IssuedFamily(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("eid_qr_issued_total")
      .Help("IssueQr calls by outcome: issued, refused (a rule), error (a dependency)")
      .Register(registry);
}

// Rejects what the request itself gets wrong, before anything is checked.
absl::Status ValidateRequest(const v1::IssueQrRequest& r) {
  if (r.render() != v1::QR_RENDER_UNSPECIFIED && r.render() != v1::QR_RENDER_PNG &&
      r.render() != v1::QR_RENDER_SVG) {
    return InvalidArgument(v1::FIELD_INVALID, "render is not a QrRender value");
  }
  if (r.scale() != 0 && (r.scale() < kMinPngScale || r.scale() > kMaxPngScale)) {
    return InvalidArgument(v1::FIELD_INVALID,
                           absl::StrCat("scale must be 0 or ", kMinPngScale, " to ",
                                        kMaxPngScale));
  }
  return absl::OkStatus();
}

}  // namespace

QrIssuer::QrIssuer(activation::SessionChecker& sessions, QrKeyRing& keys,
                   audit::AuditSink& audit, Clock& clock, RandomSource& random,
                   prometheus::Registry& metrics)
    : sessions_(sessions),
      keys_(keys),
      audit_(audit),
      clock_(clock),
      random_(random),
      issued_(IssuedFamily(metrics).Add({{"outcome", "issued"}})),
      refused_(IssuedFamily(metrics).Add({{"outcome", "refused"}})),
      errors_(IssuedFamily(metrics).Add({{"outcome", "error"}})) {}

absl::StatusOr<v1::IssueQrResponse> QrIssuer::IssueQr(const v1::IssueQrRequest& request) {
  if (absl::Status s = ValidateRequest(request); !s.ok()) {
    refused_.Increment();
    return s;
  }
  absl::StatusOr<v1::AuthenticateSessionResponse> caller =
      sessions_.Check(request.credentials(), kIssueQrMethod, &request);
  if (!caller.ok()) {
    // No known caller to attribute it to; activation audits its own refusals
    // of sessions it could read.
    (caller.status().code() == absl::StatusCode::kUnavailable ? errors_ : refused_)
        .Increment();
    return caller.status();
  }
  absl::StatusOr<v1::IssueQrResponse> issued = IssueFor(caller->account(), request);
  absl::Status recorded = Audit(issued.status(), *caller, issued.ok() ? &*issued : nullptr);
  // No token leaves without its audit record.
  if (issued.ok() && !recorded.ok()) {
    issued = Unavailable(v1::DEPENDENCY_UNAVAILABLE, "the audit spool cannot be written");
  }
  if (issued.ok()) {
    issued_.Increment();
  } else {
    (issued.status().code() == absl::StatusCode::kUnavailable ||
             issued.status().code() == absl::StatusCode::kInternal
         ? errors_
         : refused_)
        .Increment();
  }
  return issued;
}

absl::StatusOr<v1::IssueQrResponse> QrIssuer::IssueFor(const v1::Account& account,
                                                       const v1::IssueQrRequest& request) {
  if (account.level() != v1::ACCOUNT_LEVEL_2) {
    return FailedPrecondition(v1::ACCOUNT_NOT_LEVEL_2,
                              "identity QR codes are for level-2 accounts");
  }
  if (!account.qr_verification_enabled()) {
    return FailedPrecondition(v1::QR_VERIFICATION_DISABLED,
                              "turn on \"verify the app via QR code\" first");
  }
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()));
  absl::StatusOr<std::shared_ptr<const QrSigningKey>> key = keys_.SigningKeyAt(now);
  if (!key.ok()) return key.status();

  QrTokenClaims claims;
  claims.account_handle = account.account_id();
  claims.device_id = TokenDeviceOf(account.device().device_id());
  claims.nonce = random_.Bytes(kNonceBytes);
  claims.issued_at = now;
  claims.expires_at = now + kTokenLifetime;
  absl::StatusOr<std::string> token = Encode(claims, **key);
  if (!token.ok()) {
    return Error(absl::StatusCode::kInternal, v1::FIELD_INVALID,
                 absl::StrCat("cannot encode the token: ", token.status().message()));
  }
  v1::IssueQrResponse out;
  out.set_token(*token);
  *out.mutable_issued_at() = ToProtoTime(claims.issued_at);
  *out.mutable_expires_at() = ToProtoTime(claims.expires_at);
  out.set_key_id((*key)->key_id());
  if (request.render() == v1::QR_RENDER_UNSPECIFIED) return out;

  absl::StatusOr<QrSymbol> symbol = EncodeQrSymbol(*token);
  if (!symbol.ok()) return symbol.status();
  out.set_qr_version(symbol->version);
  if (request.render() == v1::QR_RENDER_PNG) {
    absl::StatusOr<std::string> png =
        RenderPng(*symbol, request.scale() == 0 ? kDefaultPngScale : request.scale());
    if (!png.ok()) return png.status();
    out.set_image(std::move(*png));
    out.set_image_media_type("image/png");
  } else {
    out.set_image(RenderSvg(*symbol));
    out.set_image_media_type("image/svg+xml");
  }
  return out;
}

v1::GetVerificationKeysResponse QrIssuer::GetVerificationKeys() {
  const absl::Time now = clock_.Now();
  v1::GetVerificationKeysResponse out;
  for (const QrKeyRing::PublicKey& k : keys_.PublishedAt(now)) {
    v1::VerificationKey& key = *out.add_keys();
    key.set_key_id(k.key_id);
    key.set_public_key(k.public_key);
    *key.mutable_not_before() = ToProtoTime(k.not_before);
    *key.mutable_signing_until() = ToProtoTime(k.signing_until);
    *key.mutable_not_after() = ToProtoTime(k.not_after);
  }
  *out.mutable_refresh_after() = ToProtoTime(keys_.NextChangeAfter(now));
  return out;
}

absl::Status QrIssuer::Audit(const absl::Status& outcome,
                     const v1::AuthenticateSessionResponse& caller,
                     const v1::IssueQrResponse* issued) {
  v1::AuditEvent event;
  *event.mutable_time() = ToProtoTime(clock_.Now());
  event.set_service("qr");
  event.set_action("qr.issued");
  if (outcome.ok()) {
    event.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  } else {
    event.set_outcome(outcome.code() == absl::StatusCode::kUnavailable ||
                              outcome.code() == absl::StatusCode::kInternal
                          ? v1::AUDIT_OUTCOME_ERROR
                          : v1::AUDIT_OUTCOME_REJECTED);
    event.set_reason(ReasonOf(outcome));
  }
  event.set_actor(absl::StrCat("account:", caller.account().account_id()));
  event.set_subject(caller.audit_subject());
  auto& attributes = *event.mutable_attributes();
  attributes["account_id"] = caller.account().account_id();
  attributes["device_id"] = caller.account().device().device_id();
  if (issued != nullptr) attributes["key_id"] = absl::StrCat(issued->key_id());
  return audit_.Record(std::move(event));
}

}  // namespace eid::qr
