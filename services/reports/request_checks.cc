#include "services/reports/request_checks.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/validation/provinces.h"

namespace eid::reports {
namespace {

bool DigitsOfSize(absl::string_view s, size_t size) {
  if (s.size() != size) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::Status CheckLocality(const v1::Locality& place, bool need_province) {
  if (place.province_code().empty()) {
    if (!place.district_code().empty() || !place.commune_code().empty()) {
      return InvalidArgument(v1::LOCALITY_UNKNOWN,
                             "locality: a district or commune needs its province_code");
    }
    if (need_province) {
      return InvalidArgument(v1::FIELD_REQUIRED, "locality.province_code is required");
    }
    return absl::OkStatus();
  }
  if (validation::FindCurrentProvince(place.province_code()) == nullptr) {
    return InvalidArgument(v1::LOCALITY_UNKNOWN,
                           "locality.province_code is not a current province code");
  }
  if ((!place.district_code().empty() && !DigitsOfSize(place.district_code(), 3)) ||
      (!place.commune_code().empty() && !DigitsOfSize(place.commune_code(), 5)) ||
      (place.district_code().empty() && !place.commune_code().empty())) {
    return InvalidArgument(v1::LOCALITY_UNKNOWN,
                           "locality: district is 3 digits, commune 5 digits within "
                           "a district");
  }
  return absl::OkStatus();
}

absl::Status CheckOrgUnit(const v1::OrgUnit& unit) {
  if (unit.kind() == v1::ORG_UNIT_KIND_UNSPECIFIED && unit.code().empty() &&
      unit.name().empty() && unit.parent_code().empty()) {
    return absl::OkStatus();
  }
  if (unit.kind() == v1::ORG_UNIT_KIND_UNSPECIFIED ||
      !v1::OrgUnitKind_IsValid(unit.kind()) || unit.code().empty() ||
      unit.code().size() > 64 || unit.code().find('|') != std::string::npos) {
    return InvalidArgument(v1::ORG_UNIT_INVALID,
                           "org_unit needs a kind and a code of at most 64 characters "
                           "without '|'");
  }
  return absl::OkStatus();
}

absl::Status CheckLevel(v1::AccountLevel level) {
  if (level == v1::ACCOUNT_LEVEL_UNSPECIFIED || level == v1::ACCOUNT_LEVEL_1 ||
      level == v1::ACCOUNT_LEVEL_2) {
    return absl::OkStatus();
  }
  return InvalidArgument(v1::FIELD_INVALID, "level must be unspecified, 1 or 2");
}

absl::StatusOr<std::vector<v1::ReportDimension>> CheckGroupBy(
    const google::protobuf::RepeatedField<int>& group_by) {
  std::vector<v1::ReportDimension> out;
  for (int d : group_by) {
    if (d == v1::REPORT_DIMENSION_UNSPECIFIED || !v1::ReportDimension_IsValid(d)) {
      return InvalidArgument(v1::FIELD_INVALID,
                             absl::StrCat("group_by: unknown dimension ", d));
    }
    for (v1::ReportDimension seen : out) {
      if (seen == d) {
        return InvalidArgument(
            v1::FIELD_INVALID,
            absl::StrCat("group_by: ", v1::ReportDimension_Name(seen), " given twice"));
      }
    }
    out.push_back(static_cast<v1::ReportDimension>(d));
  }
  return out;
}

absl::StatusOr<int> PageSize(const v1::PageRequest& page) {
  if (page.page_size() < 0) {
    return InvalidArgument(v1::FIELD_INVALID, "page.page_size must not be negative");
  }
  if (page.page_size() == 0) return kDefaultPageSize;
  return std::min(page.page_size(), kMaxPageSize);
}

}  // namespace eid::reports
