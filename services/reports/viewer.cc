#include "services/reports/viewer.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace eid::reports {
namespace {

bool IsEmpty(const v1::Locality& l) { return l.province_code().empty(); }

// Whether `scope` (a place prefix) holds `place`.
bool Holds(const v1::Locality& scope, const v1::Locality& place) {
  if (scope.province_code().empty()) return true;
  if (scope.province_code() != place.province_code()) return false;
  if (!scope.district_code().empty() && scope.district_code() != place.district_code()) {
    return false;
  }
  return scope.commune_code().empty() || scope.commune_code() == place.commune_code();
}

}  // namespace

absl::StatusOr<Scope> ScopeFor(const Viewer& viewer, const v1::Locality& locality,
                               const v1::OrgUnit& org_unit) {
  if (viewer.internal) return Scope{locality, org_unit};
  bool held = false;
  for (const v1::RoleGrant& grant : viewer.account.roles()) {
    if (grant.role() != v1::ROLE_REPORT_VIEWER) continue;
    held = true;
    Scope scope{IsEmpty(locality) ? grant.locality_scope() : locality,
                org_unit.code().empty() ? grant.org_unit_scope() : org_unit};
    if (!Holds(grant.locality_scope(), scope.locality)) continue;
    const v1::OrgUnit& unit = grant.org_unit_scope();
    if (!unit.code().empty() &&
        (unit.kind() != scope.org_unit.kind() || unit.code() != scope.org_unit.code())) {
      continue;
    }
    return scope;
  }
  if (!held) {
    return PermissionDenied(v1::ROLE_REQUIRED, "reports need ROLE_REPORT_VIEWER");
  }
  return PermissionDenied(v1::SCOPE_EXCEEDED,
                          "the report asked for is outside the scope of ROLE_REPORT_VIEWER");
}

std::string ActorOf(const Viewer& viewer) {
  if (viewer.internal) return "service:internal";
  return absl::StrCat("account:", viewer.account.account_id());
}

std::string PlaceText(const v1::Locality& l) {
  std::string out = l.province_code();
  if (!l.district_code().empty()) absl::StrAppend(&out, "/", l.district_code());
  if (!l.commune_code().empty()) absl::StrAppend(&out, "/", l.commune_code());
  return out;
}

}  // namespace eid::reports
