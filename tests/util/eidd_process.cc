#include "tests/util/eidd_process.h"

#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace eid::testing {

std::string EiddProcess::grpc_address() const {
  return absl::StrCat("127.0.0.1:", grpc_port);
}

absl::StatusOr<EiddProcess> StartEidd(const std::vector<std::string>& flags,
                                      const std::string& scratch) {
  const std::string port_file = scratch + ".ports";
  unlink(port_file.c_str());
  std::vector<std::string> argv = {RunfilePath("services/eidd/eidd"),
                                   "--grpc_address=127.0.0.1:0",
                                   "--metrics_address=127.0.0.1:0",
                                   "--port_file=" + port_file};
  argv.insert(argv.end(), flags.begin(), flags.end());
  EiddProcess out;
  out.log_file = scratch + ".log";
  absl::StatusOr<std::unique_ptr<Subprocess>> process =
      Subprocess::Start(argv, out.log_file);
  if (!process.ok()) return process.status();
  out.process = std::move(*process);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string ports;
  while ((ports = ReadFile(port_file)).empty()) {
    if (out.process->Wait(absl::ZeroDuration()).ok() || absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("eidd did not start: ", ReadFile(out.log_file)));
    }
    absl::SleepFor(absl::Milliseconds(20));  // Waiting on a real process.
  }
  for (absl::string_view line : absl::StrSplit(ports, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, '=');
    int* port = kv.first == "grpc" ? &out.grpc_port
                : kv.first == "metrics" ? &out.metrics_port
                : kv.first == "health"  ? &out.health_port
                : kv.first == "sms_dlr" ? &out.sms_dlr_port
                                        : nullptr;
    if (port == nullptr || !absl::SimpleAtoi(kv.second, port)) {
      return absl::InternalError(absl::StrCat("bad port file line: ", line));
    }
  }
  return out;
}

}  // namespace eid::testing
