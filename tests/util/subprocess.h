// Subprocess: a child process a test starts and always stops — the real
// eidd or eidctl binary, not an in-process imitation.
#ifndef EID_TESTS_UTIL_SUBPROCESS_H_
#define EID_TESTS_UTIL_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace eid::testing {

// Path of a binary in this test's (or `bazel run` target's) runfiles, e.g.
// "services/eidd/eidd".
std::string RunfilePath(const std::string& workspace_relative);

class Subprocess {
 public:
  // Starts `argv` with stdout and stderr sent to `output_file` (or the
  // test's own if empty).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv, const std::string& output_file = "");

  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Subprocess();

  pid_t pid() const { return pid_; }
  void Signal(int signal);

  // Waits up to `timeout` for the child to exit. Returns its exit code (or
  // 128 + signal), DEADLINE_EXCEEDED if it is still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

// Runs `argv` to completion (at most `timeout`) and returns its exit code,
// with its stdout in `*output` if given.
absl::StatusOr<int> Run(const std::vector<std::string>& argv,
                        std::string* output, absl::Duration timeout);

// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

}  // namespace eid::testing

#endif  // EID_TESTS_UTIL_SUBPROCESS_H_
