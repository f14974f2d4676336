#include "services/reports/reports.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/reports/counts.h"
#include "services/reports/csv.h"
#include "services/reports/page_token.h"
#include "services/reports/request_checks.h"

namespace eid::reports {
namespace {

// The list's sort key: approval time (µs, fixed width), then account id.
std::string SortKey(const v1::NotActivatedRow& row) {
  return absl::StrFormat("%016d|%s", absl::ToUnixMicros(FromProtoTime(row.approved_at())),
                         row.account_id());
}

bool InUnit(const v1::NotActivatedRow& row, const v1::OrgUnit& unit) {
  if (unit.code().empty()) return true;
  for (const v1::OrgUnit& member_of : row.org_units()) {
    if (member_of.kind() == unit.kind() && member_of.code() == unit.code()) return true;
    // Units under the unit (a class of the school) count too.
    if (member_of.parent_code() == unit.code()) return true;
  }
  return false;
}

std::string UnitText(const v1::OrgUnit& unit) {
  if (unit.code().empty()) return "";
  return absl::StrCat(v1::OrgUnitKind_Name(unit.kind()), "/", unit.code());
}

}  // namespace

void Reports::Audit(absl::string_view action, const absl::Status& outcome,
                    const Viewer& viewer,
                    std::initializer_list<std::pair<std::string, std::string>> attributes) {
  v1::AuditEvent event;
  *event.mutable_time() = ToProtoTime(clock_.Now());
  event.set_service("reports");
  event.set_action(std::string(action));
  if (outcome.ok()) {
    event.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  } else {
    const std::string reason = ReasonOf(outcome);
    event.set_outcome(reason.empty() ? v1::AUDIT_OUTCOME_ERROR : v1::AUDIT_OUTCOME_REJECTED);
    event.set_reason(reason.empty() ? absl::StatusCodeToString(outcome.code()) : reason);
  }
  event.set_actor(ActorOf(viewer));
  for (const auto& [k, v] : attributes) {
    if (!v.empty()) (*event.mutable_attributes())[k] = v;
  }
  // The spool is local and durable; losing even that is counted by the
  // client, and the read is not refused for it.
  audit_.Record(std::move(event)).IgnoreError();
}

absl::StatusOr<v1::CountAccountsResponse> Reports::CountAccounts(
    const Viewer& viewer, const v1::CountAccountsRequest& request) {
  Scope scope;
  absl::StatusOr<v1::CountAccountsResponse> out = Count(viewer, request, &scope);
  Audit("report.viewed", out.status(), viewer,
        {{"report", "counts"},
         {"locality", PlaceText(scope.locality)},
         {"org_unit", UnitText(scope.org_unit)},
         {"rows", out.ok() ? absl::StrCat(out->rows_size()) : ""}});
  return out;
}

absl::StatusOr<v1::CountAccountsResponse> Reports::Count(
    const Viewer& viewer, const v1::CountAccountsRequest& request, Scope* scope) {
  const v1::ReportFilter& filter = request.filter();
  absl::StatusOr<std::vector<v1::ReportDimension>> group_by =
      CheckGroupBy(request.group_by());
  if (!group_by.ok()) return group_by.status();
  if (absl::Status s = CheckLocality(filter.locality(), false); !s.ok()) return s;
  if (absl::Status s = CheckOrgUnit(filter.org_unit()); !s.ok()) return s;
  if (!v1::OrgUnitKind_IsValid(filter.org_unit_kind())) {
    return InvalidArgument(v1::ORG_UNIT_INVALID, "filter.org_unit_kind is unknown");
  }
  if (absl::Status s = CheckLevel(filter.level()); !s.ok()) return s;
  absl::StatusOr<int> page_size = PageSize(request.page());
  if (!page_size.ok()) return page_size.status();
  v1::CountAccountsRequest bound = request;
  bound.clear_credentials();
  bound.clear_page();
  const uint64_t fingerprint = Fingerprint(bound);
  size_t offset = 0;
  if (!request.page().page_token().empty()) {
    absl::StatusOr<std::string> cursor =
        DecodePageToken(request.page().page_token(), "counts", fingerprint);
    if (!cursor.ok()) return cursor.status();
    if (!absl::SimpleAtoi(*cursor, &offset)) {
      return InvalidArgument(v1::PAGE_TOKEN_INVALID, "page.page_token is damaged");
    }
  }
  absl::StatusOr<Scope> allowed = ScopeFor(viewer, filter.locality(), filter.org_unit());
  if (!allowed.ok()) return allowed.status();
  *scope = *allowed;

  const bool by_unit = std::find(group_by->begin(), group_by->end(),
                                 v1::REPORT_DIMENSION_ORG_UNIT) != group_by->end();
  auto keep = [&](std::vector<Cell> cells, v1::OrgUnitKind kind) {
    cells.erase(std::remove_if(cells.begin(), cells.end(),
                               [&](const Cell& c) {
                                 return !Matches(c, scope->locality, filter.level(), kind);
                               }),
                cells.end());
    return cells;
  };
  std::vector<Cell> total_cells;
  std::vector<Cell> row_cells;
  if (!scope->org_unit.code().empty()) {
    // One unit: its own cells hold each member once.
    absl::StatusOr<std::vector<Cell>> cells = reader_.OrgCells(scope->org_unit);
    if (!cells.ok()) return cells.status();
    total_cells = keep(std::move(*cells), v1::ORG_UNIT_KIND_UNSPECIFIED);
    row_cells = total_cells;
  } else {
    absl::StatusOr<std::vector<Cell>> cells = reader_.LocalityCells(scope->locality);
    if (!cells.ok()) return cells.status();
    total_cells = keep(std::move(*cells), v1::ORG_UNIT_KIND_UNSPECIFIED);
    if (by_unit) {
      absl::StatusOr<std::vector<Cell>> units = reader_.OrgCells(v1::OrgUnit());
      if (!units.ok()) return units.status();
      row_cells = keep(std::move(*units), filter.org_unit_kind());
    } else {
      row_cells = total_cells;
    }
  }

  v1::CountAccountsResponse out;
  *out.mutable_total() = TotalRow(total_cells);
  *out.mutable_as_of() = ToProtoTime(clock_.Now());
  if (!group_by->empty()) {
    std::vector<v1::CountRow> rows = GroupRows(row_cells, *group_by);
    const size_t end = std::min(rows.size(), offset + *page_size);
    for (size_t i = offset; i < end; ++i) *out.add_rows() = std::move(rows[i]);
    if (end < rows.size()) {
      out.set_next_page_token(EncodePageToken("counts", fingerprint, absl::StrCat(end)));
    }
  }
  return out;
}

absl::StatusOr<std::vector<v1::NotActivatedRow>> Reports::NotActivatedRows(
    const Viewer& viewer, const v1::Locality& locality, v1::AccountLevel level,
    const v1::OrgUnit& org_unit, Scope* scope) {
  if (absl::Status s = CheckLocality(locality, true); !s.ok()) return s;
  if (absl::Status s = CheckLevel(level); !s.ok()) return s;
  if (absl::Status s = CheckOrgUnit(org_unit); !s.ok()) return s;
  absl::StatusOr<Scope> allowed = ScopeFor(viewer, locality, org_unit);
  if (!allowed.ok()) return allowed.status();
  *scope = *allowed;
  absl::StatusOr<std::vector<v1::NotActivatedRow>> rows = reader_.NotActivated(
      scope->locality.province_code(), scope->locality.district_code());
  if (!rows.ok()) return rows.status();
  const std::string& commune = scope->locality.commune_code();
  rows->erase(std::remove_if(rows->begin(), rows->end(),
                             [&](const v1::NotActivatedRow& r) {
                               return (!commune.empty() &&
                                       r.locality().commune_code() != commune) ||
                                      (level != v1::ACCOUNT_LEVEL_UNSPECIFIED &&
                                       r.level() != level) ||
                                      !InUnit(r, scope->org_unit);
                             }),
              rows->end());
  std::sort(rows->begin(), rows->end(),
            [](const v1::NotActivatedRow& a, const v1::NotActivatedRow& b) {
              return SortKey(a) < SortKey(b);
            });
  return rows;
}

absl::StatusOr<v1::ListNotActivatedResponse> Reports::ListNotActivated(
    const Viewer& viewer, const v1::ListNotActivatedRequest& request) {
  Scope scope;
  v1::ListNotActivatedResponse out;
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<int> page_size = PageSize(request.page());
    if (!page_size.ok()) return page_size.status();
    v1::ListNotActivatedRequest bound = request;
    bound.clear_credentials();
    bound.clear_page();
    const uint64_t fingerprint = Fingerprint(bound);
    std::string after;
    if (!request.page().page_token().empty()) {
      absl::StatusOr<std::string> cursor =
          DecodePageToken(request.page().page_token(), "not_activated", fingerprint);
      if (!cursor.ok()) return cursor.status();
      after = std::move(*cursor);
    }
    absl::StatusOr<std::vector<v1::NotActivatedRow>> rows = NotActivatedRows(
        viewer, request.locality(), request.level(), request.org_unit(), &scope);
    if (!rows.ok()) return rows.status();
    out.set_total_count(rows->size());
    auto it = rows->begin();
    if (!after.empty()) {
      it = std::upper_bound(rows->begin(), rows->end(), after,
                            [](const std::string& key, const v1::NotActivatedRow& r) {
                              return key < SortKey(r);
                            });
    }
    for (; it != rows->end() && out.rows_size() < *page_size; ++it) *out.add_rows() = *it;
    if (it != rows->end()) {
      out.set_next_page_token(
          EncodePageToken("not_activated", fingerprint, SortKey(out.rows(out.rows_size() - 1))));
    }
    return absl::OkStatus();
  }();
  Audit("report.viewed", status, viewer,
        {{"report", "not_activated"},
         {"locality", PlaceText(scope.locality)},
         {"org_unit", UnitText(scope.org_unit)},
         {"rows", status.ok() ? absl::StrCat(out.rows_size()) : ""}});
  if (!status.ok()) return status;
  return out;
}

absl::Status Reports::ExportNotActivatedCsv(const Viewer& viewer,
                                            const v1::ExportNotActivatedCsvRequest& request,
                                            const ChunkWriter& write) {
  Scope scope;
  uint64_t sent = 0;
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<std::vector<v1::NotActivatedRow>> rows = NotActivatedRows(
        viewer, request.locality(), request.level(), request.org_unit(), &scope);
    if (!rows.ok()) return rows.status();
    v1::ExportNotActivatedCsvResponse chunk;
    chunk.set_total_rows(rows->size());
    std::string name = absl::StrCat("chua-kich-hoat_", scope.locality.province_code());
    if (!scope.locality.district_code().empty()) {
      absl::StrAppend(&name, "_", scope.locality.district_code());
    }
    if (!scope.locality.commune_code().empty()) {
      absl::StrAppend(&name, "_", scope.locality.commune_code());
    }
    chunk.set_file_name(absl::StrCat(name, ".csv"));
    std::string bytes = CsvHead();
    for (size_t i = 0; i <= rows->size(); ++i) {
      const bool last = i == rows->size();
      if (!last) {
        absl::StrAppend(&bytes, CsvLine(i + 1, (*rows)[i]));
        chunk.set_rows(chunk.rows() + 1);
      }
      if ((last && !bytes.empty()) || chunk.rows() == kCsvRowsPerChunk) {
        chunk.set_csv_chunk(std::move(bytes));
        if (!write(chunk)) return absl::CancelledError("the client went away");
        sent += chunk.rows();
        bytes.clear();
        chunk.Clear();
      }
    }
    return absl::OkStatus();
  }();
  Audit("report.exported", status, viewer,
        {{"report", "not_activated"},
         {"locality", PlaceText(scope.locality)},
         {"org_unit", UnitText(scope.org_unit)},
         {"rows", absl::StrCat(sent)}});
  return status;
}

}  // namespace eid::reports
