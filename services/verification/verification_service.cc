#include "services/verification/verification_service.h"

#include "services/common/status.h"

namespace eid::verification {
namespace {

template <typename Response>
grpc::Status Reply(absl::StatusOr<Response> result, Response* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status VerificationService::VerifyQr(grpc::ServerContext*,
                                           const v1::VerifyQrRequest* request,
                                           v1::VerifyQrResponse* response) {
  return Reply(verifier_.VerifyQr(*request), response);
}

grpc::Status VerificationService::ListShareableVerifications(
    grpc::ServerContext*, const v1::ListShareableVerificationsRequest* request,
    v1::ListShareableVerificationsResponse* response) {
  return Reply(wallet_.ListShareableVerifications(*request), response);
}

grpc::Status VerificationService::ShareDocuments(grpc::ServerContext*,
                                                 const v1::ShareDocumentsRequest* request,
                                                 v1::ShareDocumentsResponse* response) {
  return Reply(wallet_.ShareDocuments(*request), response);
}

grpc::Status VerificationService::FetchSharedDocuments(
    grpc::ServerContext*, const v1::FetchSharedDocumentsRequest* request,
    v1::FetchSharedDocumentsResponse* response) {
  return Reply(wallet_.FetchSharedDocuments(*request), response);
}

grpc::Status VerificationService::IntegrateDocument(
    grpc::ServerContext* context, const v1::IntegrateDocumentRequest* request,
    v1::IntegrateDocumentResponse* response) {
  return Reply(wallet_.IntegrateDocument(internal_.IsInternal(*context), *request), response);
}

grpc::Status VerificationService::WithdrawDocument(grpc::ServerContext* context,
                                                   const v1::WithdrawDocumentRequest* request,
                                                   v1::WithdrawDocumentResponse* response) {
  return Reply(wallet_.WithdrawDocument(internal_.IsInternal(*context), *request), response);
}

grpc::Status VerificationService::ListMyDocuments(grpc::ServerContext*,
                                                  const v1::ListMyDocumentsRequest* request,
                                                  v1::ListMyDocumentsResponse* response) {
  return Reply(wallet_.ListMyDocuments(*request), response);
}

}  // namespace eid::verification
