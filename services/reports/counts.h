// The counts table: report cells summed into rows by the grouped
// dimensions, with a total row. Pure functions, for the core and its tests.
#ifndef EID_SERVICES_REPORTS_COUNTS_H_
#define EID_SERVICES_REPORTS_COUNTS_H_

#include <vector>

#include "eid/v1/reports.pb.h"
#include "services/reports/cell_reader.h"

namespace eid::reports {

// Whether `cell` matches `filter`'s place prefix, level and unit kind (the
// unit itself is chosen by which cells were read).
bool Matches(const Cell& cell, const v1::Locality& place, v1::AccountLevel level,
             v1::OrgUnitKind kind);

// Sums the matching `cells` into one row per distinct value of `group_by`
// (in row-sort order: group_by order, then by code), the rate filled in.
std::vector<v1::CountRow> GroupRows(const std::vector<Cell>& cells,
                                    const std::vector<v1::ReportDimension>& group_by);

// The sum of `cells` as one row, with its rate.
v1::CountRow TotalRow(const std::vector<Cell>& cells);

}  // namespace eid::reports

#endif  // EID_SERVICES_REPORTS_COUNTS_H_
