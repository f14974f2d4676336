// VerificationService over gRPC: converts, delegates to Verifier (VerifyQr)
// and Wallet (documents), converts back.
#ifndef EID_SERVICES_VERIFICATION_VERIFICATION_SERVICE_H_
#define EID_SERVICES_VERIFICATION_VERIFICATION_SERVICE_H_

#include "eid/v1/verification.grpc.pb.h"
#include "services/common/internal_auth.h"
#include "services/verification/verifier.h"
#include "services/verification/wallet.h"

namespace eid::verification {

class VerificationService final : public v1::VerificationService::Service {
 public:
  // `internal` tells agencies' backends (IntegrateDocument,
  // WithdrawDocument) from end users.
  VerificationService(Verifier& verifier, Wallet& wallet, const InternalAuth& internal)
      : verifier_(verifier), wallet_(wallet), internal_(internal) {}

  grpc::Status VerifyQr(grpc::ServerContext* context, const v1::VerifyQrRequest* request,
                        v1::VerifyQrResponse* response) override;
  grpc::Status ListShareableVerifications(
      grpc::ServerContext* context, const v1::ListShareableVerificationsRequest* request,
      v1::ListShareableVerificationsResponse* response) override;
  grpc::Status ShareDocuments(grpc::ServerContext* context,
                              const v1::ShareDocumentsRequest* request,
                              v1::ShareDocumentsResponse* response) override;
  grpc::Status FetchSharedDocuments(grpc::ServerContext* context,
                                    const v1::FetchSharedDocumentsRequest* request,
                                    v1::FetchSharedDocumentsResponse* response) override;
  grpc::Status IntegrateDocument(grpc::ServerContext* context,
                                 const v1::IntegrateDocumentRequest* request,
                                 v1::IntegrateDocumentResponse* response) override;
  grpc::Status WithdrawDocument(grpc::ServerContext* context,
                                const v1::WithdrawDocumentRequest* request,
                                v1::WithdrawDocumentResponse* response) override;
  grpc::Status ListMyDocuments(grpc::ServerContext* context,
                               const v1::ListMyDocumentsRequest* request,
                               v1::ListMyDocumentsResponse* response) override;

 private:
  Verifier& verifier_;
  Wallet& wallet_;
  const InternalAuth& internal_;
};

}  // namespace eid::verification

#endif  // EID_SERVICES_VERIFICATION_VERIFICATION_SERVICE_H_
