// SessionClient: how services other than activation check the credentials
// of a citizen or official — ActivationService.AuthenticateSession over
// gRPC, as an internal caller. The session, the account's state and, when
// asked, the device signature over the request are all checked there.
// Checks made by many threads at once go out together as one
// AuthenticateSessionBatch (Coalescer): a call of its own per check would
// cost more than the check.
//
// Thread-safe.
#ifndef EID_SERVICES_ACTIVATION_SESSION_CLIENT_H_
#define EID_SERVICES_ACTIVATION_SESSION_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eid/v1/activation.grpc.pb.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "services/common/coalescer.h"
#include "services/common/internal_auth.h"

namespace eid::activation {

// The most checks one AuthenticateSessionBatch takes.
inline constexpr int kMaxAuthenticateBatch = 256;

// What a service needs of sessions (an interface, so a core can be tested
// without an activation service).
class SessionChecker {
 public:
  virtual ~SessionChecker() = default;
  // Checks `credentials` sent with RPC `method` (full name). With
  // `signed_request`, a device signature over it is required and checked.
  // The caller's account and audit subject; UNAUTHENTICATED
  // (SESSION_INVALID, SESSION_EXPIRED, DEVICE_UNKNOWN,
  // DEVICE_SIGNATURE_INVALID), FAILED_PRECONDITION (ACCOUNT_LOCKED,
  // ACCOUNT_REVOKED), UNAVAILABLE (DEPENDENCY_UNAVAILABLE).
  virtual absl::StatusOr<v1::AuthenticateSessionResponse> Check(
      const v1::Credentials& credentials, absl::string_view method,
      const google::protobuf::Message* signed_request) = 0;
};

class SessionClient : public SessionChecker {
 public:
  // `channel` is called once, on the first check (activation may be served
  // by this very process, whose server starts after the roles are built);
  // null means activation cannot be reached (UNAVAILABLE).
  SessionClient(std::function<std::shared_ptr<grpc::Channel>()> channel,
                const InternalAuth& internal,
                absl::Duration deadline = absl::Seconds(5));

  absl::StatusOr<v1::AuthenticateSessionResponse> Check(
      const v1::Credentials& credentials, absl::string_view method,
      const google::protobuf::Message* signed_request) override;

 private:
  using Lane = Coalescer<v1::AuthenticateSessionRequest, v1::AuthenticateSessionResponse>;

  // One check alone as AuthenticateSession, several as one batch call.
  absl::StatusOr<std::vector<absl::StatusOr<v1::AuthenticateSessionResponse>>> Send(
      std::vector<v1::AuthenticateSessionRequest>& checks);

  const std::function<std::shared_ptr<grpc::Channel>()> channel_;
  const InternalAuth& internal_;
  const absl::Duration deadline_;
  absl::once_flag connected_;
  std::unique_ptr<v1::ActivationService::Stub> stub_;  // Null if unreachable.
  Lane lane_;
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_SESSION_CLIENT_H_
