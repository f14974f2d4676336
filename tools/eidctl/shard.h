// eidctl shard info: what a storage shard reports about itself.
#ifndef EID_TOOLS_EIDCTL_SHARD_H_
#define EID_TOOLS_EIDCTL_SHARD_H_

#include "tools/eidctl/command.h"

namespace eid::ctl {

// `shard info`: identity, replay fence and entries, namespaces, limits.
int Shard(const CommandContext& ctx);

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_SHARD_H_
