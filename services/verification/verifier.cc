#include "services/verification/verifier.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/keyed_hash.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/qr/token_device.h"

namespace eid::verification {
namespace {

constexpr size_t kMaxRequestIdChars = 64;
constexpr size_t kRandomIdBytes = 16;

// "genuine", "unknown_key", ...: the Verdict name without its prefix.
std::string VerdictLabel(v1::Verdict verdict) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::Verdict_Name(verdict), "VERDICT_"));
}

v1::Verdict FromTokenVerdict(qr::TokenVerdict v) {
  switch (v) {
    case qr::TokenVerdict::kValid: return v1::VERDICT_GENUINE;
    case qr::TokenVerdict::kMalformed: return v1::VERDICT_MALFORMED;
    case qr::TokenVerdict::kUnknownKey: return v1::VERDICT_UNKNOWN_KEY;
    case qr::TokenVerdict::kForged: return v1::VERDICT_FORGED;
    case qr::TokenVerdict::kExpired: return v1::VERDICT_EXPIRED;
    case qr::TokenVerdict::kNotYetValid: return v1::VERDICT_NOT_YET_VALID;
  }
  return v1::VERDICT_MALFORMED;
}

bool HasRole(const v1::Account& account, v1::Role role) {
  for (const v1::RoleGrant& grant : account.roles()) {
    if (grant.role() == role) return true;
  }
  return false;
}

}  // namespace

absl::Status CheckVerifier(const v1::Account& account) {
  if (account.level() != v1::ACCOUNT_LEVEL_2) {
    return PermissionDenied(v1::VERIFIER_NOT_LEVEL_2,
                            "verifying officials need a level-2 account");
  }
  if (!HasRole(account, v1::ROLE_VERIFIER)) {
    return PermissionDenied(v1::ROLE_REQUIRED, "the verifier role is required");
  }
  return absl::OkStatus();
}

Verifier::Verifier(activation::SessionChecker& sessions, VerificationKeyCache& keys,
                   storage::ReplayGuard& replay, AccountLookup accounts,
                   VerificationStore& store, audit::AuditSink& audit, Clock& clock,
                   RandomSource& random, std::string audit_subject_key,
                   prometheus::Registry& metrics, const VerifierOptions& options)
    : sessions_(sessions),
      keys_(keys),
      replay_(replay),
      accounts_(std::move(accounts)),
      store_(store),
      audit_(audit),
      clock_(clock),
      random_(random),
      audit_subject_key_(std::move(audit_subject_key)),
      options_(options),
      fenced_(prometheus::BuildCounter()
                  .Name("eid_verification_replay_fenced_total")
                  .Help("Tokens the replay guard fenced (its shard restarted during "
                        "their life), answered EXPIRED")
                  .Register(metrics)
                  .Add({})) {
  auto& family = prometheus::BuildCounter()
                     .Name("eid_verification_verdicts_total")
                     .Help("VerifyQr verdicts")
                     .Register(metrics);
  for (int v = v1::VERDICT_GENUINE; v <= v1::VERDICT_DEVICE_REPLACED; ++v) {
    verdicts_[v] = &family.Add({{"verdict", VerdictLabel(static_cast<v1::Verdict>(v))}});
  }
}

absl::StatusOr<v1::VerifyQrResponse> Verifier::VerifyQr(const v1::VerifyQrRequest& request) {
  if (request.token().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "token is required");
  }
  if (request.request_id().size() > kMaxRequestIdChars) {
    return InvalidArgument(v1::FIELD_INVALID, "request_id is longer than 64 characters");
  }
  absl::StatusOr<v1::AuthenticateSessionResponse> verifier =
      sessions_.Check(request.credentials(), kVerifyQrMethod, &request);
  if (!verifier.ok()) return verifier.status();
  if (absl::Status allowed = CheckVerifier(verifier->account()); !allowed.ok()) {
    Audit(*verifier, nullptr, allowed, nullptr, request.request_id()).IgnoreError();
    return allowed;
  }

  const absl::Time now = clock_.Now();
  // A retry of a lost answer gets that answer, not REPLAYED.
  const std::string& verifier_id = verifier->account().account_id();
  const std::string token_hash = Sha256(request.token());
  if (!request.request_id().empty()) {
    absl::StatusOr<std::optional<internal::RequestRecord>> earlier =
        store_.GetAnswer(verifier_id, "vreq", request.request_id(), now);
    if (!earlier.ok()) return earlier.status();
    if (earlier->has_value()) {
      if (!ConstantTimeEquals((*earlier)->request_hash(), token_hash)) {
        return InvalidArgument(v1::REQUEST_ID_CONFLICT,
                               "request_id was used with another token");
      }
      v1::VerifyQrResponse first;
      if (!first.ParseFromString((*earlier)->response())) {
        return absl::DataLossError("request record unreadable");
      }
      return first;
    }
  }
  absl::StatusOr<Outcome> outcome = Check(request.token(), now);
  if (!outcome.ok()) {
    Audit(*verifier, nullptr, outcome.status(), nullptr, request.request_id())
        .IgnoreError();
    return outcome.status();
  }

  v1::VerifyQrResponse response;
  response.set_verdict(outcome->verdict);
  *response.mutable_verified_at() = ToProtoTime(now);
  if (outcome->token.has_value()) {
    *response.mutable_token_issued_at() = ToProtoTime(outcome->token->claims.issued_at);
    *response.mutable_token_expires_at() = ToProtoTime(outcome->token->claims.expires_at);
  }
  if (outcome->verdict == v1::VERDICT_GENUINE) {
    const v1::Account& a = outcome->subject->account();
    v1::IdentitySummary& id = *response.mutable_identity();
    id.set_full_name(a.full_name());
    *id.mutable_date_of_birth() = a.date_of_birth();
    id.set_sex(a.sex());
    id.set_masked_id_number(a.masked_id_number());
    id.set_photo_reference(a.face_photo_reference());
    id.set_level(a.level());

    // The citizen may now share documents with this verification.
    const absl::Time deadline = now + options_.share_window;
    internal::VerificationRecord record;
    record.set_verifier_account_id(verifier->account().account_id());
    record.mutable_verifier()->set_full_name(verifier->account().full_name());
    if (verifier->account().org_units_size() > 0) {
      *record.mutable_verifier()->mutable_org_unit() = verifier->account().org_units(0);
    }
    *record.mutable_verified_at() = ToProtoTime(now);
    *record.mutable_share_deadline() = ToProtoTime(deadline);
    record.set_verifier_audit_subject(verifier->audit_subject());
    const std::string id_value =
        VerificationStore::NewId(a.account_id(), random_.Bytes(kRandomIdBytes));
    // Sharing lasts at most share_window after the deadline (the share's
    // own expiry); the record goes with it.
    absl::Status stored =
        store_.PutVerification(id_value, record, deadline + options_.share_window);
    // The verdict stands without it (the nonce is spent); only sharing is
    // lost, and the app offers nothing to share with.
    if (stored.ok()) {
      response.set_verification_id(id_value);
      *response.mutable_share_deadline() = ToProtoTime(deadline);
    }
  }
  absl::Status recorded =
      Audit(*verifier, &*outcome, absl::OkStatus(), &response, request.request_id());
  if (!recorded.ok() && outcome->verdict == v1::VERDICT_GENUINE) {
    // No GENUINE leaves without its audit record.
    return Unavailable(v1::DEPENDENCY_UNAVAILABLE, "the audit spool cannot be written");
  }
  verdicts_[outcome->verdict]->Increment();
  if (!request.request_id().empty()) {
    internal::RequestRecord answer;
    answer.set_request_hash(token_hash);
    answer.set_response(response.SerializeAsString());
    // Best effort: without it a retry is answered REPLAYED, as without a
    // request_id.
    store_.PutAnswer(verifier_id, "vreq", request.request_id(), answer,
                     now + options_.request_memory)
        .IgnoreError();
  }
  return response;
}

absl::StatusOr<Verifier::Outcome> Verifier::Check(absl::string_view text, absl::Time now) {
  Outcome out;
  absl::StatusOr<std::shared_ptr<const VerificationKeyCache::KeySet>> keys = keys_.Keys(now);
  if (!keys.ok()) return keys.status();
  const VerificationKeyCache::KeySet& key_set = **keys;
  qr::TokenCheck check = qr::CheckToken(
      text,
      [&](uint32_t key_id) -> std::optional<absl::string_view> {
        auto it = key_set.keys.find(key_id);
        if (it == key_set.keys.end() || now >= it->second.not_after) return std::nullopt;
        return absl::string_view(it->second.public_key);
      },
      now, options_.skew);
  out.verdict = FromTokenVerdict(check.verdict);
  if (check.defect.has_value()) out.detail = std::string(qr::TokenDefectName(*check.defect));
  if (check.verdict == qr::TokenVerdict::kMalformed ||
      check.verdict == qr::TokenVerdict::kUnknownKey ||
      check.verdict == qr::TokenVerdict::kForged) {
    return out;  // Nothing in it can be trusted: no subject.
  }
  out.token = std::move(check.token);
  const qr::QrTokenClaims& claims = out.token->claims;

  if (check.verdict == qr::TokenVerdict::kValid) {
    absl::StatusOr<storage::ReplayVerdict> seen =
        replay_.CheckAndRecord(claims.nonce, claims.expires_at);
    if (!seen.ok()) return seen.status();
    switch (*seen) {
      case storage::ReplayVerdict::kFirst: break;
      case storage::ReplayVerdict::kReplayed: out.verdict = v1::VERDICT_REPLAYED; break;
      case storage::ReplayVerdict::kExpired: out.verdict = v1::VERDICT_EXPIRED; break;
      case storage::ReplayVerdict::kFenced:
        out.verdict = v1::VERDICT_EXPIRED;
        out.detail = "FENCED";
        fenced_.Increment();
        break;
    }
  }

  // The signature proved whose token it is: read the account, for the
  // standing (if still GENUINE) and for the audit's subject either way.
  absl::StatusOr<internal::AccountRecord> account = accounts_(claims.account_handle);
  if (!account.ok()) {
    if (account.status().code() != absl::StatusCode::kNotFound) return account.status();
    // A handle the QR service signed but no account has any more.
    if (out.verdict == v1::VERDICT_GENUINE) out.verdict = v1::VERDICT_REVOKED;
    return out;
  }
  out.subject = std::move(*account);
  if (out.verdict == v1::VERDICT_GENUINE) out.verdict = Standing(*out.subject, *out.token, now);
  return out;
}

v1::Verdict Verifier::Standing(const internal::AccountRecord& record,
                               const qr::ParsedToken& token, absl::Time now) const {
  const v1::Account& a = record.account();
  v1::AccountState state = a.state();
  // A lock whose time has passed counts as lifted (as activation reads it).
  if (state == v1::ACCOUNT_STATE_LOCKED && a.lock().has_locked_until() &&
      now >= FromProtoTime(a.lock().locked_until())) {
    state = record.state_before_lock();
  }
  if (state == v1::ACCOUNT_STATE_REVOKED) return v1::VERDICT_REVOKED;
  if (state == v1::ACCOUNT_STATE_LOCKED) return v1::VERDICT_LOCKED;
  if (state != v1::ACCOUNT_STATE_ACTIVATED) return v1::VERDICT_REVOKED;
  if (!ConstantTimeEquals(qr::TokenDeviceOf(a.device().device_id()), token.claims.device_id)) {
    return v1::VERDICT_DEVICE_REPLACED;
  }
  return v1::VERDICT_GENUINE;
}

absl::Status Verifier::Audit(const v1::AuthenticateSessionResponse& verifier,
                             const Outcome* outcome, const absl::Status& error,
                             const v1::VerifyQrResponse* response,
                             absl::string_view request_id) {
  v1::AuditEvent event;
  *event.mutable_time() = ToProtoTime(clock_.Now());
  event.set_service("verification");
  event.set_action("verification.verdict");
  event.set_actor(absl::StrCat("account:", verifier.account().account_id()));
  event.set_request_id(std::string(request_id));
  auto& attributes = *event.mutable_attributes();
  attributes["verifier_name"] = verifier.account().full_name();
  if (verifier.account().org_units_size() > 0) {
    attributes["verifier_org_unit"] = verifier.account().org_units(0).code();
  }
  if (outcome == nullptr) {
    event.set_outcome(error.code() == absl::StatusCode::kPermissionDenied
                          ? v1::AUDIT_OUTCOME_REJECTED
                          : v1::AUDIT_OUTCOME_ERROR);
    event.set_reason(ReasonOf(error));
    return audit_.Record(std::move(event));
  }
  const std::string verdict = v1::Verdict_Name(outcome->verdict);
  attributes["verdict"] = verdict;
  if (outcome->verdict == v1::VERDICT_GENUINE) {
    event.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  } else {
    event.set_outcome(v1::AUDIT_OUTCOME_REJECTED);
    event.set_reason(verdict);
  }
  if (!outcome->detail.empty()) attributes["detail"] = outcome->detail;
  if (outcome->token.has_value()) {
    attributes["account_id"] = outcome->token->claims.account_handle;
    attributes["token_device"] = absl::BytesToHexString(outcome->token->claims.device_id);
    attributes["key_id"] = absl::StrCat(outcome->token->key_id);
  }
  if (outcome->subject.has_value()) {
    attributes["device_id"] = outcome->subject->account().device().device_id();
    event.set_subject(KeyedHash(audit_subject_key_, {outcome->subject->id_number()}));
  }
  if (response != nullptr && !response->verification_id().empty()) {
    attributes["verification_id"] = response->verification_id();
  }
  return audit_.Record(std::move(event));
}

}  // namespace eid::verification
