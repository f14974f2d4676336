// Secret files: peppers and signing keys live in files (Kubernetes Secrets
// in production), never in code, flags or logs.
#ifndef EID_SERVICES_COMMON_SECRETS_H_
#define EID_SERVICES_COMMON_SECRETS_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/common/random.h"

namespace eid {

// The raw bytes of the secret in `path`. Fails with FAILED_PRECONDITION if the
// file is missing, empty, shorter than `min_bytes`, or readable by group or
// others. The error names the path, never the content.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           size_t min_bytes = 32);

// A second secret accepted while one is rotated: "" if `path` is absent
// or empty (no rotation under way), else as ReadSecretFile.
absl::StatusOr<std::string> ReadOptionalSecretFile(const std::string& path,
                                                   size_t min_bytes = 32);

// For development only: creates `path` (mode 0600, parent directories 0700)
// with `bytes` fresh random bytes if it does not exist yet. An existing file
// is left alone, so restarts keep their keys.
absl::Status EnsureDevSecretFile(const std::string& path, size_t bytes,
                                 RandomSource& random);

}  // namespace eid

#endif  // EID_SERVICES_COMMON_SECRETS_H_
