// Activation: recovery to a new device (OTP + security answers).
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/activation/activation.h"
#include "services/activation/device_signature.h"
#include "services/activation/person_checks.h"
#include "services/activation/security_questions.h"
#include "services/common/keyed_hash.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

constexpr char kCompleteRecoveryMethod[] =
    "/eid.v1.ActivationService/CompleteRecovery";

// OK if recovery may start or go on for `a`. No OTP goes to a locked
// account, so a lock must lift (by time or an officer) before recovery.
absl::Status RecoverableState(const v1::Account& a) {
  switch (a.state()) {
    case v1::ACCOUNT_STATE_ACTIVATED:
      return absl::OkStatus();
    case v1::ACCOUNT_STATE_LOCKED:
      return FailedPrecondition(v1::ACCOUNT_LOCKED, "the account is locked");
    case v1::ACCOUNT_STATE_REVOKED:
      return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
    default:
      return FailedPrecondition(v1::ACCOUNT_NOT_ACTIVATED,
                                "the account is not activated: activate it instead");
  }
}

}  // namespace

absl::StatusOr<v1::StartRecoveryResponse> Activation::StartRecovery(
    const v1::StartRecoveryRequest& r) {
  absl::StatusOr<StoredAccount> found = FindByIdAndPhone(r.id_number(), r.phone());
  if (!found.ok()) {
    Audit("recovery.started", found.status(), "anonymous", nullptr, r.request_id());
    return found.status();
  }
  const internal::AccountRecord& account = found->record;
  const std::string& account_id = account.account().account_id();
  v1::StartRecoveryResponse response;
  absl::StatusOr<bool> replayed =
      ReplayedResponse(account_id, r.request_id(), r, &response);
  if (!replayed.ok()) {
    Audit("recovery.started", replayed.status(), "anonymous", &account, r.request_id());
    return replayed.status();
  }
  if (*replayed) return response;

  absl::Status status = RecoverableState(account.account());
  absl::StatusOr<v1::SendOtpResponse> otp;
  bool twin_answered = false;
  if (status.ok()) {
    otp = SendOtp(account, v1::OTP_PURPOSE_RECOVERY,
                  DerivedRequestId("recovery", r.request_id()));
    status = otp.status();
  }
  if (status.ok()) {
    const std::string flow_id = NewFlowId(account_id);
    Flow flow;
    flow.key = absl::StrCat(account_id, "|flow|", flow_id.substr(account_id.size() + 1));
    internal::FlowRecord record;
    record.set_kind(internal::FLOW_KIND_RECOVERY);
    record.set_otp_id(otp->otp_id());
    *record.mutable_started_at() = ToProtoTime(clock_.Now());
    response.set_recovery_id(flow_id);
    *response.mutable_otp_expires_at() = otp->expires_at();
    *response.mutable_resend_available_at() = otp->resend_available_at();
    response.set_masked_phone(MaskPhone(account.account().phone()));
    const std::vector<v1::SecurityQuestion> catalogue =
        SecurityQuestions(r.language());
    for (const internal::StoredAnswer& answer : account.answers()) {
      for (const v1::SecurityQuestion& q : catalogue) {
        if (q.question_id() == answer.question_id()) *response.add_questions() = q;
      }
    }
    response.set_next_step(v1::RECOVERY_STEP_ANSWER_QUESTIONS);
    absl::StatusOr<bool> written =
        WriteFlowAnswering(flow, record, account_id, r.request_id(), r, &response);
    status = written.status();
    twin_answered = written.value_or(false);
  }
  if (twin_answered) return response;  // Its twin made the flow and audited it.
  Audit("recovery.started", status, "anonymous", &account, r.request_id());
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::ResendRecoveryOtpResponse> Activation::ResendRecoveryOtp(
    const v1::ResendRecoveryOtpRequest& r) {
  constexpr char kAction[] = "recovery.otp_resent";
  absl::StatusOr<Flow> flow = ReadFlow(r.recovery_id(), internal::FLOW_KIND_RECOVERY);
  if (!flow.ok()) return AuditRefused(kAction, flow.status(), r.recovery_id(), r.request_id());
  v1::ResendRecoveryOtpResponse response;
  absl::StatusOr<bool> replayed =
      ReplayedResponse(flow->account_id, r.request_id(), r, &response);
  if (!replayed.ok()) {
    return AuditRefused(kAction, replayed.status(), r.recovery_id(), r.request_id());
  }
  if (*replayed) return response;
  absl::StatusOr<StoredAccount> account = accounts_.Get(flow->account_id);
  if (!account.ok()) {
    return AuditRefused(kAction, account.status(), r.recovery_id(), r.request_id());
  }
  LiftExpiredLock(account->record);
  absl::Status status = flow->record.session_hash().empty()
                            ? RecoverableState(account->record.account())
                            : FailedPrecondition(v1::STEP_OUT_OF_ORDER,
                                                 "the OTP was already verified");
  absl::StatusOr<v1::SendOtpResponse> otp;
  bool twin_answered = false;
  if (status.ok()) {
    otp = SendOtp(account->record, v1::OTP_PURPOSE_RECOVERY,
                  DerivedRequestId("recovery", r.request_id()));
    status = otp.status();
  }
  if (status.ok()) {
    internal::FlowRecord record = flow->record;
    record.set_otp_id(otp->otp_id());
    *response.mutable_otp_expires_at() = otp->expires_at();
    *response.mutable_resend_available_at() = otp->resend_available_at();
    absl::StatusOr<bool> written =
        WriteFlowAnswering(*flow, record, flow->account_id, r.request_id(), r, &response);
    status = written.status();
    twin_answered = written.value_or(false);
  }
  if (twin_answered) return response;  // Its twin made the flow and audited it.
  Audit(kAction, status, "anonymous", &account->record, r.request_id());
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::AnswerRecoveryQuestionsResponse>
Activation::AnswerRecoveryQuestions(const v1::AnswerRecoveryQuestionsRequest& r) {
  constexpr char kAction[] = "recovery.answers_checked";
  absl::StatusOr<Flow> flow = ReadFlow(r.recovery_id(), internal::FLOW_KIND_RECOVERY);
  if (!flow.ok()) return AuditRefused(kAction, flow.status(), r.recovery_id());
  absl::StatusOr<StoredAccount> account = accounts_.Get(flow->account_id);
  if (!account.ok()) return AuditRefused(kAction, account.status(), r.recovery_id());
  LiftExpiredLock(account->record);
  const internal::AccountRecord& stored = account->record;
  absl::Status status = flow->record.session_hash().empty()
                            ? RecoverableState(stored.account())
                            : FailedPrecondition(v1::STEP_OUT_OF_ORDER,
                                                 "the answers were already checked");
  absl::StatusOr<std::vector<internal::StoredAnswer>> given;
  if (status.ok()) {
    given = HashAnswers(flow->account_id, r.answers(), false);
    status = given.status();
    if (status.ok() && given->size() < static_cast<size_t>(stored.answers_size())) {
      status = InvalidArgument(v1::SECURITY_ANSWERS_TOO_FEW,
                               "answer every question StartRecovery returned");
    }
  }
  // The OTP first: the answers are only compared for the phone's holder.
  if (status.ok()) {
    absl::StatusOr<v1::CheckOtpResponse> checked =
        CheckOtp(flow->record.otp_id(), r.otp_code());
    status = checked.status();
    if (checked.ok() && (checked->account_id() != flow->account_id ||
                         checked->purpose() != v1::OTP_PURPOSE_RECOVERY)) {
      status = FailedPrecondition(v1::OTP_NOT_FOUND, "the code is not for this flow");
    }
  }
  if (!status.ok()) {
    Audit(kAction, status, "anonymous", &stored, "");
    return status;
  }
  bool all_match = true;
  for (const internal::StoredAnswer& want : stored.answers()) {
    bool match = false;
    for (const internal::StoredAnswer& got : *given) {
      if (got.question_id() == want.question_id()) {
        match = ConstantTimeEquals(got.answer_hash(), want.answer_hash());
      }
    }
    all_match = all_match && match;
  }
  const std::string token = absl::StrCat(
      r.recovery_id(), "~", absl::WebSafeBase64Escape(random_.Bytes(32)));
  const absl::Time expires = clock_.Now() + options_.recovery_session;
  absl::Status refused;
  absl::StatusOr<internal::AccountRecord> after = accounts_.Update(
      flow->account_id,
      [&](const internal::AccountRecord& before, internal::AccountRecord& out)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        out = before;
        LiftExpiredLock(out);
        if (absl::Status s = RecoverableState(out.account()); !s.ok()) return s;
        if (!all_match) {
          out.set_wrong_answers(out.wrong_answers() + 1);
          const int remaining = options_.max_wrong_answers - out.wrong_answers();
          if (remaining <= 0) {
            out.set_state_before_lock(out.account().state());
            v1::Account& a = *out.mutable_account();
            a.set_state(v1::ACCOUNT_STATE_LOCKED);
            a.mutable_lock()->set_reason(v1::LOCK_REASON_WRONG_SECURITY_ANSWERS);
            *a.mutable_lock()->mutable_locked_at() = ToProtoTime(clock_.Now());
            *a.mutable_lock()->mutable_locked_until() =
                ToProtoTime(clock_.Now() + options_.answers_lock);
          }
          refused = WithMetadata(Unauthenticated(v1::SECURITY_ANSWERS_MISMATCH,
                                                 "the answers do not match"),
                                 "remaining_attempts",
                                 absl::StrCat(std::max(remaining, 0)));
          return std::vector<v1::Mutation>{};
        }
        out.set_wrong_answers(0);
        absl::StatusOr<Flow> current = ReadFlow(r.recovery_id(), internal::FLOW_KIND_RECOVERY);
        if (!current.ok()) return current.status();
        internal::FlowRecord record = current->record;
        record.set_session_hash(Sha256(token));
        *record.mutable_session_expires_at() = ToProtoTime(expires);
        return std::vector<v1::Mutation>{FlowPut(*current, record)};
      });
  const absl::Status outcome = after.ok() ? refused : after.status();
  Audit(kAction, outcome, "anonymous",
        after.ok() ? &*after : &stored, "");
  if (after.ok() && after->account().state() == v1::ACCOUNT_STATE_LOCKED) {
    Audit("account.locked", absl::OkStatus(), "service:activation", &*after, "",
          {{"lock_reason", "LOCK_REASON_WRONG_SECURITY_ANSWERS"}});
  }
  if (!outcome.ok()) return outcome;
  v1::AnswerRecoveryQuestionsResponse response;
  response.set_recovery_session_token(token);
  *response.mutable_expires_at() = ToProtoTime(expires);
  response.set_next_step(v1::RECOVERY_STEP_COMPLETE);
  return response;
}

absl::StatusOr<v1::CompleteRecoveryResponse> Activation::CompleteRecovery(
    const v1::CompleteRecoveryRequest& r, absl::Time deadline) {
  constexpr char kAction[] = "recovery.completed";
  bool names_flow = false;
  absl::StatusOr<Flow> first =
      ReadSession(r.recovery_session_token(), internal::FLOW_KIND_RECOVERY, &names_flow);
  if (!first.ok()) {
    return AuditRefused(kAction, first.status(), r.recovery_session_token(), "", names_flow);
  }
  absl::StatusOr<StoredAccount> account = accounts_.Get(first->account_id);
  if (!account.ok()) return AuditRefused(kAction, account.status(), r.recovery_session_token());
  absl::Status valid = absl::OkStatus();
  std::string new_passcode_hash;
  if (r.device_id().empty() || r.device_id().size() > 128) {
    valid = InvalidArgument(v1::FIELD_INVALID, "device_id must be 1 to 128 characters");
  } else if (valid = ValidateDevicePublicKey(r.public_key()); !valid.ok()) {
  } else if (r.proof().device_id() != r.device_id() ||
             !VerifyDeviceSignature(r.public_key(), kCompleteRecoveryMethod,
                                    RequestDigest(r), r.proof().signature())) {
    valid = Unauthenticated(v1::DEVICE_SIGNATURE_INVALID,
                            "proof is not a signature of this request by the new key");
  } else if (!r.new_passcode().empty()) {
    valid = CheckPasscode(r.new_passcode(), account->record.account().date_of_birth());
    if (valid.ok()) {
      absl::StatusOr<std::string> hash = hasher_.Hash(r.new_passcode(), deadline);
      valid = hash.status();
      if (hash.ok()) new_passcode_hash = *hash;
    }
  }
  if (!valid.ok()) {
    Audit(kAction, valid, "anonymous", &account->record, "");
    return valid;
  }
  std::string replaced;
  absl::StatusOr<internal::AccountRecord> done = accounts_.Update(
      first->account_id,
      [&](const internal::AccountRecord& before, internal::AccountRecord& after)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        after = before;
        LiftExpiredLock(after);
        const v1::Account& a = after.account();
        if (a.state() == v1::ACCOUNT_STATE_REVOKED) {
          return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
        }
        if (a.state() == v1::ACCOUNT_STATE_LOCKED) {
          const v1::LockReason reason = a.lock().reason();
          if (reason != v1::LOCK_REASON_WRONG_PASSCODE &&
              reason != v1::LOCK_REASON_HOLDER) {
            return FailedPrecondition(v1::ACCOUNT_LOCKED, "the account is locked");
          }
          after.mutable_account()->set_state(after.state_before_lock());
          after.mutable_account()->clear_lock();
        }
        absl::StatusOr<Flow> flow =
            ReadSession(r.recovery_session_token(), internal::FLOW_KIND_RECOVERY);
        if (!flow.ok()) return flow.status();
        replaced = a.device().device_id() == r.device_id() ? "" : a.device().device_id();
        v1::DeviceInfo& device = *after.mutable_account()->mutable_device();
        device.set_device_id(r.device_id());
        device.set_device_name(r.device_name());
        device.set_public_key(r.public_key());
        *device.mutable_bound_at() = ToProtoTime(clock_.Now());
        *after.mutable_account()->mutable_activated_at() = ToProtoTime(clock_.Now());
        if (!new_passcode_hash.empty()) after.set_passcode_hash(new_passcode_hash);
        after.set_wrong_passcodes(0);
        internal::FlowRecord used = flow->record;
        used.set_session_used(true);
        return std::vector<v1::Mutation>{FlowPut(*flow, used)};
      });
  Audit(kAction, done.status(), "anonymous",
        done.ok() ? &*done : &account->record, "",
        {{"device_id", r.device_id()}});
  if (!done.ok()) return done.status();
  // Warns the citizen, in case it was not them. Keyed by the flow, so a
  // retry does not send it twice.
  SendNotice(*done, v1::NOTICE_KIND_DEVICE_CHANGED,
             DerivedRequestId("device-changed", first->key))
      .status()
      .IgnoreError();
  v1::CompleteRecoveryResponse response;
  *response.mutable_account() = done->account();
  response.set_replaced_device_id(replaced);
  response.set_next_step(v1::RECOVERY_STEP_DONE);
  return response;
}

}  // namespace eid::activation
