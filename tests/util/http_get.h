// HttpGet: a minimal HTTP/1.0 GET over loopback TCP, for tests that read a
// /metrics page without linking an HTTP client.
#ifndef EID_TESTS_UTIL_HTTP_GET_H_
#define EID_TESTS_UTIL_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"

namespace eid::testing {

// The body of GET http://127.0.0.1:`port``path`, or an error if the
// connection fails or the status is not 200.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

}  // namespace eid::testing

#endif  // EID_TESTS_UTIL_HTTP_GET_H_
