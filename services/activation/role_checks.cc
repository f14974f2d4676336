#include "services/activation/role_checks.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace eid::activation {

bool ScopeCovers(const v1::RoleGrant& grant, const v1::Account& subject) {
  const v1::Locality& scope = grant.locality_scope();
  const v1::Locality& place = subject.locality();
  if (!scope.province_code().empty() &&
      scope.province_code() != place.province_code()) {
    return false;
  }
  if (!scope.district_code().empty() &&
      scope.district_code() != place.district_code()) {
    return false;
  }
  if (!scope.commune_code().empty() &&
      scope.commune_code() != place.commune_code()) {
    return false;
  }
  const v1::OrgUnit& unit = grant.org_unit_scope();
  if (unit.code().empty()) return true;
  for (const v1::OrgUnit& member_of : subject.org_units()) {
    if (member_of.kind() == unit.kind() && member_of.code() == unit.code()) {
      return true;
    }
    // Units under the scope's unit (a class of the school) count too.
    if (member_of.parent_code() == unit.code()) return true;
  }
  return false;
}

absl::Status RequireRole(const Caller& caller, v1::Role role,
                         const v1::Account* subject) {
  if (caller.internal) return absl::OkStatus();
  bool held = false;
  for (const v1::RoleGrant& grant : caller.record.account().roles()) {
    if (grant.role() != role) continue;
    held = true;
    if (subject == nullptr || ScopeCovers(grant, *subject)) {
      return absl::OkStatus();
    }
  }
  if (!held) {
    return PermissionDenied(v1::ROLE_REQUIRED,
                            absl::StrCat("this needs ", v1::Role_Name(role)));
  }
  return PermissionDenied(v1::SCOPE_EXCEEDED,
                          absl::StrCat("the account is outside the scope of ",
                                       v1::Role_Name(role)));
}

std::string ActorOf(const Caller& caller) {
  if (caller.internal) return "service:internal";
  return absl::StrCat("account:", caller.record.account().account_id());
}

}  // namespace eid::activation
