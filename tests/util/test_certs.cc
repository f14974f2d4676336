#include "tests/util/test_certs.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "tests/util/subprocess.h"

namespace eid::testing {

absl::StatusOr<TestCerts> TestCerts::Make(const std::string& dir) {
  std::string output;
  absl::StatusOr<int> exit = Run(
      {"/bin/bash", RunfilePath("tools/certs/make-certs.sh"), dir}, &output,
      absl::Seconds(60));
  if (!exit.ok()) return exit.status();
  if (*exit != 0) {
    return absl::InternalError(
        absl::StrCat("make-certs.sh exited ", *exit, ": ", output));
  }
  return TestCerts(dir);
}

TlsFiles TestCerts::Files(const std::string& identity) const {
  return {absl::StrCat(dir_, "/ca.crt"), absl::StrCat(dir_, "/", identity, ".crt"),
          absl::StrCat(dir_, "/", identity, ".key")};
}

TlsConfig TestCerts::Config(const std::string& identity) const {
  absl::StatusOr<std::optional<TlsConfig>> config = LoadTlsFiles(Files(identity));
  if (!config.ok() || !config->has_value()) std::abort();
  return **config;
}

}  // namespace eid::testing
