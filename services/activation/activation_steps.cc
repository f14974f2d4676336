// Activation: the seed's five steps.
#include "absl/container/flat_hash_set.h"
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

constexpr char kActivateDeviceMethod[] = "/eid.v1.ActivationService/ActivateDevice";

// Why an account in this state cannot be activated; OK if it can.
absl::Status ActivatableState(const v1::Account& a) {
  switch (a.state()) {
    case v1::ACCOUNT_STATE_APPROVED:
      return absl::OkStatus();
    case v1::ACCOUNT_STATE_REGISTERED:
      return FailedPrecondition(v1::ACCOUNT_NOT_APPROVED,
                                "the registration is not approved yet");
    case v1::ACCOUNT_STATE_ACTIVATED:
      return FailedPrecondition(v1::ACCOUNT_ALREADY_ACTIVATED,
                                "the account is already activated");
    case v1::ACCOUNT_STATE_LOCKED:
      return FailedPrecondition(v1::ACCOUNT_LOCKED, "the account is locked");
    default:
      return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
  }
}

}  // namespace

absl::StatusOr<v1::StartActivationResponse> Activation::StartActivation(
    const v1::StartActivationRequest& r) {
  absl::StatusOr<StoredAccount> found = FindByIdAndPhone(r.id_number(), r.phone());
  if (!found.ok()) {
    Audit("activation.started", found.status(), "anonymous", nullptr, r.request_id());
    return found.status();
  }
  const internal::AccountRecord& account = found->record;
  const std::string& account_id = account.account().account_id();
  v1::StartActivationResponse response;
  absl::StatusOr<bool> replayed =
      ReplayedResponse(account_id, r.request_id(), r, &response);
  if (!replayed.ok()) {
    Audit("activation.started", replayed.status(), "anonymous", &account, r.request_id());
    return replayed.status();
  }
  if (*replayed) return response;

  absl::Status status = ActivatableState(account.account());
  absl::StatusOr<v1::SendOtpResponse> otp;
  bool twin_answered = false;
  if (status.ok()) {
    otp = SendOtp(account, v1::OTP_PURPOSE_ACTIVATION,
                  DerivedRequestId("activation", r.request_id()));
    status = otp.status();
  }
  if (status.ok()) {
    const std::string flow_id = NewFlowId(account_id);
    Flow flow;
    flow.key = absl::StrCat(account_id, "|flow|", flow_id.substr(account_id.size() + 1));
    internal::FlowRecord record;
    record.set_kind(internal::FLOW_KIND_ACTIVATION);
    record.set_otp_id(otp->otp_id());
    *record.mutable_started_at() = ToProtoTime(clock_.Now());
    response.set_activation_id(flow_id);
    *response.mutable_otp_expires_at() = otp->expires_at();
    *response.mutable_resend_available_at() = otp->resend_available_at();
    response.set_masked_phone(MaskPhone(account.account().phone()));
    response.set_next_step(v1::ACTIVATION_STEP_VERIFY_OTP);
    absl::StatusOr<bool> written =
        WriteFlowAnswering(flow, record, account_id, r.request_id(), r, &response);
    status = written.status();
    twin_answered = written.value_or(false);
  }
  if (twin_answered) return response;  // Its twin made the flow and audited it.
  Audit("activation.started", status, "anonymous", &account, r.request_id(),
        {{"masked_phone", MaskPhone(account.account().phone())}});
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::ResendActivationOtpResponse> Activation::ResendActivationOtp(
    const v1::ResendActivationOtpRequest& r) {
  constexpr char kAction[] = "activation.otp_resent";
  absl::StatusOr<Flow> flow = ReadFlow(r.activation_id(), internal::FLOW_KIND_ACTIVATION);
  if (!flow.ok()) return AuditRefused(kAction, flow.status(), r.activation_id(), r.request_id());
  v1::ResendActivationOtpResponse response;
  absl::StatusOr<bool> replayed =
      ReplayedResponse(flow->account_id, r.request_id(), r, &response);
  if (!replayed.ok()) {
    return AuditRefused(kAction, replayed.status(), r.activation_id(), r.request_id());
  }
  if (*replayed) return response;

  absl::StatusOr<StoredAccount> account = accounts_.Get(flow->account_id);
  if (!account.ok()) {
    return AuditRefused(kAction, account.status(), r.activation_id(), r.request_id());
  }
  LiftExpiredLock(account->record);
  absl::Status status = flow->record.session_hash().empty()
                            ? ActivatableState(account->record.account())
                            : FailedPrecondition(v1::STEP_OUT_OF_ORDER,
                                                 "the OTP was already verified");
  absl::StatusOr<v1::SendOtpResponse> otp;
  bool twin_answered = false;
  if (status.ok()) {
    otp = SendOtp(account->record, v1::OTP_PURPOSE_ACTIVATION,
                  DerivedRequestId("activation", r.request_id()));
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

absl::StatusOr<v1::VerifyActivationOtpResponse> Activation::VerifyActivationOtp(
    const v1::VerifyActivationOtpRequest& r) {
  constexpr char kAction[] = "activation.otp_verified";
  absl::StatusOr<Flow> flow = ReadFlow(r.activation_id(), internal::FLOW_KIND_ACTIVATION);
  if (!flow.ok()) return AuditRefused(kAction, flow.status(), r.activation_id());
  absl::StatusOr<StoredAccount> account = accounts_.Get(flow->account_id);
  if (!account.ok()) return AuditRefused(kAction, account.status(), r.activation_id());
  LiftExpiredLock(account->record);
  absl::Status status = flow->record.session_hash().empty()
                            ? ActivatableState(account->record.account())
                            : FailedPrecondition(v1::STEP_OUT_OF_ORDER,
                                                 "the OTP was already verified");
  if (status.ok()) {
    absl::StatusOr<v1::CheckOtpResponse> checked = CheckOtp(flow->record.otp_id(), r.code());
    status = checked.status();
    if (checked.ok() && (checked->account_id() != flow->account_id ||
                         checked->purpose() != v1::OTP_PURPOSE_ACTIVATION)) {
      status = FailedPrecondition(v1::OTP_NOT_FOUND, "the code is not for this flow");
    }
  }
  v1::VerifyActivationOtpResponse response;
  if (status.ok()) {
    const std::string token = absl::StrCat(
        r.activation_id(), "~", absl::WebSafeBase64Escape(random_.Bytes(32)));
    const absl::Time expires = clock_.Now() + options_.activation_session;
    internal::FlowRecord record = flow->record;
    record.set_session_hash(Sha256(token));
    *record.mutable_session_expires_at() = ToProtoTime(expires);
    v1::BatchRequest batch;
    *batch.add_mutations() = FlowPut(*flow, record);
    status = accounts_.kv().Batch(batch).status();
    response.set_activation_session_token(token);
    *response.mutable_expires_at() = ToProtoTime(expires);
    response.set_next_step(v1::ACTIVATION_STEP_SET_PASSCODE);
  }
  Audit(kAction, status, "anonymous", &account->record, "");
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::SetPasscodeResponse> Activation::SetPasscode(
    const v1::SetPasscodeRequest& r, absl::Time deadline) {
  constexpr char kAction[] = "activation.passcode_set";
  bool names_flow = false;
  absl::StatusOr<Flow> flow =
      ReadSession(r.activation_session_token(), internal::FLOW_KIND_ACTIVATION, &names_flow);
  if (!flow.ok()) {
    return AuditRefused(kAction, flow.status(), r.activation_session_token(), "", names_flow);
  }
  absl::StatusOr<StoredAccount> account = accounts_.Get(flow->account_id);
  if (!account.ok()) return AuditRefused(kAction, account.status(), r.activation_session_token());
  absl::Status status =
      CheckPasscode(r.passcode(), account->record.account().date_of_birth());
  absl::StatusOr<std::string> hash;
  if (status.ok()) {
    hash = hasher_.Hash(r.passcode(), deadline);
    status = hash.status();
  }
  if (status.ok()) {
    internal::FlowRecord record = flow->record;
    record.set_passcode_hash(*hash);
    record.set_passcode_set(true);
    v1::BatchRequest batch;
    *batch.add_mutations() = FlowPut(*flow, record);
    status = accounts_.kv().Batch(batch).status();
  }
  Audit(kAction, status, "anonymous", &account->record, "");
  if (!status.ok()) return status;
  v1::SetPasscodeResponse response;
  response.set_next_step(v1::ACTIVATION_STEP_SET_SECURITY_ANSWERS);
  return response;
}

v1::ListSecurityQuestionsResponse Activation::ListSecurityQuestions(
    const v1::ListSecurityQuestionsRequest& r) const {
  v1::ListSecurityQuestionsResponse response;
  for (v1::SecurityQuestion& q : SecurityQuestions(r.language())) {
    *response.add_questions() = std::move(q);
  }
  response.set_required_answers(kRequiredSecurityAnswers);
  return response;
}

absl::StatusOr<std::vector<internal::StoredAnswer>> Activation::HashAnswers(
    absl::string_view account_id,
    const google::protobuf::RepeatedPtrField<v1::SecurityAnswer>& answers,
    bool require_catalogue_count) {
  if (require_catalogue_count && answers.size() < kRequiredSecurityAnswers) {
    return InvalidArgument(
        v1::SECURITY_ANSWERS_TOO_FEW,
        absl::StrCat("answer at least ", kRequiredSecurityAnswers, " questions"));
  }
  absl::flat_hash_set<std::string> seen;
  std::vector<internal::StoredAnswer> out;
  for (const v1::SecurityAnswer& answer : answers) {
    if (!IsKnownQuestion(answer.question_id())) {
      return InvalidArgument(v1::SECURITY_QUESTION_UNKNOWN,
                             absl::StrCat("unknown question ", answer.question_id()));
    }
    if (!seen.insert(answer.question_id()).second) {
      return InvalidArgument(v1::SECURITY_QUESTION_DUPLICATE,
                             absl::StrCat("question ", answer.question_id(),
                                          " answered twice"));
    }
    absl::StatusOr<std::string> normalised = NormalizeAnswer(answer.answer());
    if (!normalised.ok()) return normalised.status();
    internal::StoredAnswer& stored = out.emplace_back();
    stored.set_question_id(answer.question_id());
    stored.set_answer_hash(KeyedHash(secrets_.answer_pepper,
                                     {account_id, answer.question_id(), *normalised}));
  }
  return out;
}

absl::StatusOr<v1::SetSecurityAnswersResponse> Activation::SetSecurityAnswers(
    const v1::SetSecurityAnswersRequest& r) {
  constexpr char kAction[] = "activation.security_answers_set";
  bool names_flow = false;
  absl::StatusOr<Flow> flow =
      ReadSession(r.activation_session_token(), internal::FLOW_KIND_ACTIVATION, &names_flow);
  if (!flow.ok()) {
    return AuditRefused(kAction, flow.status(), r.activation_session_token(), "", names_flow);
  }
  absl::StatusOr<StoredAccount> account = accounts_.Get(flow->account_id);
  if (!account.ok()) return AuditRefused(kAction, account.status(), r.activation_session_token());
  absl::Status status =
      flow->record.passcode_set()
          ? absl::OkStatus()
          : FailedPrecondition(v1::STEP_OUT_OF_ORDER, "set the passcode first");
  absl::StatusOr<std::vector<internal::StoredAnswer>> hashed;
  if (status.ok()) {
    hashed = HashAnswers(flow->account_id, r.answers(), true);
    status = hashed.status();
  }
  if (status.ok()) {
    internal::FlowRecord record = flow->record;
    record.clear_answers();
    for (internal::StoredAnswer& a : *hashed) *record.add_answers() = std::move(a);
    record.set_answers_set(true);
    v1::BatchRequest batch;
    *batch.add_mutations() = FlowPut(*flow, record);
    status = accounts_.kv().Batch(batch).status();
  }
  Audit(kAction, status, "anonymous", &account->record, "");
  if (!status.ok()) return status;
  v1::SetSecurityAnswersResponse response;
  response.set_next_step(v1::ACTIVATION_STEP_ACTIVATE_DEVICE);
  return response;
}

absl::StatusOr<v1::ActivateDeviceResponse> Activation::ActivateDevice(
    const v1::ActivateDeviceRequest& r) {
  bool names_flow = false;
  absl::StatusOr<Flow> first =
      ReadSession(r.activation_session_token(), internal::FLOW_KIND_ACTIVATION, &names_flow);
  if (!first.ok()) {
    return AuditRefused("activation.device_activated", first.status(),
                        r.activation_session_token(), "", names_flow);
  }
  absl::Status valid = absl::OkStatus();
  if (!first->record.passcode_set() || !first->record.answers_set()) {
    valid = FailedPrecondition(v1::STEP_OUT_OF_ORDER,
                               "set the passcode and security answers first");
  } else if (r.device_id().empty() || r.device_id().size() > 128) {
    valid = InvalidArgument(v1::FIELD_INVALID, "device_id must be 1 to 128 characters");
  } else if (valid = ValidateDevicePublicKey(r.public_key()); !valid.ok()) {
  } else if (r.proof().device_id() != r.device_id() ||
             !VerifyDeviceSignature(r.public_key(), kActivateDeviceMethod,
                                    RequestDigest(r), r.proof().signature())) {
    valid = Unauthenticated(v1::DEVICE_SIGNATURE_INVALID,
                            "proof is not a signature of this request by the new key");
  }
  if (!valid.ok()) {
    absl::StatusOr<StoredAccount> account = accounts_.Get(first->account_id);
    Audit("activation.device_activated", valid, "anonymous",
          account.ok() ? &account->record : nullptr, "");
    return valid;
  }

  absl::StatusOr<internal::AccountRecord> activated = accounts_.Update(
      first->account_id,
      [&](const internal::AccountRecord& before, internal::AccountRecord& after)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        internal::AccountRecord current = before;
        LiftExpiredLock(current);
        if (absl::Status s = ActivatableState(current.account()); !s.ok()) return s;
        // Re-read the session: a concurrent use of it must lose.
        absl::StatusOr<Flow> flow =
            ReadSession(r.activation_session_token(), internal::FLOW_KIND_ACTIVATION);
        if (!flow.ok()) return flow.status();
        after = current;
        v1::Account& a = *after.mutable_account();
        a.set_state(v1::ACCOUNT_STATE_ACTIVATED);
        *a.mutable_activated_at() = ToProtoTime(clock_.Now());
        v1::DeviceInfo& device = *a.mutable_device();
        device.set_device_id(r.device_id());
        device.set_device_name(r.device_name());
        device.set_public_key(r.public_key());
        *device.mutable_bound_at() = ToProtoTime(clock_.Now());
        after.set_ever_activated(true);
        after.set_passcode_hash(flow->record.passcode_hash());
        *after.mutable_answers() = flow->record.answers();
        after.set_wrong_passcodes(0);
        after.set_wrong_answers(0);
        internal::FlowRecord used = flow->record;
        used.set_session_used(true);
        used.clear_passcode_hash();
        used.clear_answers();
        return std::vector<v1::Mutation>{FlowPut(*flow, used)};
      });
  Audit("activation.device_activated", activated.status(), "anonymous",
        activated.ok() ? &*activated : nullptr, "", {{"device_id", r.device_id()}});
  if (!activated.ok()) return activated.status();
  v1::ActivateDeviceResponse response;
  *response.mutable_account() = activated->account();
  response.set_next_step(v1::ACTIVATION_STEP_DONE);
  return response;
}

}  // namespace eid::activation
