// The reports role: ReportsService over the storage shards' report index,
// officials checked by the activation service, reads audited.
#ifndef EID_SERVICES_EIDD_REPORTS_ROLE_H_
#define EID_SERVICES_EIDD_REPORTS_ROLE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "services/eidd/roles.h"

namespace eid {

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateReportsRole(RoleContext& ctx);

}  // namespace eid

#endif  // EID_SERVICES_EIDD_REPORTS_ROLE_H_
