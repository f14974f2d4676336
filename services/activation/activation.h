// Activation: the core of ActivationService — registration, approval, the
// seed's five activation steps, login, locks, recovery and roles — over the
// storage shards (AccountStore), the OTP service and the audit log. Request
// in, response or error (with its reason) out; the gRPC adapter
// (activation_service.h) only converts.
//
// Every record of one account lives under "<account_id>|…" on one shard, so
// each step is one atomic batch guarded by record versions: of two devices
// racing to activate one account exactly one wins; a session or OTP is used
// once. Every step is audited, success or failure.
//
// Thread-safe.
#ifndef EID_SERVICES_ACTIVATION_ACTIVATION_H_
#define EID_SERVICES_ACTIVATION_ACTIVATION_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "eid/internal/records.pb.h"
#include "eid/v1/activation.pb.h"
#include "eid/v1/otp.pb.h"
#include "services/activation/account_store.h"
#include "services/activation/passcode_hasher.h"
#include "services/audit/audit_client.h"
#include "services/common/clock.h"
#include "services/common/internal_auth.h"
#include "services/common/random.h"
#include "services/otp/otp_client.h"

namespace eid::activation {

// "<account_id>.<secret>" -> account_id, or "" if malformed or longer than
// `max_token_bytes`: flow ids and activation/recovery session tokens
// (kMaxFlowTokenBytes), login sessions and challenges (kMaxSessionTokenBytes,
// Credentials' bound).
inline constexpr size_t kMaxFlowTokenBytes = 256;
inline constexpr size_t kMaxSessionTokenBytes = 512;
absl::string_view AccountOfToken(absl::string_view token, size_t max_token_bytes);

// Secret keys, each read from its own file (never from code or logs).
struct ActivationSecrets {
  std::string account_id_key;     // Derives account ids from ID numbers.
  std::string answer_pepper;      // Keys the security-answer hashes.
  std::string audit_subject_key;  // Keys audit subjects (ID number hashes).
  std::string internal_token;     // Marks eid's own services (InternalAuth).
};

struct ActivationOptions {
  absl::Duration flow_lifetime = absl::Minutes(30);     // Start to session.
  absl::Duration activation_session = absl::Minutes(15);  // Steps 3-5.
  absl::Duration recovery_session = absl::Minutes(10);
  absl::Duration login_session = absl::Minutes(15);
  absl::Duration challenge_lifetime = absl::Seconds(60);
  int max_wrong_passcodes = 5;  // Then LOCKED (WRONG_PASSCODE).
  absl::Duration passcode_lock = absl::Minutes(30);
  int max_wrong_answers = 3;  // Then LOCKED (WRONG_SECURITY_ANSWERS).
  absl::Duration answers_lock = absl::Hours(1);
  absl::Duration request_memory = absl::Hours(24);  // request_id replay.
};

// Who called, once their session (and maybe device signature) checked.
struct Caller {
  internal::AccountRecord record;
  bool device_signed = false;  // A device signature over the request verified.
  bool internal = false;  // A trusted backend (no session); all roles.
};

// Why an account cannot log in (ACCOUNT_LOCKED with "locked_until",
// ACCOUNT_REVOKED, ACCOUNT_NOT_ACTIVATED); OK when ACTIVATED.
absl::Status LoginState(const v1::Account& a);

class Activation {
 public:
  // `otp`: the OTP service, in this process or over gRPC (must outlive this).
  Activation(AccountStore& accounts, otp::OtpClient& otp,
             audit::AuditSink& audit, Clock& clock, RandomSource& random,
             const PasscodeHasher& hasher, ActivationSecrets secrets,
             const ActivationOptions& options);

  // Registration and approval (registration.cc).
  absl::StatusOr<v1::RegisterLevel1Response> RegisterLevel1(
      const v1::RegisterLevel1Request& r);
  absl::StatusOr<v1::RegisterLevel2Response> RegisterLevel2(
      const Caller& caller, const v1::RegisterLevel2Request& r);
  absl::StatusOr<v1::ApproveRegistrationResponse> ApproveRegistration(
      const Caller& caller, const v1::ApproveRegistrationRequest& r);

  // Imports one row of a registration file (import.cc), adding it to
  // `summary`. A row's own failure is recorded there; an error returned
  // ends the whole import (PERMISSION_DENIED, UNAVAILABLE, ...).
  absl::Status ImportRow(const Caller& caller,
                         const v1::ImportRegistrationsRequest& row,
                         v1::ImportRegistrationsResponse& summary);

  // The five steps (activation_steps.cc).
  absl::StatusOr<v1::StartActivationResponse> StartActivation(
      const v1::StartActivationRequest& r);
  absl::StatusOr<v1::ResendActivationOtpResponse> ResendActivationOtp(
      const v1::ResendActivationOtpRequest& r);
  absl::StatusOr<v1::VerifyActivationOtpResponse> VerifyActivationOtp(
      const v1::VerifyActivationOtpRequest& r);
  // Steps that hash a passcode take the call's `deadline`: past it, a call
  // still waiting for a hashing slot fails (PASSCODE_HASHING_BUSY).
  absl::StatusOr<v1::SetPasscodeResponse> SetPasscode(
      const v1::SetPasscodeRequest& r,
      absl::Time deadline = absl::InfiniteFuture());
  v1::ListSecurityQuestionsResponse ListSecurityQuestions(
      const v1::ListSecurityQuestionsRequest& r) const;
  absl::StatusOr<v1::SetSecurityAnswersResponse> SetSecurityAnswers(
      const v1::SetSecurityAnswersRequest& r);
  absl::StatusOr<v1::ActivateDeviceResponse> ActivateDevice(
      const v1::ActivateDeviceRequest& r);

  // Login and sessions (login.cc).
  absl::StatusOr<v1::CreateLoginChallengeResponse> CreateLoginChallenge(
      const v1::CreateLoginChallengeRequest& r);
  absl::StatusOr<v1::LoginResponse> Login(
      const v1::LoginRequest& r, absl::Time deadline = absl::InfiniteFuture());
  absl::Status Logout(const v1::LogoutRequest& r);
  // Checks `credentials` for RPC `method`; when `request_digest` is given
  // (RequestDigest of the request) the device signature over it is checked
  // too. The caller's account; UNAUTHENTICATED (SESSION_INVALID,
  // SESSION_EXPIRED, DEVICE_UNKNOWN, DEVICE_SIGNATURE_INVALID),
  // FAILED_PRECONDITION (ACCOUNT_LOCKED, ACCOUNT_REVOKED).
  absl::StatusOr<Caller> Authenticate(const v1::Credentials& credentials,
                                      absl::string_view method,
                                      const std::string* request_digest,
                                      absl::Time* session_expires_at = nullptr);
  absl::StatusOr<v1::AuthenticateSessionResponse> AuthenticateSession(
      const v1::AuthenticateSessionRequest& r);
  // Audits a call to `method` refused before it ran, its caller (`actor`)
  // lacking the role, as "auth.denied". Returns `refused`.
  absl::Status AuditDenied(absl::string_view method, const absl::Status& refused,
                           absl::string_view actor);
  // The same for a call whose session credentials were refused, when they
  // name a real session that may not be used (expired, another device, a
  // bad signature, a locked or revoked account): actor "account:<id>". A
  // token that names no session is not audited (anyone could send them).
  absl::Status AuditSessionRefused(absl::string_view method, const absl::Status& refused,
                                   absl::string_view session_token);

  // Lifts in storage the locks whose time has passed (a read already treats
  // them as lifted): each account back to its state before the lock, its
  // report counters moved with it, audited "account.unlocked". At most
  // `limit` a call, the longest overdue first; how many were lifted.
  absl::StatusOr<int> LiftExpiredLocks(int limit);

  // Account officers and holders (account_admin.cc).
  absl::StatusOr<v1::LockAccountResponse> LockAccount(
      const Caller& caller, const v1::LockAccountRequest& r);
  absl::StatusOr<v1::UnlockAccountResponse> UnlockAccount(
      const Caller* officer, const v1::UnlockAccountRequest& r,
      absl::Time deadline = absl::InfiniteFuture());
  absl::StatusOr<v1::RevokeAccountResponse> RevokeAccount(
      const Caller& caller, const v1::RevokeAccountRequest& r);
  absl::StatusOr<v1::GetAccountResponse> GetAccount(
      const Caller& caller, const v1::GetAccountRequest& r);
  absl::StatusOr<v1::SetAccountRolesResponse> SetAccountRoles(
      const Caller& caller, const v1::SetAccountRolesRequest& r);
  absl::StatusOr<v1::SetQrVerificationResponse> SetQrVerification(
      const Caller& caller, const v1::SetQrVerificationRequest& r);

  // Recovery to a new device (recovery.cc).
  absl::StatusOr<v1::StartRecoveryResponse> StartRecovery(
      const v1::StartRecoveryRequest& r);
  absl::StatusOr<v1::ResendRecoveryOtpResponse> ResendRecoveryOtp(
      const v1::ResendRecoveryOtpRequest& r);
  absl::StatusOr<v1::AnswerRecoveryQuestionsResponse> AnswerRecoveryQuestions(
      const v1::AnswerRecoveryQuestionsRequest& r);
  absl::StatusOr<v1::CompleteRecoveryResponse> CompleteRecovery(
      const v1::CompleteRecoveryRequest& r,
      absl::Time deadline = absl::InfiniteFuture());

  // A request_id for a call this service makes on behalf of `id` (at most
  // 64 characters, whatever `id`'s length).
  static std::string DerivedRequestId(absl::string_view purpose,
                                      absl::string_view id);

  // The account id an ID number maps to (keyed hash; stable).
  std::string AccountIdFor(absl::string_view id_number) const;
  // The audit subject of an ID number.
  std::string AuditSubjectOf(absl::string_view id_number) const;

 private:
  friend class ActivationInternals;
  // Proves the holder (login.cc): a fresh challenge signed by the bound
  // device plus the passcode, with `state_check` on the account. Wrong
  // passcodes are counted (and lock) in the same batch; then `refused` is
  // set and the account as written returned. On success `on_success` edits
  // the account and adds mutations to the batch. A passcode that could not
  // be checked by `deadline` (PASSCODE_HASHING_BUSY) changes nothing.
  using HolderSuccess =
      std::function<void(internal::AccountRecord&, std::vector<v1::Mutation>&)>;
  absl::StatusOr<internal::AccountRecord> ProveHolder(
      absl::string_view account_id, absl::string_view challenge_id,
      const v1::DeviceSignature& signature, absl::string_view passcode,
      const std::function<absl::Status(const v1::Account&)>& state_check,
      const HolderSuccess& on_success, absl::Status* refused,
      absl::Time deadline);
  void AuditHolderProof(absl::string_view action, const absl::Status& outcome,
                        absl::string_view account_id,
                        const internal::AccountRecord* after,
                        absl::string_view device_id);

  // Shared helpers (activation.cc).
  struct Flow {
    std::string account_id;
    std::string key;
    internal::FlowRecord record;
    uint64_t version = 0;
  };
  std::string NewFlowId(absl::string_view account_id);
  absl::StatusOr<Flow> ReadFlow(absl::string_view flow_id,
                                internal::FlowKind kind);
  // The flow whose session token is `token`, checked: unused, unexpired.
  // `names_flow`, if given, is set when the token names a real flow, even
  // if its secret is wrong (the caller held a flow id: worth auditing).
  absl::StatusOr<Flow> ReadSession(absl::string_view token, internal::FlowKind kind,
                                   bool* names_flow = nullptr);
  v1::Mutation FlowPut(const Flow& flow, const internal::FlowRecord& record);
  // Sends an OTP for the account through the OTP service.
  absl::StatusOr<v1::SendOtpResponse> SendOtp(const internal::AccountRecord& a,
                                              v1::OtpPurpose purpose,
                                              absl::string_view request_id);
  absl::StatusOr<v1::CheckOtpResponse> CheckOtp(absl::string_view otp_id,
                                                absl::string_view code);
  absl::StatusOr<std::string> SendNotice(const internal::AccountRecord& a,
                                         v1::NoticeKind kind,
                                         absl::string_view request_id);
  // A previous response for `request_id` (if the same request), or null.
  absl::StatusOr<bool> ReplayedResponse(absl::string_view account_id,
                                        absl::string_view request_id,
                                        const google::protobuf::Message& request,
                                        google::protobuf::Message* response);
  // The record that answers a retry of `request_id` with `response`.
  v1::Mutation ResponseMemory(absl::string_view account_id,
                              absl::string_view request_id,
                              const google::protobuf::Message& request,
                              const google::protobuf::Message& response);
  // Writes `record` to `flow` and remembers `*response` to the request that
  // made it, in one batch: one write, and the answer is remembered exactly
  // when the change is made. If the same request got there first (a retry
  // that ran beside this one), nothing is written and `*response` becomes
  // the one it got: both callers hear one answer, and one flow exists; then
  // true (the twin audited it).
  absl::StatusOr<bool> WriteFlowAnswering(const Flow& flow, const internal::FlowRecord& record,
                                  absl::string_view account_id,
                                  absl::string_view request_id,
                                  const google::protobuf::Message& request,
                                  google::protobuf::Message* response);
  absl::Status RememberResponse(absl::string_view account_id,
                                absl::string_view request_id,
                                const google::protobuf::Message& request,
                                const google::protobuf::Message& response);
  // Finds the account of (ID number, phone) for steps 1 and recovery.
  absl::StatusOr<StoredAccount> FindByIdAndPhone(absl::string_view id_number,
                                                 absl::string_view phone);
  absl::StatusOr<std::vector<internal::StoredAnswer>> HashAnswers(
      absl::string_view account_id,
      const google::protobuf::RepeatedPtrField<v1::SecurityAnswer>& answers,
      bool require_catalogue_count);
  void Audit(absl::string_view action, const absl::Status& outcome,
             absl::string_view actor, const internal::AccountRecord* subject,
             absl::string_view request_id,
             std::initializer_list<std::pair<std::string, std::string>> attrs = {});
  // Audits `action` refused before the step had its account in hand (its
  // session was used or expired, its request id did not check out, the
  // account could not be read): under the account `token` names, if it can
  // be read. A token naming no flow or session (SESSION_INVALID, *_NOT_FOUND)
  // is not audited, unless `names_flow` (ReadSession's): anyone could send
  // them. Returns `refused`.
  absl::Status AuditRefused(absl::string_view action, const absl::Status& refused,
                            absl::string_view token, absl::string_view request_id = "",
                            bool names_flow = false);
  // A lock whose time has passed is lifted on read.
  void LiftExpiredLock(internal::AccountRecord& r) const;

  AccountStore& accounts_;
  otp::OtpClient& otp_;
  audit::AuditSink& audit_;
  Clock& clock_;
  RandomSource& random_;
  const PasscodeHasher& hasher_;
  const ActivationSecrets secrets_;
  const ActivationOptions options_;
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_ACTIVATION_H_
