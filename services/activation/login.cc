// Activation: login challenges, login, sessions.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/activation/activation.h"
#include "services/activation/device_signature.h"
#include "services/common/keyed_hash.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

constexpr char kSessionsNamespace[] = "sessions";
constexpr char kLoginMethod[] = "/eid.v1.ActivationService/Login";

bool IsSixDigits(absl::string_view s) {
  if (s.size() != 6) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string SessionKey(absl::string_view account_id, absl::string_view token) {
  return absl::StrCat(account_id, "|session|", absl::BytesToHexString(Sha256(token)));
}

}  // namespace

// OK if `a` may log in; the reason otherwise.
absl::Status LoginState(const v1::Account& a) {
  switch (a.state()) {
    case v1::ACCOUNT_STATE_ACTIVATED:
      return absl::OkStatus();
    case v1::ACCOUNT_STATE_LOCKED: {
      absl::Status s = FailedPrecondition(v1::ACCOUNT_LOCKED, "the account is locked");
      if (a.lock().has_locked_until()) {
        s = WithMetadata(s, "locked_until",
                         absl::FormatTime(FromProtoTime(a.lock().locked_until())));
      }
      return s;
    }
    case v1::ACCOUNT_STATE_REVOKED:
      return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
    default:
      return FailedPrecondition(v1::ACCOUNT_NOT_ACTIVATED,
                                "the account is not activated");
  }
}


absl::StatusOr<v1::CreateLoginChallengeResponse> Activation::CreateLoginChallenge(
    const v1::CreateLoginChallengeRequest& r) {
  if (r.account_id().empty() || r.account_id().size() > 64 ||
      r.account_id().find('|') != std::string::npos ||
      r.account_id().find('.') != std::string::npos) {
    return InvalidArgument(v1::FIELD_INVALID, "account_id is malformed");
  }
  if (r.device_id().empty() || r.device_id().size() > 128) {
    return InvalidArgument(v1::FIELD_INVALID, "device_id must be 1 to 128 characters");
  }
  const std::string secret = absl::BytesToHexString(random_.Bytes(16));
  internal::ChallengeRecord record;
  record.set_device_id(r.device_id());
  record.set_challenge(random_.Bytes(32));
  const absl::Time expires = clock_.Now() + options_.challenge_lifetime;
  *record.mutable_expires_at() = ToProtoTime(expires);
  v1::PutRequest put;
  put.set_namespace_(kSessionsNamespace);
  put.set_key(absl::StrCat(r.account_id(), "|challenge|", secret));
  put.set_value(record.SerializeAsString());
  // Kept a little past its expiry so a late Login hears CHALLENGE_EXPIRED.
  *put.mutable_expires_at() = ToProtoTime(expires + absl::Minutes(5));
  if (absl::Status s = accounts_.kv().Put(put).status(); !s.ok()) return s;
  v1::CreateLoginChallengeResponse response;
  response.set_challenge_id(absl::StrCat(r.account_id(), ".", secret));
  response.set_challenge(record.challenge());
  *response.mutable_expires_at() = ToProtoTime(expires);
  return response;
}

absl::StatusOr<internal::AccountRecord> Activation::ProveHolder(
    absl::string_view account_id, absl::string_view challenge_id,
    const v1::DeviceSignature& signature, absl::string_view passcode,
    const std::function<absl::Status(const v1::Account&)>& state_check,
    const HolderSuccess& on_success, absl::Status* refused,
    absl::Time deadline) {
  *refused = absl::OkStatus();
  if (!IsSixDigits(passcode)) {
    return InvalidArgument(v1::PASSCODE_NOT_SIX_DIGITS,
                           "the passcode is exactly 6 digits");
  }
  // The challenge: one use, for this account and device, unexpired.
  const absl::string_view challenge_account = AccountOfToken(challenge_id, kMaxSessionTokenBytes);
  if (challenge_account.empty() || challenge_account != account_id) {
    return Unauthenticated(v1::CHALLENGE_INVALID, "no such challenge");
  }
  v1::GetRequest get;
  get.set_namespace_(kSessionsNamespace);
  const std::string challenge_key = absl::StrCat(
      account_id, "|challenge|", challenge_id.substr(challenge_account.size() + 1));
  get.set_key(challenge_key);
  absl::StatusOr<v1::GetResponse> got = accounts_.kv().Get(get);
  if (!got.ok()) return got.status();
  internal::ChallengeRecord challenge;
  if (!got->found() || !challenge.ParseFromString(got->record().value()) ||
      challenge.device_id() != signature.device_id()) {
    return Unauthenticated(v1::CHALLENGE_INVALID, "no such challenge");
  }
  if (clock_.Now() >= FromProtoTime(challenge.expires_at())) {
    return Unauthenticated(v1::CHALLENGE_EXPIRED, "the challenge expired");
  }
  const uint64_t challenge_version = got->record().version();

  // Checked and counted in one batch with the account, so parallel guesses
  // are serialised by the account's version and none goes uncounted.
  return accounts_.Update(
      account_id,
      [&](const internal::AccountRecord& before, internal::AccountRecord& out)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        *refused = absl::OkStatus();
        out = before;
        LiftExpiredLock(out);
        if (absl::Status s = state_check(out.account()); !s.ok()) return s;
        const v1::DeviceInfo& device = out.account().device();
        if (device.device_id().empty() || device.device_id() != signature.device_id()) {
          return Unauthenticated(v1::DEVICE_UNKNOWN,
                                 "this device is not bound to the account");
        }
        if (!VerifyDeviceSignature(device.public_key(), kLoginMethod,
                                   challenge.challenge(), signature.signature())) {
          return Unauthenticated(v1::DEVICE_SIGNATURE_INVALID,
                                 "the challenge signature does not verify");
        }
        std::vector<v1::Mutation> mutations(1);
        mutations[0].set_namespace_(kSessionsNamespace);
        mutations[0].set_key(challenge_key);
        mutations[0].set_delete_record(true);
        mutations[0].set_expected_version(challenge_version);
        absl::StatusOr<bool> right =
            hasher_.Verify(passcode, out.passcode_hash(), deadline);
        if (!right.ok()) return right.status();
        if (!*right) {
          out.set_wrong_passcodes(out.wrong_passcodes() + 1);
          const int remaining = options_.max_wrong_passcodes - out.wrong_passcodes();
          if (remaining <= 0) {
            if (out.account().state() != v1::ACCOUNT_STATE_LOCKED) {
              out.set_state_before_lock(out.account().state());
            }
            v1::Account& a = *out.mutable_account();
            a.set_state(v1::ACCOUNT_STATE_LOCKED);
            a.mutable_lock()->set_reason(v1::LOCK_REASON_WRONG_PASSCODE);
            *a.mutable_lock()->mutable_locked_at() = ToProtoTime(clock_.Now());
            *a.mutable_lock()->mutable_locked_until() =
                ToProtoTime(clock_.Now() + options_.passcode_lock);
            *refused = LoginState(a);
          } else {
            *refused = WithMetadata(
                Unauthenticated(v1::PASSCODE_MISMATCH, "wrong passcode"),
                "remaining_attempts", absl::StrCat(remaining));
          }
          return mutations;
        }
        out.set_wrong_passcodes(0);
        on_success(out, mutations);
        return mutations;
      });
}

absl::StatusOr<v1::LoginResponse> Activation::Login(const v1::LoginRequest& r,
                                                    absl::Time deadline) {
  const std::string token = absl::StrCat(
      r.account_id(), ".", absl::WebSafeBase64Escape(random_.Bytes(32)));
  const absl::Time session_expires = clock_.Now() + options_.login_session;
  absl::Status refused;
  absl::StatusOr<internal::AccountRecord> after = ProveHolder(
      r.account_id(), r.challenge_id(), r.device_signature(), r.passcode(),
      LoginState,
      [&](internal::AccountRecord& out, std::vector<v1::Mutation>& mutations) {
        internal::SessionRecord session;
        session.set_device_id(out.account().device().device_id());
        *session.mutable_created_at() = ToProtoTime(clock_.Now());
        *session.mutable_expires_at() = ToProtoTime(session_expires);
        v1::Mutation& put = mutations.emplace_back();
        put.set_namespace_(kSessionsNamespace);
        put.set_key(SessionKey(r.account_id(), token));
        put.set_put_value(session.SerializeAsString());
        *put.mutable_expires_at() = ToProtoTime(session_expires);
      },
      &refused, deadline);
  const absl::Status outcome = after.ok() ? refused : after.status();
  AuditHolderProof("login", outcome, r.account_id(),
                   after.ok() ? &*after : nullptr, r.device_signature().device_id());
  if (!outcome.ok()) return outcome;
  v1::LoginResponse response;
  response.set_session_token(token);
  *response.mutable_expires_at() = ToProtoTime(session_expires);
  *response.mutable_account() = after->account();
  return response;
}

void Activation::AuditHolderProof(absl::string_view action,
                                  const absl::Status& outcome,
                                  absl::string_view account_id,
                                  const internal::AccountRecord* after,
                                  absl::string_view device_id) {
  Audit(action, outcome, absl::StrCat("account:", account_id), after, "",
        {{"device_id", std::string(device_id)}});
  if (after != nullptr && ReasonOf(outcome) == "ACCOUNT_LOCKED" &&
      after->account().lock().reason() == v1::LOCK_REASON_WRONG_PASSCODE &&
      after->wrong_passcodes() >= options_.max_wrong_passcodes) {
    Audit("account.locked", absl::OkStatus(), "service:activation", after, "",
          {{"lock_reason", "LOCK_REASON_WRONG_PASSCODE"}});
  }
}

absl::Status Activation::Logout(const v1::LogoutRequest& r) {
  const std::string& token = r.credentials().session_token();
  const absl::string_view account_id = AccountOfToken(token, kMaxSessionTokenBytes);
  if (account_id.empty()) {
    return Unauthenticated(v1::SESSION_INVALID, "not a session token");
  }
  v1::DeleteRequest del;
  del.set_namespace_(kSessionsNamespace);
  del.set_key(SessionKey(account_id, token));
  absl::Status s = accounts_.kv().Delete(del).status();
  Audit("logout", s, absl::StrCat("account:", account_id), nullptr, "");
  return s;
}

absl::StatusOr<Caller> Activation::Authenticate(
    const v1::Credentials& credentials, absl::string_view method,
    const std::string* request_digest, absl::Time* session_expires_at) {
  const std::string& token = credentials.session_token();
  const absl::string_view account_id = AccountOfToken(token, kMaxSessionTokenBytes);
  if (account_id.empty()) {
    return Unauthenticated(v1::SESSION_INVALID, "not a session token");
  }
  v1::GetRequest get;
  get.set_namespace_(kSessionsNamespace);
  get.set_key(SessionKey(account_id, token));
  absl::StatusOr<v1::GetResponse> got = accounts_.kv().Get(get);
  if (!got.ok()) return got.status();
  internal::SessionRecord session;
  if (!got->found() || !session.ParseFromString(got->record().value())) {
    return Unauthenticated(v1::SESSION_INVALID, "no such session");
  }
  if (clock_.Now() >= FromProtoTime(session.expires_at())) {
    return Unauthenticated(v1::SESSION_EXPIRED, "the session expired");
  }
  absl::StatusOr<StoredAccount> account = accounts_.Get(account_id);
  // A missing account ends the session; a shard that cannot be read now
  // (UNAVAILABLE) does not: the caller retries.
  if (absl::IsNotFound(account.status())) {
    return Unauthenticated(v1::SESSION_INVALID, "no such session");
  }
  if (!account.ok()) return account.status();
  LiftExpiredLock(account->record);
  const v1::Account& a = account->record.account();
  if (a.state() == v1::ACCOUNT_STATE_LOCKED || a.state() == v1::ACCOUNT_STATE_REVOKED) {
    return LoginState(a);
  }
  // A session opened on a device since replaced ended with it.
  if (a.device().device_id() != session.device_id()) {
    return WithMetadata(
        Unauthenticated(v1::SESSION_INVALID, "the session's device was replaced"), "cause",
        "device_replaced");
  }
  if (request_digest != nullptr) {
    const v1::DeviceSignature& sig = credentials.device_signature();
    if (sig.device_id() != a.device().device_id()) {
      return Unauthenticated(v1::DEVICE_UNKNOWN,
                             "the signing device is not bound to the account");
    }
    if (!VerifyDeviceSignature(a.device().public_key(), method, *request_digest,
                               sig.signature())) {
      return Unauthenticated(v1::DEVICE_SIGNATURE_INVALID,
                             "the device signature does not verify");
    }
  }
  if (session_expires_at != nullptr) {
    *session_expires_at = FromProtoTime(session.expires_at());
  }
  Caller caller;
  caller.record = std::move(account->record);
  caller.device_signed = request_digest != nullptr;
  return caller;
}

absl::StatusOr<v1::AuthenticateSessionResponse> Activation::AuthenticateSession(
    const v1::AuthenticateSessionRequest& r) {
  const bool with_signature = !r.request_digest().empty();
  absl::Time expires;
  absl::StatusOr<Caller> caller = Authenticate(
      r.credentials(), r.method(), with_signature ? &r.request_digest() : nullptr,
      &expires);
  if (!caller.ok()) return caller.status();
  v1::AuthenticateSessionResponse response;
  *response.mutable_account() = caller->record.account();
  *response.mutable_session_expires_at() = ToProtoTime(expires);
  response.set_device_signature_verified(with_signature);
  response.set_audit_subject(AuditSubjectOf(caller->record.id_number()));
  return response;
}

}  // namespace eid::activation
