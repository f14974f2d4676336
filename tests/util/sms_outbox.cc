#include "tests/util/sms_outbox.h"

#include <fstream>
#include <iterator>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace eid::testing {

std::string CodeIn(const std::string& text) {
  static const std::regex kCode("([0-9]{6})");
  std::smatch m;
  return std::regex_search(text, m, kCode) ? std::string(m[1]) : "";
}

void SmsOutbox::Refresh() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  in.seekg(offset_);
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t end = chunk.rfind('\n');
  if (end == std::string::npos) return;  // Only a line still being written.
  offset_ += static_cast<int64_t>(end + 1);
  static const std::regex kLine("\"to\":\"([^\"]*)\".*\"text\":\"([^\"]*)\"");
  size_t start = 0;
  while (start <= end) {
    const size_t nl = chunk.find('\n', start);
    const std::string line = chunk.substr(start, nl - start);
    start = nl + 1;
    std::smatch m;
    if (std::regex_search(line, m, kLine)) texts_[m[1]].push_back(m[2]);
  }
}

std::vector<std::string> SmsOutbox::Texts(const std::string& phone) {
  absl::MutexLock lock(&mu_);
  Refresh();
  auto it = texts_.find(phone);
  return it == texts_.end() ? std::vector<std::string>() : it->second;
}

std::vector<std::string> SmsOutbox::AwaitTexts(const std::string& phone, size_t count,
                                               absl::Duration timeout,
                                               const std::function<void()>& between_polls) {
  const absl::Time give_up = absl::Now() + timeout;
  for (;;) {
    std::vector<std::string> texts = Texts(phone);
    if (texts.size() >= count || absl::Now() > give_up) return texts;
    absl::SleepFor(absl::Milliseconds(20));  // Waiting on the real server's queue.
    if (between_polls) between_polls();
  }
}

absl::StatusOr<std::string> SmsOutbox::WaitForCode(const std::string& phone, size_t nth,
                                                   absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  for (;;) {
    size_t seen = 0;
    for (const std::string& text : Texts(phone)) {
      const std::string code = CodeIn(text);
      if (!code.empty() && ++seen == nth) return code;
    }
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(absl::StrCat("no code ", nth, " for ", phone));
    }
    absl::SleepFor(absl::Milliseconds(5));  // Waiting on the real server's queue.
  }
}

}  // namespace eid::testing
