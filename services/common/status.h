// The one error model: an absl::Status carrying a stable, machine-readable
// reason, and its one translation to and from grpc::Status at the edge.
//
// Inside the code, fail with e.g.
//   return eid::InvalidArgument(v1::PHONE_INVALID, "phone must be 0 + 9 digits");
// On the wire the reason travels as an eid.v1.ErrorInfo inside an
// eid.v1.StatusDetails (wire-compatible with google.rpc.Status) in the
// grpc-status-details-bin trailer, so any client can read it.
#ifndef EID_SERVICES_COMMON_STATUS_H_
#define EID_SERVICES_COMMON_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eid/v1/error.pb.h"
#include "grpcpp/support/status.h"

namespace eid {

// The domain every eid ErrorInfo names.
inline constexpr absl::string_view kErrorDomain = "eid.v1";

// An error with `code`, a stable `reason` and a human sentence.
absl::Status Error(absl::StatusCode code, v1::ErrorReason reason,
                   absl::string_view message);

// Shorthands, by what the caller should do next.
absl::Status InvalidArgument(v1::ErrorReason reason, absl::string_view message);
absl::Status NotFound(v1::ErrorReason reason, absl::string_view message);
absl::Status AlreadyExists(v1::ErrorReason reason, absl::string_view message);
absl::Status FailedPrecondition(v1::ErrorReason reason,
                                absl::string_view message);
absl::Status PermissionDenied(v1::ErrorReason reason,
                              absl::string_view message);
absl::Status Unauthenticated(v1::ErrorReason reason, absl::string_view message);
absl::Status ResourceExhausted(v1::ErrorReason reason,
                               absl::string_view message);
absl::Status Aborted(v1::ErrorReason reason, absl::string_view message);
absl::Status Unavailable(v1::ErrorReason reason, absl::string_view message);

// `status` with metadata[`key`] = `value` added to its ErrorInfo (e.g.
// "index", "actual_version"; storage.proto lists the keys). A status without
// a reason is returned unchanged.
absl::Status WithMetadata(absl::Status status, absl::string_view key,
                          absl::string_view value);

// `status` with "`context`: " before its message, keeping code and reason.
absl::Status WithContext(const absl::Status& status, absl::string_view context);

// The stable reason `status` carries ("" for OK or for an error without one).
std::string ReasonOf(const absl::Status& status);

// metadata[`key`] of the ErrorInfo `status` carries ("" if none).
std::string MetadataOf(const absl::Status& status, absl::string_view key);

// Whether `status` is a storage write refused for its expected_version
// (VERSION_MISMATCH): another writer changed the record first.
bool LostVersionRace(const absl::Status& status);

// absl -> gRPC, at the server edge. The reason (if any) goes into the status
// details; an error without one is sent with its code and message only.
grpc::Status ToGrpcStatus(const absl::Status& status);

// gRPC -> absl, at the client edge; keeps the reason sent by the server.
absl::Status FromGrpcStatus(const grpc::Status& status);

// An error as a message, for answers that carry one error per item (batch
// RPCs): code, message and ErrorInfo, as in the status trailer. OK gives
// code 0 and nothing else.
v1::StatusDetails ToStatusDetails(const absl::Status& status);
absl::Status FromStatusDetails(const v1::StatusDetails& details);

}  // namespace eid

#endif  // EID_SERVICES_COMMON_STATUS_H_
