// eidctl audit verify: an auditor's independent check of the audit log.
#ifndef EID_TOOLS_EIDCTL_AUDIT_H_
#define EID_TOOLS_EIDCTL_AUDIT_H_

#include "tools/eidctl/command.h"

namespace eid::ctl {

// `audit verify [PARTITION]`: for every partition (or one), checks each
// checkpoint's signature, reads every leaf, recomputes the Merkle tree and
// compares its root with each signed checkpoint. On a mismatch it names the
// first leaf whose bytes differ from what the checkpoint signed (found with
// inclusion proofs checked against the signed root). With
// --audit_trusted_keys only checkpoints signed by those keys count; with
// --audit_witness_dir the log must extend the checkpoints a previous run
// kept there (docs/audit-format.md). Exit 0 if all is intact, 1 if anything
// differs or cannot be read, 2 for bad usage.
int Audit(const CommandContext& ctx);

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_AUDIT_H_
