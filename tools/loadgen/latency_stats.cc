#include "tools/loadgen/latency_stats.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace eid::loadgen {

int64_t LoadResult::ok() const {
  auto it = codes.find(0);
  return (it == codes.end() ? 0 : it->second) - rejected;
}

double LoadResult::per_second() const {
  const double s = absl::ToDoubleSeconds(elapsed);
  return s > 0 ? calls / s : 0;
}

std::string LoadResult::Summary() const {
  std::string codes_text;
  for (const auto& [code, n] : codes) absl::StrAppend(&codes_text, " code", code, "=", n);
  return absl::StrFormat(
      "%d calls in %.2f s = %.0f/s (ok %d, refused by check %d;%s) "
      "p50 %.0f us, p99 %.0f us, p999 %.0f us",
      calls, absl::ToDoubleSeconds(elapsed), per_second(), ok(), rejected, codes_text,
      absl::ToDoubleMicroseconds(p50), absl::ToDoubleMicroseconds(p99),
      absl::ToDoubleMicroseconds(p999));
}

void LatencyRecorder::Finish(LoadResult& result) {
  std::sort(micros_.begin(), micros_.end());
  const auto at = [this](double q) {
    if (micros_.empty()) return absl::ZeroDuration();
    const size_t i = std::min(micros_.size() - 1, static_cast<size_t>(q * micros_.size()));
    return absl::Microseconds(micros_[i]);
  };
  result.p50 = at(0.50);
  result.p99 = at(0.99);
  result.p999 = at(0.999);
}

}  // namespace eid::loadgen
