// Base45 (RFC 9285): bytes as text in the 45-character alphabet of QR codes'
// alphanumeric mode ("0-9A-Z $%*+-./:"), so a QR code holds them at 5.5 bits
// per character instead of 8.
//
// Every two bytes [a, b] become the three characters c d e with
// a * 256 + b = c + d * 45 + e * 45^2; a last odd byte becomes two
// characters c d with byte = c + d * 45.
//
// Pure functions; thread-safe.
#ifndef EID_SERVICES_QR_TOKEN_BASE45_H_
#define EID_SERVICES_QR_TOKEN_BASE45_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace eid::qr {

// The Base45 text of `bytes`: 3 characters per 2 bytes, 2 for an odd last one.
std::string Base45Encode(absl::string_view bytes);

// The characters Base45Encode makes of `n` bytes.
constexpr size_t Base45EncodedSize(size_t n) { return n / 2 * 3 + n % 2 * 2; }

// The bytes `text` encodes, or nullopt when it is not strictly Base45: a
// character outside the alphabet (lower case included), a length that is
// 1 more than a multiple of 3, a 3-character group above 65535 or a final
// 2-character group above 255. Strictness makes the encoding canonical:
// whatever decodes re-encodes to the same text. Reads nothing outside `text`.
std::optional<std::string> Base45Decode(absl::string_view text);

}  // namespace eid::qr

#endif  // EID_SERVICES_QR_TOKEN_BASE45_H_
