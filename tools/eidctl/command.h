// What every eidctl subcommand gets: a channel to the server, the output
// mode and a per-call deadline. Subcommands print to stdout and return the
// process exit code (0 success, 1 a failed check or call, 2 bad usage).
#ifndef EID_TOOLS_EIDCTL_COMMAND_H_
#define EID_TOOLS_EIDCTL_COMMAND_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace eid::ctl {

struct CommandContext {
  std::string server;                     // host:port, for messages.
  std::shared_ptr<grpc::Channel> channel;
  bool json = false;                      // Machine-readable output.
  absl::Duration timeout;                 // Deadline of each call.
  std::vector<std::string> args;          // After the subcommand name.
  // eid's internal-caller token (operators' commands such as reading the
  // audit log); empty when not given.
  std::string internal_token;

  // A client context with the deadline set, carrying the internal token if
  // there is one.
  std::unique_ptr<grpc::ClientContext> NewCall() const;
};

// Escapes `s` as a JSON string, quotes included.
std::string JsonString(const std::string& s);

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_COMMAND_H_
