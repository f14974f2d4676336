// The roles of the QR verification path: qr (issuing, keys) and
// verification (VerifyQr, wallet documents).
//
// Both check sessions through activation's AuthenticateSession RPC (in
// process under `all`, else --peers activation=...). Verification reads the
// scanned citizen's account straight from the shared account store on the
// shards (one read, no extra hop: accounts live there for every role), gets
// the public keys from qr (GetVerificationKeys, cached) and checks nonces on
// the replay guard of the shard owning each (ReplayBatcher).
#ifndef EID_SERVICES_EIDD_VERIFY_ROLES_H_
#define EID_SERVICES_EIDD_VERIFY_ROLES_H_

#include <memory>

#include "absl/status/statusor.h"
#include "services/eidd/roles.h"

namespace eid {

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateQrRole(RoleContext& ctx);
absl::StatusOr<std::unique_ptr<RoleInstance>> CreateVerificationRole(RoleContext& ctx);

}  // namespace eid

#endif  // EID_SERVICES_EIDD_VERIFY_ROLES_H_
