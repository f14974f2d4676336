// Activation: construction and the helpers every flow shares.
#include "services/activation/activation.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/activation/person_checks.h"
#include "services/common/keyed_hash.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

constexpr char kFlowsNamespace[] = "flows";

}  // namespace

absl::string_view AccountOfToken(absl::string_view token, size_t max_token_bytes) {
  const size_t dot = token.find('.');
  if (dot == absl::string_view::npos || dot == 0 || dot > 64 ||
      token.size() > max_token_bytes) {
    return "";
  }
  return token.substr(0, dot);
}

Activation::Activation(AccountStore& accounts, otp::OtpClient& otp,
                       audit::AuditSink& audit, Clock& clock,
                       RandomSource& random, const PasscodeHasher& hasher,
                       ActivationSecrets secrets, const ActivationOptions& options)
    : accounts_(accounts),
      otp_(otp),
      audit_(audit),
      clock_(clock),
      random_(random),
      hasher_(hasher),
      secrets_(std::move(secrets)),
      options_(options) {}

std::string Activation::AccountIdFor(absl::string_view id_number) const {
  return AccountIdOf(secrets_.account_id_key, id_number);
}

std::string Activation::DerivedRequestId(absl::string_view purpose,
                                         absl::string_view id) {
  return absl::StrCat(purpose.substr(0, 20), "-",
                      absl::BytesToHexString(Sha256(id)).substr(0, 40));
}

std::string Activation::AuditSubjectOf(absl::string_view id_number) const {
  return KeyedHash(secrets_.audit_subject_key, {id_number});
}

std::string Activation::NewFlowId(absl::string_view account_id) {
  return absl::StrCat(account_id, ".",
                      absl::BytesToHexString(random_.Bytes(16)));
}

v1::Mutation Activation::FlowPut(const Flow& flow,
                                 const internal::FlowRecord& record) {
  v1::Mutation m;
  m.set_namespace_(kFlowsNamespace);
  m.set_key(flow.key);
  m.set_put_value(record.SerializeAsString());
  m.set_expected_version(flow.version);
  // A flow lives flow_lifetime from its start, and as long as its session
  // once it has one (a code verified late in the flow still gets its full
  // session); never less than a minute past a write, which follows a read
  // of the live flow.
  absl::Time expires = FromProtoTime(record.started_at()) + options_.flow_lifetime;
  if (record.has_session_expires_at()) {
    expires = std::max(expires, FromProtoTime(record.session_expires_at()));
  }
  *m.mutable_expires_at() = ToProtoTime(std::max(expires, clock_.Now() + absl::Minutes(1)));
  return m;
}

absl::StatusOr<Activation::Flow> Activation::ReadFlow(absl::string_view flow_id,
                                                      internal::FlowKind kind) {
  const v1::ErrorReason missing = kind == internal::FLOW_KIND_RECOVERY
                                      ? v1::RECOVERY_NOT_FOUND
                                      : v1::ACTIVATION_NOT_FOUND;
  const absl::string_view account_id = AccountOfToken(flow_id, kMaxFlowTokenBytes);
  if (account_id.empty()) return NotFound(missing, "no such flow");
  Flow flow;
  flow.account_id = std::string(account_id);
  flow.key = absl::StrCat(account_id, "|flow|", flow_id.substr(account_id.size() + 1));
  v1::GetRequest get;
  get.set_namespace_(kFlowsNamespace);
  get.set_key(flow.key);
  absl::StatusOr<v1::GetResponse> got = accounts_.kv().Get(get);
  if (!got.ok()) return got.status();
  if (!got->found() || !flow.record.ParseFromString(got->record().value()) ||
      flow.record.kind() != kind) {
    return NotFound(missing, "no such flow (or it expired)");
  }
  flow.version = got->record().version();
  return flow;
}

absl::StatusOr<Activation::Flow> Activation::ReadSession(
    absl::string_view token, internal::FlowKind kind, bool* names_flow) {
  // The session token is the flow id followed by "~" and a secret; only its
  // hash is stored.
  const size_t tilde = token.rfind('~');
  if (tilde == absl::string_view::npos) {
    return Unauthenticated(v1::SESSION_INVALID, "not a session token");
  }
  absl::StatusOr<Flow> flow = ReadFlow(token.substr(0, tilde), kind);
  // Only a flow that is not there ends the session: a shard that cannot be
  // read now (UNAVAILABLE) says nothing about it, and the client retries.
  if (absl::IsNotFound(flow.status())) {
    return Unauthenticated(v1::SESSION_INVALID, "no such session");
  }
  if (!flow.ok()) return flow.status();
  if (names_flow != nullptr) *names_flow = true;
  const internal::FlowRecord& f = flow->record;
  if (f.session_hash().empty() ||
      !ConstantTimeEquals(Sha256(token), f.session_hash())) {
    return Unauthenticated(v1::SESSION_INVALID, "no such session");
  }
  if (f.session_used()) {
    return Unauthenticated(v1::SESSION_USED, "the session was already used");
  }
  if (clock_.Now() >= FromProtoTime(f.session_expires_at())) {
    return Unauthenticated(v1::SESSION_EXPIRED, "the session expired");
  }
  return flow;
}

absl::StatusOr<v1::SendOtpResponse> Activation::SendOtp(
    const internal::AccountRecord& a, v1::OtpPurpose purpose,
    absl::string_view request_id) {
  v1::SendOtpRequest req;
  req.set_request_id(std::string(request_id));
  req.set_account_id(a.account().account_id());
  req.set_phone(a.account().phone());
  req.set_purpose(purpose);
  absl::StatusOr<v1::SendOtpResponse> sent = otp_.SendOtp(req);
  // A code sent, or refused (daily caps, resend too soon, a locked
  // account), is a security event of its own, beside the step's. A retry
  // answered with the code already sent is recorded too, marked: after a
  // timeout it may be the only success on record for that code.
  Audit("otp.sent", sent.status(), "anonymous", &a, request_id,
        {{"otp_purpose", v1::OtpPurpose_Name(purpose)},
         {"otp_id", sent.ok() ? sent->otp_id() : std::string()},
         {"replayed", sent.ok() && sent->replayed() ? "true" : "false"}});
  return sent;
}

absl::StatusOr<v1::CheckOtpResponse> Activation::CheckOtp(
    absl::string_view otp_id, absl::string_view code) {
  v1::CheckOtpRequest req;
  req.set_otp_id(std::string(otp_id));
  req.set_code(std::string(code));
  return otp_.CheckOtp(req);
}

absl::StatusOr<std::string> Activation::SendNotice(
    const internal::AccountRecord& a, v1::NoticeKind kind,
    absl::string_view request_id) {
  v1::SendNoticeRequest req;
  req.set_request_id(std::string(request_id));
  req.set_account_id(a.account().account_id());
  req.set_phone(a.account().phone());
  req.set_kind(kind);
  req.set_full_name(a.account().full_name());
  absl::StatusOr<v1::SendNoticeResponse> resp = otp_.SendNotice(req);
  if (!resp.ok()) return resp.status();
  return resp->message_id();
}

absl::StatusOr<bool> Activation::ReplayedResponse(
    absl::string_view account_id, absl::string_view request_id,
    const google::protobuf::Message& request,
    google::protobuf::Message* response) {
  if (request_id.empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "request_id is required");
  }
  if (request_id.size() > 64) {
    return InvalidArgument(v1::FIELD_INVALID, "request_id is over 64 characters");
  }
  v1::GetRequest get;
  get.set_namespace_(kFlowsNamespace);
  get.set_key(absl::StrCat(account_id, "|request|", request_id));
  absl::StatusOr<v1::GetResponse> got = accounts_.kv().Get(get);
  if (!got.ok()) return got.status();
  if (!got->found()) return false;
  internal::RequestRecord seen;
  if (!seen.ParseFromString(got->record().value())) {
    return absl::DataLossError("request record unreadable");
  }
  const bool other_type = !seen.request_type().empty() &&
                          seen.request_type() != request.GetDescriptor()->full_name();
  if (other_type || !ConstantTimeEquals(seen.request_hash(),
                                        Sha256(request.SerializeAsString()))) {
    return InvalidArgument(v1::REQUEST_ID_CONFLICT,
                           "request_id was used with a different request");
  }
  if (!response->ParseFromString(seen.response())) {
    return absl::DataLossError("remembered response unreadable");
  }
  return true;
}

v1::Mutation Activation::ResponseMemory(absl::string_view account_id,
                                       absl::string_view request_id,
                                       const google::protobuf::Message& request,
                                       const google::protobuf::Message& response) {
  internal::RequestRecord seen;
  seen.set_request_hash(Sha256(request.SerializeAsString()));
  seen.set_response(response.SerializeAsString());
  seen.set_request_type(request.GetDescriptor()->full_name());
  v1::Mutation m;
  m.set_namespace_(kFlowsNamespace);
  m.set_key(absl::StrCat(account_id, "|request|", request_id));
  m.set_put_value(seen.SerializeAsString());
  *m.mutable_expires_at() = ToProtoTime(clock_.Now() + options_.request_memory);
  return m;
}

absl::Status Activation::RememberResponse(
    absl::string_view account_id, absl::string_view request_id,
    const google::protobuf::Message& request,
    const google::protobuf::Message& response) {
  v1::Mutation memory = ResponseMemory(account_id, request_id, request, response);
  // A Put, not a one-mutation Batch: the router retries a Put on a shard
  // that is briefly unavailable (it sets no version, so it is idempotent).
  v1::PutRequest put;
  put.set_namespace_(memory.namespace_());
  put.set_key(memory.key());
  put.set_value(memory.put_value());
  *put.mutable_expires_at() = memory.expires_at();
  return accounts_.kv().Put(put).status();
}

absl::StatusOr<bool> Activation::WriteFlowAnswering(
    const Flow& flow, const internal::FlowRecord& record, absl::string_view account_id,
    absl::string_view request_id, const google::protobuf::Message& request,
    google::protobuf::Message* response) {
  v1::BatchRequest batch;
  *batch.add_mutations() = FlowPut(flow, record);
  v1::Mutation* memory = batch.add_mutations();
  *memory = ResponseMemory(account_id, request_id, request, *response);
  memory->set_expected_version(0);  // Remembered once.
  const absl::Status written = accounts_.kv().Batch(batch).status();
  if (written.ok()) return false;
  if (!LostVersionRace(written)) return written;
  absl::StatusOr<bool> replayed = ReplayedResponse(account_id, request_id, request, response);
  if (!replayed.ok()) return replayed.status();
  if (!*replayed) return written;
  return true;
}

absl::StatusOr<StoredAccount> Activation::FindByIdAndPhone(
    absl::string_view id_number, absl::string_view phone) {
  if (absl::Status s = CheckIdNumberFormat(id_number, clock_.Now()); !s.ok()) return s;
  absl::StatusOr<std::string> normalised = NormalizePhone(phone);
  if (!normalised.ok()) return normalised.status();
  absl::StatusOr<StoredAccount> found = accounts_.Get(AccountIdFor(id_number));
  // The same answer whether the account is missing or the phone is not its
  // own: the response must not reveal which ID numbers have accounts.
  if (!found.ok() || !ConstantTimeEquals(found->record.account().phone(),
                                         *normalised)) {
    if (!found.ok() && ReasonOf(found.status()) != "ACCOUNT_NOT_FOUND") {
      return found.status();
    }
    return NotFound(v1::ACCOUNT_NOT_FOUND,
                    "no account with this ID number and phone");
  }
  LiftExpiredLock(found->record);
  return found;
}

void Activation::LiftExpiredLock(internal::AccountRecord& r) const {
  v1::Account& a = *r.mutable_account();
  if (a.state() != v1::ACCOUNT_STATE_LOCKED || !a.lock().has_locked_until()) {
    return;
  }
  if (clock_.Now() < FromProtoTime(a.lock().locked_until())) return;
  a.set_state(r.state_before_lock());
  a.clear_lock();
  r.set_wrong_passcodes(0);
  r.set_wrong_answers(0);
}

void Activation::Audit(
    absl::string_view action, const absl::Status& outcome,
    absl::string_view actor, const internal::AccountRecord* subject,
    absl::string_view request_id,
    std::initializer_list<std::pair<std::string, std::string>> attrs) {
  v1::AuditEvent event;
  *event.mutable_time() = ToProtoTime(clock_.Now());
  event.set_service("activation");
  event.set_action(std::string(action));
  if (outcome.ok()) {
    event.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  } else {
    const std::string reason = ReasonOf(outcome);
    event.set_outcome(reason.empty() ? v1::AUDIT_OUTCOME_ERROR
                                     : v1::AUDIT_OUTCOME_REJECTED);
    event.set_reason(reason.empty() ? absl::StatusCodeToString(outcome.code())
                                    : reason);
  }
  event.set_actor(actor.empty() ? "anonymous" : std::string(actor));
  if (subject != nullptr) {
    event.set_subject(AuditSubjectOf(subject->id_number()));
    (*event.mutable_attributes())["account_id"] = subject->account().account_id();
  }
  // The caller's: a refused one may be of any length. Cut to the 64 bytes
  // requests may have, on a UTF-8 boundary (a string field must stay UTF-8,
  // or the event could not be read back from the spool).
  size_t cut = std::min<size_t>(request_id.size(), 64);
  while (cut < request_id.size() && cut > 0 &&
         (static_cast<unsigned char>(request_id[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  event.set_request_id(std::string(request_id.substr(0, cut)));
  for (const auto& [k, v] : attrs) (*event.mutable_attributes())[k] = v;
  // The spool is local and durable; if even it fails the event is lost, which
  // the client counts and logs. The citizen's step does not fail for it.
  audit_.Record(std::move(event)).IgnoreError();
}

absl::Status Activation::AuditDenied(absl::string_view method, const absl::Status& refused,
                                     absl::string_view actor) {
  Audit("auth.denied", refused, actor, nullptr, "", {{"method", std::string(method)}});
  return refused;
}

absl::Status Activation::AuditSessionRefused(absl::string_view method,
                                             const absl::Status& refused,
                                             absl::string_view session_token) {
  const std::string reason = ReasonOf(refused);
  bool genuine = MetadataOf(refused, "cause") == "device_replaced";
  for (const char* real : {"SESSION_EXPIRED", "DEVICE_UNKNOWN", "DEVICE_SIGNATURE_INVALID",
                           "ACCOUNT_LOCKED", "ACCOUNT_REVOKED"}) {
    genuine = genuine || reason == real;
  }
  if (!genuine) return refused;
  return AuditDenied(method, refused, absl::StrCat("account:", AccountOfToken(session_token, kMaxSessionTokenBytes)));
}

absl::Status Activation::AuditRefused(absl::string_view action, const absl::Status& refused,
                                      absl::string_view token, absl::string_view request_id,
                                      bool names_flow) {
  // A token that names no flow or session proves nothing of its caller:
  // not audited, or anyone could fill the log (gRPC's metrics count them).
  const std::string reason = ReasonOf(refused);
  if (!names_flow && (reason == "SESSION_INVALID" || reason == "ACTIVATION_NOT_FOUND" ||
                      reason == "RECOVERY_NOT_FOUND")) {
    return refused;
  }
  const absl::string_view account_id = AccountOfToken(token, kMaxFlowTokenBytes);
  absl::StatusOr<StoredAccount> account =
      account_id.empty() ? absl::NotFoundError("no account named") : accounts_.Get(account_id);
  Audit(action, refused, "anonymous", account.ok() ? &account->record : nullptr, request_id);
  return refused;
}

}  // namespace eid::activation
