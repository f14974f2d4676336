// Device signatures (common.proto DeviceSignature): a bound device proves a
// call comes from it by signing, with its ECDSA P-256 key,
//   "eid.v1-device-signature\n" + <full RPC name> + "\n" + <payload>
// where the payload is a login challenge or the SHA-256 of the request
// serialized deterministically with every DeviceSignature in it cleared.
//
// Functions over OpenSSL; thread-safe. Decoded keys are cached by their DER
// (bounded), so checking the same device key again skips the decoding.
#ifndef EID_SERVICES_ACTIVATION_DEVICE_SIGNATURE_H_
#define EID_SERVICES_ACTIVATION_DEVICE_SIGNATURE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace eid::activation {

// OK if `der` is a DER SubjectPublicKeyInfo of a P-256 (prime256v1) key;
// INVALID_ARGUMENT (DEVICE_PUBLIC_KEY_INVALID) otherwise.
absl::Status ValidateDevicePublicKey(absl::string_view der);

// The bytes a device signs for `method` (e.g. "/eid.v1.ActivationService/
// Login") and `payload`.
std::string DeviceSigningInput(absl::string_view method,
                               absl::string_view payload);

// SHA-256 of `request` serialized deterministically with every
// eid.v1.DeviceSignature field (at any depth) cleared.
std::string RequestDigest(const google::protobuf::Message& request);

// Whether `signature` (DER ECDSA, at most 72 bytes) by the key `public_der`
// is valid over DeviceSigningInput(method, payload). False for any
// malformed key or signature.
bool VerifyDeviceSignature(absl::string_view public_der,
                           absl::string_view method, absl::string_view payload,
                           absl::string_view signature);

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_DEVICE_SIGNATURE_H_
