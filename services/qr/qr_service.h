// QrService over gRPC: converts, delegates to QrIssuer, converts back.
#ifndef EID_SERVICES_QR_QR_SERVICE_H_
#define EID_SERVICES_QR_QR_SERVICE_H_

#include "eid/v1/qr.grpc.pb.h"
#include "services/qr/qr_issuer.h"

namespace eid::qr {

class QrService final : public v1::QrService::Service {
 public:
  explicit QrService(QrIssuer& issuer) : issuer_(issuer) {}

  grpc::Status IssueQr(grpc::ServerContext* context, const v1::IssueQrRequest* request,
                       v1::IssueQrResponse* response) override;
  grpc::Status GetVerificationKeys(grpc::ServerContext* context,
                                   const v1::GetVerificationKeysRequest* request,
                                   v1::GetVerificationKeysResponse* response) override;

 private:
  QrIssuer& issuer_;
};

}  // namespace eid::qr

#endif  // EID_SERVICES_QR_QR_SERVICE_H_
