// SodiumReady: libsodium started once per process. sodium_init() picks the
// fastest Argon2, BLAKE2b and Ed25519 code for this CPU — without it the
// portable (slower) Argon2 runs — and seeds the CSPRNG. Calling it on every
// use costs a global lock each time (QR verification did); this runs it once.
//
// Thread-safe.
#ifndef EID_SERVICES_COMMON_SODIUM_H_
#define EID_SERVICES_COMMON_SODIUM_H_

namespace eid {

// Whether libsodium could start (then, and on every later call, true).
bool SodiumReady();

}  // namespace eid

#endif  // EID_SERVICES_COMMON_SODIUM_H_
