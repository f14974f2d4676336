// The roles built from the account services: otp and activation (and the
// pieces they share with the roles that read accounts).
#ifndef EID_SERVICES_EIDD_ACCOUNT_ROLES_H_
#define EID_SERVICES_EIDD_ACCOUNT_ROLES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "services/activation/report_index.h"
#include "services/audit/audit_client.h"
#include "services/eidd/roles.h"

namespace eid {

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateOtpRole(RoleContext& ctx);
absl::StatusOr<std::unique_ptr<RoleInstance>> CreateActivationRole(RoleContext& ctx);

// Shared with the roles that read accounts (reports):
// The report counters' placement over the shards the router knows.
std::unique_ptr<activation::ReportIndex> ReportIndexFor(storage::ShardRouter& router);
// An audit client spooling under <data_dir>/audit-spool-<role>.
absl::StatusOr<std::unique_ptr<audit::AuditClient>> AuditClientFor(RoleContext& ctx,
                                                                   absl::string_view role);

}  // namespace eid

#endif  // EID_SERVICES_EIDD_ACCOUNT_ROLES_H_
