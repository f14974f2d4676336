// eidctl qr: identity QR tokens at the terminal.
#ifndef EID_TOOLS_EIDCTL_QR_H_
#define EID_TOOLS_EIDCTL_QR_H_

#include "tools/eidctl/command.h"

namespace eid::ctl {

// `qr keys`: the QR service's published verification keys.
// `qr show TOKEN`: the token as terminal art, its fields, and an offline
// check against the published keys (signature and time; not the replay
// guard nor the account: only VerifyQr answers GENUINE).
int Qr(const CommandContext& ctx);

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_QR_H_
