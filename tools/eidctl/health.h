// `eidctl health`: the gRPC health of the server and of every eid service.
#ifndef EID_TOOLS_EIDCTL_HEALTH_H_
#define EID_TOOLS_EIDCTL_HEALTH_H_

#include "tools/eidctl/command.h"

namespace eid::ctl {

// Prints each service's status; a service the server does not host is shown
// as NOT_HOSTED. Exit code 0 if the server and every hosted service are
// SERVING and at least one service is hosted; 1 otherwise.
int Health(const CommandContext& ctx);

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_HEALTH_H_
