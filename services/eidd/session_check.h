// How roles other than activation check an official's login session: they
// ask the activation service (AuthenticateSession, an internal RPC) over
// channel_to("activation") — in process with `all`, --peers otherwise.
#ifndef EID_SERVICES_EIDD_SESSION_CHECK_H_
#define EID_SERVICES_EIDD_SESSION_CHECK_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "eid/v1/activation.pb.h"
#include "grpcpp/channel.h"
#include "services/common/internal_auth.h"

namespace eid {

// The session's account, as activation sees it. UNAUTHENTICATED
// (SESSION_INVALID, SESSION_EXPIRED) as activation answers; UNAVAILABLE
// (DEPENDENCY_UNAVAILABLE) when activation is not reachable or not given.
absl::StatusOr<v1::AuthenticateSessionResponse> CheckSessionWithActivation(
    const InternalAuth& internal,
    const std::function<std::shared_ptr<grpc::Channel>(absl::string_view)>& channel_to,
    const v1::Credentials& credentials, absl::string_view method,
    const std::string* digest);

}  // namespace eid

#endif  // EID_SERVICES_EIDD_SESSION_CHECK_H_
