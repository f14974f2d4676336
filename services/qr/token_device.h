// TokenDeviceOf: how a device id goes into a QR token — the services'
// contract (docs/qr-token.md leaves it to them). Device ids may be up to 128
// characters and a token holds at most 32 bytes, so every token carries the
// first 16 bytes of SHA-256(device_id), whatever the id's length: one rule
// for all ids, and the id itself never appears in a code anyone can
// photograph. The issuer writes it; the verifier compares it with the
// account's bound device the same way.
#ifndef EID_SERVICES_QR_TOKEN_DEVICE_H_
#define EID_SERVICES_QR_TOKEN_DEVICE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace eid::qr {

inline constexpr size_t kTokenDeviceBytes = 16;

std::string TokenDeviceOf(absl::string_view device_id);

}  // namespace eid::qr

#endif  // EID_SERVICES_QR_TOKEN_DEVICE_H_
