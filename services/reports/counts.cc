#include "services/reports/counts.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/validation/provinces.h"

namespace eid::reports {
namespace {

void Add(v1::CountRow& row, const internal::ReportCounts& c) {
  row.set_registered(row.registered() + c.registered());
  row.set_approved(row.approved() + c.approved());
  row.set_activated(row.activated() + c.activated());
  row.set_awaiting_activation(row.awaiting_activation() + c.awaiting_activation());
  row.set_locked(row.locked() + c.locked());
  row.set_revoked(row.revoked() + c.revoked());
}

void SetRate(v1::CountRow& row) {
  row.set_activation_rate(row.registered() == 0
                              ? 0.0
                              : static_cast<double>(row.activated()) / row.registered());
}

int Depth(v1::ReportDimension d) {
  switch (d) {
    case v1::REPORT_DIMENSION_PROVINCE: return 1;
    case v1::REPORT_DIMENSION_DISTRICT: return 2;
    case v1::REPORT_DIMENSION_COMMUNE: return 3;
    default: return 0;
  }
}

}  // namespace

bool Matches(const Cell& cell, const v1::Locality& place, v1::AccountLevel level,
             v1::OrgUnitKind kind) {
  const v1::Locality& at = cell.locality;
  if (!place.province_code().empty() && place.province_code() != at.province_code()) {
    return false;
  }
  if (!place.district_code().empty() && place.district_code() != at.district_code()) {
    return false;
  }
  if (!place.commune_code().empty() && place.commune_code() != at.commune_code()) {
    return false;
  }
  if (level != v1::ACCOUNT_LEVEL_UNSPECIFIED && level != cell.level) return false;
  return kind == v1::ORG_UNIT_KIND_UNSPECIFIED || kind == cell.org_unit.kind();
}

std::vector<v1::CountRow> GroupRows(const std::vector<Cell>& cells,
                                    const std::vector<v1::ReportDimension>& group_by) {
  int depth = 0;
  for (v1::ReportDimension d : group_by) depth = std::max(depth, Depth(d));
  // Sort key: each dimension's value, fixed width, in group_by order.
  std::map<std::string, v1::CountRow> rows;
  for (const Cell& cell : cells) {
    std::string key;
    for (v1::ReportDimension d : group_by) {
      const v1::Locality& l = cell.locality;
      switch (d) {
        case v1::REPORT_DIMENSION_LEVEL:
          absl::StrAppend(&key, absl::StrFormat("%02d", cell.level), "|");
          break;
        case v1::REPORT_DIMENSION_STATE:
          absl::StrAppend(&key, absl::StrFormat("%02d", cell.state), "|");
          break;
        case v1::REPORT_DIMENSION_PROVINCE:
          absl::StrAppend(&key, l.province_code(), "|");
          break;
        case v1::REPORT_DIMENSION_DISTRICT:
          absl::StrAppend(&key, l.province_code(), "/", l.district_code(), "|");
          break;
        case v1::REPORT_DIMENSION_COMMUNE:
          absl::StrAppend(&key, l.province_code(), "/", l.district_code(), "/",
                          l.commune_code(), "|");
          break;
        case v1::REPORT_DIMENSION_ORG_UNIT:
          absl::StrAppend(&key, absl::StrFormat("%02d", cell.org_unit.kind()), "/",
                          cell.org_unit.code(), "|");
          break;
        default:
          break;
      }
    }
    auto [it, inserted] = rows.try_emplace(key);
    v1::CountRow& row = it->second;
    if (inserted) {
      for (v1::ReportDimension d : group_by) {
        if (d == v1::REPORT_DIMENSION_LEVEL) row.set_level(cell.level);
        if (d == v1::REPORT_DIMENSION_STATE) row.set_state(cell.state);
        if (d == v1::REPORT_DIMENSION_ORG_UNIT) *row.mutable_org_unit() = cell.org_unit;
      }
      if (depth >= 1) {
        row.mutable_locality()->set_province_code(cell.locality.province_code());
        // Only province names are known here (services/validation); district
        // and commune rows carry their codes.
        if (depth == 1) {
          if (const auto* p =
                  validation::FindCurrentProvince(cell.locality.province_code())) {
            row.set_locality_name(std::string(p->name));
          }
        }
      }
      if (depth >= 2) {
        row.mutable_locality()->set_district_code(cell.locality.district_code());
      }
      if (depth >= 3) {
        row.mutable_locality()->set_commune_code(cell.locality.commune_code());
      }
    }
    Add(row, cell.counts);
  }
  std::vector<v1::CountRow> out;
  out.reserve(rows.size());
  for (auto& [key, row] : rows) {
    SetRate(row);
    out.push_back(std::move(row));
  }
  return out;
}

v1::CountRow TotalRow(const std::vector<Cell>& cells) {
  v1::CountRow total;
  for (const Cell& cell : cells) Add(total, cell.counts);
  SetRate(total);
  return total;
}

}  // namespace eid::reports
