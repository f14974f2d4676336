// Test certificates: a fresh dev CA and one certificate per eid identity,
// made by the real tools/certs/make-certs.sh (openssl) into a test's
// scratch directory.
#ifndef EID_TESTS_UTIL_TEST_CERTS_H_
#define EID_TESTS_UTIL_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/common/tls.h"

namespace eid::testing {

class TestCerts {
 public:
  // Runs make-certs.sh into `dir` (created if missing). Each call with a
  // new `dir` makes a new, unrelated CA.
  static absl::StatusOr<TestCerts> Make(const std::string& dir);

  // The files of `identity` ("otp", "client", "all", ...) with this CA.
  TlsFiles Files(const std::string& identity) const;
  // The same, loaded (dies on failure: the files were just made).
  TlsConfig Config(const std::string& identity) const;

  const std::string& dir() const { return dir_; }

 private:
  explicit TestCerts(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace eid::testing

#endif  // EID_TESTS_UTIL_TEST_CERTS_H_
