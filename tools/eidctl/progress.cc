#include "tools/eidctl/progress.h"

#include <unistd.h>

#include <utility>

namespace eid::ctl {

Progress::Progress(std::string what, uint64_t total, FILE* out)
    : what_(std::move(what)), total_(total), out_(out), tty_(isatty(fileno(out)) == 1) {}

void Progress::Update(uint64_t done, uint64_t failed) {
  const int percent = total_ == 0 ? 100 : static_cast<int>(done * 100 / total_);
  if (!tty_) {
    std::fprintf(out_, "progress: %llu/%llu %s (%d%%), %llu failed\n",
                 static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_), what_.c_str(), percent,
                 static_cast<unsigned long long>(failed));
    std::fflush(out_);
    return;
  }
  constexpr int kWidth = 30;
  const int filled = percent * kWidth / 100;
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  std::fprintf(out_, "\r[%s] %3d%%  %llu/%llu %s, %llu failed", bar.c_str(), percent,
               static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total_), what_.c_str(),
               static_cast<unsigned long long>(failed));
  std::fflush(out_);
}

void Progress::Finish() {
  if (tty_) std::fputc('\n', out_);
}

}  // namespace eid::ctl
