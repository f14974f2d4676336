// ActivationService: the gRPC face of Activation. Authenticates the caller
// (a login session, with the device signature where the RPC asks for one,
// or a trusted internal caller), calls the core, and converts its status
// once (ToGrpcStatus).
#ifndef EID_SERVICES_ACTIVATION_ACTIVATION_SERVICE_H_
#define EID_SERVICES_ACTIVATION_ACTIVATION_SERVICE_H_

#include "eid/v1/activation.grpc.pb.h"
#include "services/activation/activation.h"
#include "services/common/internal_auth.h"

namespace eid::activation {

class ActivationService final : public v1::ActivationService::Service {
 public:
  ActivationService(Activation& core, const InternalAuth& internal)
      : core_(core), internal_(internal) {}

  grpc::Status RegisterLevel1(grpc::ServerContext*, const v1::RegisterLevel1Request*,
                              v1::RegisterLevel1Response*) override;
  grpc::Status RegisterLevel2(grpc::ServerContext*, const v1::RegisterLevel2Request*,
                              v1::RegisterLevel2Response*) override;
  grpc::Status ApproveRegistration(grpc::ServerContext*,
                                   const v1::ApproveRegistrationRequest*,
                                   v1::ApproveRegistrationResponse*) override;
  grpc::Status ImportRegistrations(
      grpc::ServerContext*, grpc::ServerReader<v1::ImportRegistrationsRequest>*,
      v1::ImportRegistrationsResponse*) override;
  grpc::Status StartActivation(grpc::ServerContext*, const v1::StartActivationRequest*,
                               v1::StartActivationResponse*) override;
  grpc::Status ResendActivationOtp(grpc::ServerContext*,
                                   const v1::ResendActivationOtpRequest*,
                                   v1::ResendActivationOtpResponse*) override;
  grpc::Status VerifyActivationOtp(grpc::ServerContext*,
                                   const v1::VerifyActivationOtpRequest*,
                                   v1::VerifyActivationOtpResponse*) override;
  grpc::Status SetPasscode(grpc::ServerContext*, const v1::SetPasscodeRequest*,
                           v1::SetPasscodeResponse*) override;
  grpc::Status ListSecurityQuestions(grpc::ServerContext*,
                                     const v1::ListSecurityQuestionsRequest*,
                                     v1::ListSecurityQuestionsResponse*) override;
  grpc::Status SetSecurityAnswers(grpc::ServerContext*,
                                  const v1::SetSecurityAnswersRequest*,
                                  v1::SetSecurityAnswersResponse*) override;
  grpc::Status ActivateDevice(grpc::ServerContext*, const v1::ActivateDeviceRequest*,
                              v1::ActivateDeviceResponse*) override;
  grpc::Status CreateLoginChallenge(grpc::ServerContext*,
                                    const v1::CreateLoginChallengeRequest*,
                                    v1::CreateLoginChallengeResponse*) override;
  grpc::Status Login(grpc::ServerContext*, const v1::LoginRequest*,
                     v1::LoginResponse*) override;
  grpc::Status Logout(grpc::ServerContext*, const v1::LogoutRequest*,
                      v1::LogoutResponse*) override;
  grpc::Status LockAccount(grpc::ServerContext*, const v1::LockAccountRequest*,
                           v1::LockAccountResponse*) override;
  grpc::Status UnlockAccount(grpc::ServerContext*, const v1::UnlockAccountRequest*,
                             v1::UnlockAccountResponse*) override;
  grpc::Status RevokeAccount(grpc::ServerContext*, const v1::RevokeAccountRequest*,
                             v1::RevokeAccountResponse*) override;
  grpc::Status StartRecovery(grpc::ServerContext*, const v1::StartRecoveryRequest*,
                             v1::StartRecoveryResponse*) override;
  grpc::Status ResendRecoveryOtp(grpc::ServerContext*,
                                 const v1::ResendRecoveryOtpRequest*,
                                 v1::ResendRecoveryOtpResponse*) override;
  grpc::Status AnswerRecoveryQuestions(grpc::ServerContext*,
                                       const v1::AnswerRecoveryQuestionsRequest*,
                                       v1::AnswerRecoveryQuestionsResponse*) override;
  grpc::Status CompleteRecovery(grpc::ServerContext*,
                                const v1::CompleteRecoveryRequest*,
                                v1::CompleteRecoveryResponse*) override;
  grpc::Status SetQrVerification(grpc::ServerContext*,
                                 const v1::SetQrVerificationRequest*,
                                 v1::SetQrVerificationResponse*) override;
  grpc::Status GetAccount(grpc::ServerContext*, const v1::GetAccountRequest*,
                          v1::GetAccountResponse*) override;
  grpc::Status SetAccountRoles(grpc::ServerContext*, const v1::SetAccountRolesRequest*,
                               v1::SetAccountRolesResponse*) override;
  grpc::Status AuthenticateSession(grpc::ServerContext*,
                                   const v1::AuthenticateSessionRequest*,
                                   v1::AuthenticateSessionResponse*) override;
  grpc::Status AuthenticateSessionBatch(grpc::ServerContext*,
                                        const v1::AuthenticateSessionBatchRequest*,
                                        v1::AuthenticateSessionBatchResponse*) override;

 private:
  // The caller of an RPC carrying `credentials`: an internal caller when the
  // credentials are empty and the internal token is there; otherwise the
  // session's holder, with the device signature over `request` checked if
  // one was sent.
  absl::StatusOr<Caller> CallerOf(const grpc::ServerContext& context,
                                  const v1::Credentials& credentials,
                                  absl::string_view method,
                                  const google::protobuf::Message& request);

  Activation& core_;
  const InternalAuth& internal_;
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_ACTIVATION_SERVICE_H_
