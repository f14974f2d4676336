// Who may read the audit log beyond its public proofs: an auditor
// (ROLE_AUDITOR) for Query, ExportEvents and ReadLeaves, a citizen for their
// own history, and eid's internal callers (operators' eidctl). The
// authenticator is injected: in eidd it asks the activation service
// (AuthenticateSession), which owns sessions.
#ifndef EID_SERVICES_AUDIT_AUDIT_READERS_H_
#define EID_SERVICES_AUDIT_AUDIT_READERS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "eid/v1/activation.pb.h"
#include "grpcpp/server_context.h"

namespace eid::audit {

struct AuditReader {
  bool internal = false;  // A trusted internal caller (no session).
  v1::Account account;    // The session's account (unset when internal).
  std::string subject;    // The account's audit subject (32 bytes).
};

// Authenticates the caller of `method` from its credentials; when
// `request_digest` is not null the device signature over it is checked too.
using ReaderAuthenticator = std::function<absl::StatusOr<AuditReader>(
    const grpc::ServerContext& context, const v1::Credentials& credentials,
    absl::string_view method, const std::string* request_digest)>;

// Keyed hash of an ID number: the subject of its events.
using SubjectOf = std::function<std::string(absl::string_view id_number)>;

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_READERS_H_
