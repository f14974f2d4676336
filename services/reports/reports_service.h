// ReportsService: the gRPC face of Reports. Authenticates the caller (an
// official's login session, checked by the activation service, or a
// trusted internal caller by the internal token), calls the core and
// converts its status once (ToGrpcStatus).
#ifndef EID_SERVICES_REPORTS_REPORTS_SERVICE_H_
#define EID_SERVICES_REPORTS_REPORTS_SERVICE_H_

#include <functional>

#include "eid/v1/reports.grpc.pb.h"
#include "services/reports/reports.h"

namespace eid::reports {

// Who calls with `credentials` on `method` (the full gRPC name).
// UNAUTHENTICATED (SESSION_INVALID, SESSION_EXPIRED) for a bad session;
// UNAVAILABLE when sessions cannot be checked.
using ViewerAuthenticator = std::function<absl::StatusOr<Viewer>(
    const grpc::ServerContext& context, const v1::Credentials& credentials,
    absl::string_view method)>;

class ReportsService final : public v1::ReportsService::Service {
 public:
  ReportsService(Reports& core, ViewerAuthenticator authenticate)
      : core_(core), authenticate_(std::move(authenticate)) {}

  grpc::Status CountAccounts(grpc::ServerContext*, const v1::CountAccountsRequest*,
                             v1::CountAccountsResponse*) override;
  grpc::Status ListNotActivated(grpc::ServerContext*, const v1::ListNotActivatedRequest*,
                                v1::ListNotActivatedResponse*) override;
  grpc::Status ExportNotActivatedCsv(
      grpc::ServerContext*, const v1::ExportNotActivatedCsvRequest*,
      grpc::ServerWriter<v1::ExportNotActivatedCsvResponse>*) override;

 private:
  Reports& core_;
  const ViewerAuthenticator authenticate_;
};

}  // namespace eid::reports

#endif  // EID_SERVICES_REPORTS_REPORTS_SERVICE_H_
