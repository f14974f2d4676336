#include "services/qr/qr_service.h"

#include "services/common/status.h"

namespace eid::qr {

grpc::Status QrService::IssueQr(grpc::ServerContext*, const v1::IssueQrRequest* request,
                                v1::IssueQrResponse* response) {
  absl::StatusOr<v1::IssueQrResponse> issued = issuer_.IssueQr(*request);
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  *response = std::move(*issued);
  return grpc::Status::OK;
}

grpc::Status QrService::GetVerificationKeys(grpc::ServerContext*,
                                            const v1::GetVerificationKeysRequest*,
                                            v1::GetVerificationKeysResponse* response) {
  *response = issuer_.GetVerificationKeys();
  return grpc::Status::OK;
}

}  // namespace eid::qr
