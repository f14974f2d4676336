// Role checks for officials: a role applies within its grant's scope (a
// place prefix and/or an organisation unit); a trusted internal caller holds
// every role.
#ifndef EID_SERVICES_ACTIVATION_ROLE_CHECKS_H_
#define EID_SERVICES_ACTIVATION_ROLE_CHECKS_H_

#include "absl/status/status.h"
#include "services/activation/activation.h"

namespace eid::activation {

// OK if `caller` holds `role` with a scope covering `subject` (null: the
// role anywhere, e.g. before the subject exists). PERMISSION_DENIED
// ROLE_REQUIRED without the role, SCOPE_EXCEEDED outside its scope.
absl::Status RequireRole(const Caller& caller, v1::Role role,
                         const v1::Account* subject);

// Whether `grant`'s scope covers `subject`.
bool ScopeCovers(const v1::RoleGrant& grant, const v1::Account& subject);

// The actor name for audit events: "account:<id>" or "service:internal".
std::string ActorOf(const Caller& caller);

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_ROLE_CHECKS_H_
