// eidctl accounts import FILE: bulk registration from a CSV or JSON-lines
// file (docs/reports.md), streamed to ActivationService.ImportRegistrations
// in batches (one stream per batch, whose summary comes back before the
// next starts), with progress on stderr. Rows the file format rejects are
// not sent; they are reported with the server's failures, by line number.
// Needs --internal_token_file (the operator's token: every role).
#ifndef EID_TOOLS_EIDCTL_ACCOUNTS_H_
#define EID_TOOLS_EIDCTL_ACCOUNTS_H_

#include "tools/eidctl/command.h"

namespace eid::ctl {

// Exit 0 when every row was imported (or already there), 1 when some row
// failed or a call failed, 2 for bad usage or an unreadable file.
int Accounts(const CommandContext& ctx);

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_ACCOUNTS_H_
