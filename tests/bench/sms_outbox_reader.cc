#include "tests/bench/sms_outbox_reader.h"

#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace eid::bench {

void SmsOutboxReader::Refresh() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  in.seekg(offset_);
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A line still being written is read next time.
  const size_t end = chunk.rfind('\n');
  if (end == std::string::npos) return;
  offset_ += static_cast<int64_t>(end + 1);
  static const std::regex kLine("\"to\":\"([^\"]*)\".*\"text\":\"([^\"]*)\"");
  static const std::regex kCode("([0-9]{6})");
  size_t start = 0;
  while (start <= end) {
    const size_t nl = chunk.find('\n', start);
    const std::string line = chunk.substr(start, nl - start);
    start = nl + 1;
    std::smatch m, code;
    if (!std::regex_search(line, m, kLine)) continue;
    const std::string text = m[2];
    if (std::regex_search(text, code, kCode)) codes_[m[1]].push_back(code[1]);
  }
}

absl::StatusOr<std::string> SmsOutboxReader::WaitForCode(const std::string& phone,
                                                         size_t nth,
                                                         absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      Refresh();
      auto it = codes_.find(phone);
      if (it != codes_.end() && it->second.size() >= nth) return it->second[nth - 1];
    }
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(absl::StrCat("no code ", nth, " for ", phone));
    }
    absl::SleepFor(absl::Milliseconds(5));  // Waiting on the real server's queue.
  }
}

}  // namespace eid::bench
