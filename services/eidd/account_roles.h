// The roles built from the account services: otp and activation (and the
// pieces they share with the roles that read accounts).
#ifndef EID_SERVICES_EIDD_ACCOUNT_ROLES_H_
#define EID_SERVICES_EIDD_ACCOUNT_ROLES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "services/eidd/roles.h"

namespace eid {

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateOtpRole(RoleContext& ctx);
absl::StatusOr<std::unique_ptr<RoleInstance>> CreateActivationRole(RoleContext& ctx);

}  // namespace eid

#endif  // EID_SERVICES_EIDD_ACCOUNT_ROLES_H_
