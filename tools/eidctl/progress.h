// Progress of a long eidctl command on stderr: a redrawn bar when stderr is
// a terminal, plain lines (one per update) otherwise, so logs of scripted
// runs stay readable.
#ifndef EID_TOOLS_EIDCTL_PROGRESS_H_
#define EID_TOOLS_EIDCTL_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

namespace eid::ctl {

class Progress {
 public:
  // `what` names the items ("rows"); `total` of them are expected.
  Progress(std::string what, uint64_t total, FILE* out = stderr);
  // `done` items so far, `failed` of them failed.
  void Update(uint64_t done, uint64_t failed);
  // Ends the bar's line (terminal only).
  void Finish();

 private:
  const std::string what_;
  const uint64_t total_;
  FILE* const out_;
  const bool tty_;
};

}  // namespace eid::ctl

#endif  // EID_TOOLS_EIDCTL_PROGRESS_H_
