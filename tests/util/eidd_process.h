// StartEidd (tests): the real eidd binary as a child process on free
// loopback ports, returned once it serves.
#ifndef EID_TESTS_UTIL_EIDD_PROCESS_H_
#define EID_TESTS_UTIL_EIDD_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/util/subprocess.h"

namespace eid::testing {

struct EiddProcess {
  std::unique_ptr<Subprocess> process;  // Killed when this goes.
  int grpc_port = 0;
  int metrics_port = 0;
  int health_port = 0;  // With --health_address=127.0.0.1:0.
  int sms_dlr_port = 0;  // With --sms_dlr_address=127.0.0.1:0.
  std::string log_file;  // Its stdout and stderr.
  std::string grpc_address() const;
};

// Starts `services/eidd/eidd` with `flags` plus gRPC and metrics on
// 127.0.0.1:0 and a port file `<scratch>.ports`, logging to `<scratch>.log`,
// and waits (up to 20 s) until it has written its ports. On failure the
// message holds its log.
absl::StatusOr<EiddProcess> StartEidd(const std::vector<std::string>& flags,
                                      const std::string& scratch);

}  // namespace eid::testing

#endif  // EID_TESTS_UTIL_EIDD_PROCESS_H_
