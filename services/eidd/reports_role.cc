#include "services/eidd/reports_role.h"

#include "services/activation/session_client.h"
#include "services/common/internal_auth.h"
#include "services/common/status.h"
#include "services/eidd/account_roles.h"
#include "services/reports/reports.h"
#include "services/reports/reports_service.h"

namespace eid {
namespace {

class ReportsRole : public RoleInstance {
 public:
  static absl::StatusOr<std::unique_ptr<RoleInstance>> Create(RoleContext& ctx) {
    auto role = std::unique_ptr<ReportsRole>(new ReportsRole());
    absl::StatusOr<std::unique_ptr<InternalAuth>> internal = InternalAuthOf(ctx);
    if (!internal.ok()) return internal.status();
    role->internal_ = std::move(*internal);
    role->index_ = ReportIndexFor(*ctx.shards);
    absl::StatusOr<std::unique_ptr<audit::AuditClient>> audit =
        AuditClientFor(ctx, "reports");
    if (!audit.ok()) return audit.status();
    role->audit_ = std::move(*audit);
    role->core_ = std::make_unique<reports::Reports>(*ctx.shards, *role->index_,
                                                     *role->audit_, *ctx.clock);
    auto channel_to = ctx.channel_to;
    role->sessions_ = std::make_unique<activation::SessionClient>(
        [channel_to] { return channel_to("activation"); }, *role->internal_);
    role->service_ = std::make_unique<reports::ReportsService>(
        *role->core_, Authenticator(*role->internal_, *role->sessions_));
    return std::unique_ptr<RoleInstance>(std::move(role));
  }

  std::vector<GrpcServer::Service> Services() override {
    return {{"eid.v1.ReportsService", service_.get()}};
  }
  // The audit sender calls the audit role, perhaps through this process's
  // server: it stops before the server does.
  void Stopping() override { audit_->StopSending(); }

 private:
  ReportsRole() = default;

  // Operators by the internal token (no session); officials by their login
  // session, which activation checks.
  static reports::ViewerAuthenticator Authenticator(const InternalAuth& internal,
                                                    activation::SessionChecker& sessions) {
    return [&internal, &sessions](const grpc::ServerContext& context,
                                   const v1::Credentials& credentials,
                                   absl::string_view method)
               -> absl::StatusOr<reports::Viewer> {
      reports::Viewer viewer;
      if (credentials.session_token().empty() && internal.IsInternal(context)) {
        viewer.internal = true;
        return viewer;
      }
      if (credentials.session_token().empty()) {
        return Unauthenticated(v1::SESSION_INVALID,
                               "credentials.session_token is required");
      }
      absl::StatusOr<v1::AuthenticateSessionResponse> session =
          sessions.Check(credentials, method, nullptr);
      if (!session.ok()) return session.status();
      viewer.account = std::move(*session->mutable_account());
      return viewer;
    };
  }

  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<activation::ReportIndex> index_;
  std::unique_ptr<audit::AuditClient> audit_;
  std::unique_ptr<activation::SessionClient> sessions_;
  std::unique_ptr<reports::Reports> core_;
  std::unique_ptr<reports::ReportsService> service_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateReportsRole(RoleContext& ctx) {
  return ReportsRole::Create(ctx);
}

}  // namespace eid
