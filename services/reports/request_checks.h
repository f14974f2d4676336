// Validation of the reports' request fields: each bad field is
// INVALID_ARGUMENT with a stable reason, checked before anything is read.
#ifndef EID_SERVICES_REPORTS_REQUEST_CHECKS_H_
#define EID_SERVICES_REPORTS_REQUEST_CHECKS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "eid/v1/reports.pb.h"

namespace eid::reports {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// A place filter: empty, or a current province code, then a 3-digit
// district and a 5-digit commune (a commune needs its district).
// LOCALITY_UNKNOWN otherwise. With `need_province`, an empty place is
// FIELD_REQUIRED.
absl::Status CheckLocality(const v1::Locality& place, bool need_province);

// A unit filter: unset (all fields empty), or a valid kind and a code of at
// most 64 characters without '|'. ORG_UNIT_INVALID otherwise.
absl::Status CheckOrgUnit(const v1::OrgUnit& unit);

// Unspecified, level 1 or level 2; FIELD_INVALID otherwise.
absl::Status CheckLevel(v1::AccountLevel level);

// Each a known dimension, at most once; FIELD_INVALID otherwise.
absl::StatusOr<std::vector<v1::ReportDimension>> CheckGroupBy(
    const google::protobuf::RepeatedField<int>& group_by);

// The page size to use: 0 -> 50, above 1000 -> 1000; negative FIELD_INVALID.
absl::StatusOr<int> PageSize(const v1::PageRequest& page);

}  // namespace eid::reports

#endif  // EID_SERVICES_REPORTS_REQUEST_CHECKS_H_
