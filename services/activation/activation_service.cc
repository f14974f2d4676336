#include "services/activation/activation_service.h"

#include "absl/strings/str_cat.h"
#include "services/activation/device_signature.h"
#include "services/activation/session_client.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

constexpr char kPrefix[] = "/eid.v1.ActivationService/";

template <typename Response>
grpc::Status Reply(absl::StatusOr<Response> result, Response* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = std::move(*result);
  return grpc::Status::OK;
}

std::string Method(absl::string_view name) { return absl::StrCat(kPrefix, name); }

// The client's deadline for the call (infinite if it set none).
absl::Time DeadlineOf(const grpc::ServerContext& ctx) {
  return absl::FromChrono(ctx.deadline());
}

}  // namespace

absl::StatusOr<Caller> ActivationService::CallerOf(
    const grpc::ServerContext& context, const v1::Credentials& credentials,
    absl::string_view method, const google::protobuf::Message& request) {
  if (credentials.session_token().empty()) {
    if (internal_.IsInternal(context)) {
      Caller caller;
      caller.internal = true;
      return caller;
    }
    return Unauthenticated(v1::SESSION_INVALID, "credentials.session_token is required");
  }
  std::string digest;
  if (credentials.has_device_signature()) digest = RequestDigest(request);
  absl::StatusOr<Caller> caller = core_.Authenticate(
      credentials, method, credentials.has_device_signature() ? &digest : nullptr);
  if (!caller.ok()) {
    return core_.AuditSessionRefused(method, caller.status(), credentials.session_token());
  }
  return caller;
}

grpc::Status ActivationService::RegisterLevel1(grpc::ServerContext*,
                                               const v1::RegisterLevel1Request* r,
                                               v1::RegisterLevel1Response* out) {
  return Reply(core_.RegisterLevel1(*r), out);
}

grpc::Status ActivationService::RegisterLevel2(grpc::ServerContext* ctx,
                                               const v1::RegisterLevel2Request* r,
                                               v1::RegisterLevel2Response* out) {
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, r->credentials(), Method("RegisterLevel2"), *r);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(core_.RegisterLevel2(*caller, *r), out);
}

grpc::Status ActivationService::ApproveRegistration(
    grpc::ServerContext* ctx, const v1::ApproveRegistrationRequest* r,
    v1::ApproveRegistrationResponse* out) {
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, r->credentials(), Method("ApproveRegistration"), *r);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(core_.ApproveRegistration(*caller, *r), out);
}

grpc::Status ActivationService::ImportRegistrations(
    grpc::ServerContext* ctx, grpc::ServerReader<v1::ImportRegistrationsRequest>* reader,
    v1::ImportRegistrationsResponse* out) {
  v1::ImportRegistrationsRequest row;
  if (!reader->Read(&row)) return grpc::Status::OK;  // An empty file.
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, row.credentials(), Method("ImportRegistrations"), row);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  do {
    if (absl::Status s = core_.ImportRow(*caller, row, *out); !s.ok()) {
      return ToGrpcStatus(s);
    }
  } while (reader->Read(&row));
  return grpc::Status::OK;
}

grpc::Status ActivationService::StartActivation(grpc::ServerContext*,
                                                const v1::StartActivationRequest* r,
                                                v1::StartActivationResponse* out) {
  return Reply(core_.StartActivation(*r), out);
}

grpc::Status ActivationService::ResendActivationOtp(
    grpc::ServerContext*, const v1::ResendActivationOtpRequest* r,
    v1::ResendActivationOtpResponse* out) {
  return Reply(core_.ResendActivationOtp(*r), out);
}

grpc::Status ActivationService::VerifyActivationOtp(
    grpc::ServerContext*, const v1::VerifyActivationOtpRequest* r,
    v1::VerifyActivationOtpResponse* out) {
  return Reply(core_.VerifyActivationOtp(*r), out);
}

grpc::Status ActivationService::SetPasscode(grpc::ServerContext* ctx,
                                            const v1::SetPasscodeRequest* r,
                                            v1::SetPasscodeResponse* out) {
  return Reply(core_.SetPasscode(*r, DeadlineOf(*ctx)), out);
}

grpc::Status ActivationService::ListSecurityQuestions(
    grpc::ServerContext*, const v1::ListSecurityQuestionsRequest* r,
    v1::ListSecurityQuestionsResponse* out) {
  *out = core_.ListSecurityQuestions(*r);
  return grpc::Status::OK;
}

grpc::Status ActivationService::SetSecurityAnswers(
    grpc::ServerContext*, const v1::SetSecurityAnswersRequest* r,
    v1::SetSecurityAnswersResponse* out) {
  return Reply(core_.SetSecurityAnswers(*r), out);
}

grpc::Status ActivationService::ActivateDevice(grpc::ServerContext*,
                                               const v1::ActivateDeviceRequest* r,
                                               v1::ActivateDeviceResponse* out) {
  return Reply(core_.ActivateDevice(*r), out);
}

grpc::Status ActivationService::CreateLoginChallenge(
    grpc::ServerContext*, const v1::CreateLoginChallengeRequest* r,
    v1::CreateLoginChallengeResponse* out) {
  return Reply(core_.CreateLoginChallenge(*r), out);
}

grpc::Status ActivationService::Login(grpc::ServerContext* ctx, const v1::LoginRequest* r,
                                      v1::LoginResponse* out) {
  return Reply(core_.Login(*r, DeadlineOf(*ctx)), out);
}

grpc::Status ActivationService::Logout(grpc::ServerContext*, const v1::LogoutRequest* r,
                                       v1::LogoutResponse*) {
  return ToGrpcStatus(core_.Logout(*r));
}

grpc::Status ActivationService::LockAccount(grpc::ServerContext* ctx,
                                            const v1::LockAccountRequest* r,
                                            v1::LockAccountResponse* out) {
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, r->credentials(), Method("LockAccount"), *r);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(core_.LockAccount(*caller, *r), out);
}

grpc::Status ActivationService::UnlockAccount(grpc::ServerContext* ctx,
                                              const v1::UnlockAccountRequest* r,
                                              v1::UnlockAccountResponse* out) {
  if (r->has_holder()) {
    return Reply(core_.UnlockAccount(nullptr, *r, DeadlineOf(*ctx)), out);
  }
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, r->officer(), Method("UnlockAccount"), *r);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(core_.UnlockAccount(&*caller, *r), out);
}

grpc::Status ActivationService::RevokeAccount(grpc::ServerContext* ctx,
                                              const v1::RevokeAccountRequest* r,
                                              v1::RevokeAccountResponse* out) {
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, r->credentials(), Method("RevokeAccount"), *r);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(core_.RevokeAccount(*caller, *r), out);
}

grpc::Status ActivationService::StartRecovery(grpc::ServerContext*,
                                              const v1::StartRecoveryRequest* r,
                                              v1::StartRecoveryResponse* out) {
  return Reply(core_.StartRecovery(*r), out);
}

grpc::Status ActivationService::ResendRecoveryOtp(
    grpc::ServerContext*, const v1::ResendRecoveryOtpRequest* r,
    v1::ResendRecoveryOtpResponse* out) {
  return Reply(core_.ResendRecoveryOtp(*r), out);
}

grpc::Status ActivationService::AnswerRecoveryQuestions(
    grpc::ServerContext*, const v1::AnswerRecoveryQuestionsRequest* r,
    v1::AnswerRecoveryQuestionsResponse* out) {
  return Reply(core_.AnswerRecoveryQuestions(*r), out);
}

grpc::Status ActivationService::CompleteRecovery(
    grpc::ServerContext* ctx, const v1::CompleteRecoveryRequest* r,
    v1::CompleteRecoveryResponse* out) {
  return Reply(core_.CompleteRecovery(*r, DeadlineOf(*ctx)), out);
}

grpc::Status ActivationService::SetQrVerification(
    grpc::ServerContext* ctx, const v1::SetQrVerificationRequest* r,
    v1::SetQrVerificationResponse* out) {
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, r->credentials(), Method("SetQrVerification"), *r);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(core_.SetQrVerification(*caller, *r), out);
}

grpc::Status ActivationService::GetAccount(grpc::ServerContext* ctx,
                                           const v1::GetAccountRequest* r,
                                           v1::GetAccountResponse* out) {
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, r->credentials(), Method("GetAccount"), *r);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(core_.GetAccount(*caller, *r), out);
}

grpc::Status ActivationService::SetAccountRoles(grpc::ServerContext* ctx,
                                                const v1::SetAccountRolesRequest* r,
                                                v1::SetAccountRolesResponse* out) {
  absl::StatusOr<Caller> caller =
      CallerOf(*ctx, r->credentials(), Method("SetAccountRoles"), *r);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(core_.SetAccountRoles(*caller, *r), out);
}

grpc::Status ActivationService::AuthenticateSession(
    grpc::ServerContext* ctx, const v1::AuthenticateSessionRequest* r,
    v1::AuthenticateSessionResponse* out) {
  if (!internal_.IsInternal(*ctx)) {
    return ToGrpcStatus(PermissionDenied(v1::INTERNAL_CALLER_ONLY,
                                         "AuthenticateSession is for eid services"));
  }
  return Reply(core_.AuthenticateSession(*r), out);
}

grpc::Status ActivationService::AuthenticateSessionBatch(
    grpc::ServerContext* ctx, const v1::AuthenticateSessionBatchRequest* r,
    v1::AuthenticateSessionBatchResponse* out) {
  if (!internal_.IsInternal(*ctx)) {
    return ToGrpcStatus(PermissionDenied(v1::INTERNAL_CALLER_ONLY,
                                         "AuthenticateSessionBatch is for eid services"));
  }
  if (r->checks_size() > kMaxAuthenticateBatch) {
    return ToGrpcStatus(InvalidArgument(
        v1::BATCH_TOO_LARGE,
        absl::StrCat("at most ", kMaxAuthenticateBatch, " checks per call")));
  }
  out->mutable_results()->Reserve(r->checks_size());
  for (const v1::AuthenticateSessionRequest& check : r->checks()) {
    absl::StatusOr<v1::AuthenticateSessionResponse> checked = core_.AuthenticateSession(check);
    v1::AuthenticateSessionResult& result = *out->add_results();
    if (checked.ok()) {
      *result.mutable_authenticated() = std::move(*checked);
    } else {
      *result.mutable_error() = ToStatusDetails(checked.status());
    }
  }
  return grpc::Status::OK;
}

}  // namespace eid::activation
