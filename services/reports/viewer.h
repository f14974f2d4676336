// Who reads a report, and which part of the country they may see.
//
// Scope rule (kept simple on purpose): an official needs a
// ROLE_REPORT_VIEWER grant. A grant with a locality scope covers the places
// under it (a province grant covers its districts and communes); a grant
// with an organisation-unit scope covers that unit (same kind and code)
// only. A request naming no place (or no unit) is narrowed to the grant's
// scope, so a province official asking for "the country" gets their
// province. Trusted internal callers (operators with the internal token)
// see everything.
#ifndef EID_SERVICES_REPORTS_VIEWER_H_
#define EID_SERVICES_REPORTS_VIEWER_H_

#include <string>

#include "absl/status/statusor.h"
#include "eid/v1/activation.pb.h"

namespace eid::reports {

struct Viewer {
  bool internal = false;  // Internal token, no session: every scope.
  v1::Account account;    // The official's account (roles), when !internal.
};

// The part of the country a request may read.
struct Scope {
  v1::Locality locality;  // Empty: the whole country.
  v1::OrgUnit org_unit;   // Code empty: every unit.
};

// The scope `viewer` reads when asking for `locality` and `org_unit`
// (either may be empty): the asked scope, narrowed to the first covering
// ROLE_REPORT_VIEWER grant where the request left it open.
// PERMISSION_DENIED ROLE_REQUIRED without the role, SCOPE_EXCEEDED when no
// grant covers the request.
absl::StatusOr<Scope> ScopeFor(const Viewer& viewer, const v1::Locality& locality,
                               const v1::OrgUnit& org_unit);

// "account:<id>" or "service:internal", for audit events.
std::string ActorOf(const Viewer& viewer);

// "01/001/00001"-style text of a place ("" for the whole country).
std::string PlaceText(const v1::Locality& locality);

}  // namespace eid::reports

#endif  // EID_SERVICES_REPORTS_VIEWER_H_
