// Page tokens of the reports: opaque to clients, bound to the RPC and its
// filters (a fingerprint of the request without credentials and page), so a
// token replayed with other filters is PAGE_TOKEN_INVALID.
//
// Format (web-safe base64 of): "<rpc>:<fingerprint, 16 hex>:<cursor>".
#ifndef EID_SERVICES_REPORTS_PAGE_TOKEN_H_
#define EID_SERVICES_REPORTS_PAGE_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace eid::reports {

// Fingerprint of `request` (already cleared of credentials and page).
uint64_t Fingerprint(const google::protobuf::Message& request);

std::string EncodePageToken(absl::string_view rpc, uint64_t fingerprint,
                            absl::string_view cursor);

// The cursor of `token`. INVALID_ARGUMENT PAGE_TOKEN_INVALID if it is not a
// token of `rpc` with this fingerprint.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view rpc,
                                            uint64_t fingerprint);

}  // namespace eid::reports

#endif  // EID_SERVICES_REPORTS_PAGE_TOKEN_H_
