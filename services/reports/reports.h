// Reports: the core of ReportsService — counts of registrations and
// activations by level, state, place and organisation unit with the
// activation rate, and the approved-but-not-activated lists (pages and a
// CSV export) that district police use to call citizens.
//
// Everything is read from the report index the activation core updates in
// the same atomic batch as each account change (CellReader); no account is
// scanned. Every call — counts, list or export, allowed or refused — is
// audited ("report.viewed", "report.exported"), since the lists hold phones.
//
// Thread-safe.
#ifndef EID_SERVICES_REPORTS_REPORTS_H_
#define EID_SERVICES_REPORTS_REPORTS_H_

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "eid/v1/reports.pb.h"
#include "services/audit/audit_client.h"
#include "services/common/clock.h"
#include "services/reports/cell_reader.h"
#include "services/reports/viewer.h"

namespace eid::reports {

class Reports {
 public:
  // Data rows per CSV chunk.
  static constexpr int kCsvRowsPerChunk = 200;

  Reports(storage::KvStore& kv, const activation::ReportIndex& index,
          audit::AuditSink& audit, Clock& clock)
      : reader_(kv, index), audit_(audit), clock_(clock) {}

  // Errors as reports.proto lists for CountAccounts (but UNAUTHENTICATED,
  // which the service's authenticator returns).
  absl::StatusOr<v1::CountAccountsResponse> CountAccounts(
      const Viewer& viewer, const v1::CountAccountsRequest& request);

  // Oldest approval first; pages continue after the last row returned, so
  // an account activated between two pages shifts nothing.
  absl::StatusOr<v1::ListNotActivatedResponse> ListNotActivated(
      const Viewer& viewer, const v1::ListNotActivatedRequest& request);

  // Calls `write` with each chunk of the CSV file in order; stops with
  // CANCELLED if `write` returns false (the client went away).
  using ChunkWriter = std::function<bool(const v1::ExportNotActivatedCsvResponse&)>;
  absl::Status ExportNotActivatedCsv(const Viewer& viewer,
                                     const v1::ExportNotActivatedCsvRequest& request,
                                     const ChunkWriter& write);

 private:
  // Validates a list's place, level and unit, checks the viewer's scope
  // and reads the matching rows, oldest approval first.
  absl::StatusOr<std::vector<v1::NotActivatedRow>> NotActivatedRows(
      const Viewer& viewer, const v1::Locality& locality, v1::AccountLevel level,
      const v1::OrgUnit& org_unit, Scope* scope);
  absl::StatusOr<v1::CountAccountsResponse> Count(const Viewer& viewer,
                                                  const v1::CountAccountsRequest& request,
                                                  Scope* scope);
  void Audit(absl::string_view action, const absl::Status& outcome, const Viewer& viewer,
             std::initializer_list<std::pair<std::string, std::string>> attributes);

  CellReader reader_;
  audit::AuditSink& audit_;
  Clock& clock_;
};

}  // namespace eid::reports

#endif  // EID_SERVICES_REPORTS_REPORTS_H_
