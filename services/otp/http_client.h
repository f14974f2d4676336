// A minimal HTTP/1.0 GET client over a POSIX socket, enough to call a Kannel
// smsbox without linking libcurl: no TLS, no redirects, no chunked bodies
// (HTTP/1.0 servers do not send them). The whole exchange (connect, send,
// read) has one deadline; name resolution (getaddrinfo) is outside it.
// Thread-safe (no shared state).
#ifndef EID_SERVICES_OTP_HTTP_CLIENT_H_
#define EID_SERVICES_OTP_HTTP_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace eid::otp {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// GET `target` ("/path?query", already URL-encoded) from host:port.
// Returns any HTTP status as a response; UNAVAILABLE if the host cannot be
// resolved or reached or the answer is not HTTP, DEADLINE_EXCEEDED past
// `timeout`. The body is cut at 64 KiB.
absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port,
                                     absl::string_view target,
                                     absl::Duration timeout);

// `s` percent-encoded for a query value: everything but A-Z a-z 0-9 - _ . ~
// as %XX (so a space is %20 and '+' is %2B).
std::string UrlEncode(absl::string_view s);

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_HTTP_CLIENT_H_
