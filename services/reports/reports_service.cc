#include "services/reports/reports_service.h"

#include "services/common/status.h"

namespace eid::reports {

grpc::Status ReportsService::CountAccounts(grpc::ServerContext* ctx,
                                           const v1::CountAccountsRequest* r,
                                           v1::CountAccountsResponse* out) {
  absl::StatusOr<Viewer> viewer =
      authenticate_(*ctx, r->credentials(), "/eid.v1.ReportsService/CountAccounts");
  if (!viewer.ok()) return ToGrpcStatus(viewer.status());
  absl::StatusOr<v1::CountAccountsResponse> result = core_.CountAccounts(*viewer, *r);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status ReportsService::ListNotActivated(grpc::ServerContext* ctx,
                                              const v1::ListNotActivatedRequest* r,
                                              v1::ListNotActivatedResponse* out) {
  absl::StatusOr<Viewer> viewer =
      authenticate_(*ctx, r->credentials(), "/eid.v1.ReportsService/ListNotActivated");
  if (!viewer.ok()) return ToGrpcStatus(viewer.status());
  absl::StatusOr<v1::ListNotActivatedResponse> result = core_.ListNotActivated(*viewer, *r);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status ReportsService::ExportNotActivatedCsv(
    grpc::ServerContext* ctx, const v1::ExportNotActivatedCsvRequest* r,
    grpc::ServerWriter<v1::ExportNotActivatedCsvResponse>* writer) {
  absl::StatusOr<Viewer> viewer = authenticate_(
      *ctx, r->credentials(), "/eid.v1.ReportsService/ExportNotActivatedCsv");
  if (!viewer.ok()) return ToGrpcStatus(viewer.status());
  return ToGrpcStatus(core_.ExportNotActivatedCsv(
      *viewer, *r,
      [writer](const v1::ExportNotActivatedCsvResponse& chunk) {
        return writer->Write(chunk);
      }));
}

}  // namespace eid::reports
