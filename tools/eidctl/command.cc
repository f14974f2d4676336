#include "tools/eidctl/command.h"

#include "absl/strings/str_format.h"
#include "services/common/internal_auth.h"

namespace eid::ctl {

std::unique_ptr<grpc::ClientContext> CommandContext::NewCall() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  InternalAuth(internal_token).Attach(*context);
  return context;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace eid::ctl
