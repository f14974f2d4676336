// eidctl reports: the province's table and the district's call list.
//
//   reports counts [--province=P] [--district=D] [--commune=C] [--level=1|2]
//                  [--by=DIM,...]
//       counts of registrations and activations with the activation rate;
//       rows by --by (level, state, province, district, commune, org_unit;
//       "none": the total only), by default one level below the place
//       given (provinces, then districts, then communes).
//   reports not-activated --province=P --district=D [--level=1|2] [--csv]
//       approved accounts not yet activated, oldest approval first: a table,
//       or with --csv the CSV file (UTF-8 with BOM, CRLF) on stdout.
//
// Uses --internal_token_file (operators). Exit 0 on success, 1 when a call
// fails, 2 for bad usage.
#ifndef EID_TOOLS_EIDCTL_REPORTS_H_
#define EID_TOOLS_EIDCTL_REPORTS_H_

#include "tools/eidctl/command.h"

namespace eid::ctl {

int Reports(const CommandContext& ctx);

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_REPORTS_H_
