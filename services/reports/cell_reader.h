// CellReader: reads the report index that the activation core keeps in the
// same batches as each account change (services/activation/report_index.h):
// the counter cells and the not-activated lists, from every shard, by
// prefix scans of the "indexes" namespace — never the accounts themselves.
//
// Thread-safe (no state of its own beyond the store).
#ifndef EID_SERVICES_REPORTS_CELL_READER_H_
#define EID_SERVICES_REPORTS_CELL_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eid/internal/records.pb.h"
#include "eid/v1/reports.pb.h"
#include "services/activation/report_index.h"
#include "storage/shard/kv_store.h"

namespace eid::reports {

// One counter cell: the accounts of one place, level and state (and, for an
// organisation cell, one unit).
struct Cell {
  v1::Locality locality;
  v1::AccountLevel level = v1::ACCOUNT_LEVEL_UNSPECIFIED;
  v1::AccountState state = v1::ACCOUNT_STATE_UNSPECIFIED;
  v1::OrgUnit org_unit;  // Kind and code; unset for a locality cell.
  internal::ReportCounts counts;
};

class CellReader {
 public:
  CellReader(storage::KvStore& kv, const activation::ReportIndex& index)
      : kv_(kv), index_(index) {}

  // Every locality cell under `place` (a prefix; empty: all), each account
  // in exactly one.
  absl::StatusOr<std::vector<Cell>> LocalityCells(const v1::Locality& place);

  // Every organisation cell, or only those of `unit` (kind and code) when
  // its code is set. An account is in one cell per unit it belongs to.
  absl::StatusOr<std::vector<Cell>> OrgCells(const v1::OrgUnit& unit);

  // The accounts now APPROVED in `province` (and `district` if not empty),
  // in no particular order.
  absl::StatusOr<std::vector<v1::NotActivatedRow>> NotActivated(
      absl::string_view province, absl::string_view district);

 private:
  // Calls `each(key, value)` for every record under `prefix` on every shard.
  absl::Status ScanAll(const std::string& suffix,
                       const std::function<absl::Status(absl::string_view,
                                                        const std::string&)>& each);

  storage::KvStore& kv_;
  const activation::ReportIndex& index_;
};

// Parses a cell key after its "<rk>|cell|" part: "L|<place>|<level>|<state>"
// or "O|<kind>|<code>|<place>|<level>|<state>". Exposed for tests.
bool ParseCellKey(absl::string_view key_after_cell, Cell* cell);

}  // namespace eid::reports

#endif  // EID_SERVICES_REPORTS_CELL_READER_H_
