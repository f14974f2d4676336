// What a load run saw: answers by gRPC code and latency percentiles.
#ifndef EID_TOOLS_LOADGEN_LATENCY_STATS_H_
#define EID_TOOLS_LOADGEN_LATENCY_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace eid::loadgen {

struct LoadResult {
  int64_t calls = 0;                  // Answered calls, any code.
  int64_t rejected = 0;               // OK calls the checker refused.
  std::map<int, int64_t> codes;       // gRPC status code -> calls.
  absl::Duration elapsed;             // First call started to last answered.
  absl::Duration p50, p99, p999;      // Latency of the answered calls.

  int64_t ok() const;                 // Code OK and accepted by the checker.
  double per_second() const;          // Answered calls per wall second.
  // One line: calls, rate, codes, percentiles.
  std::string Summary() const;
};

// Collects call latencies; Finish() sorts them into `result`.
class LatencyRecorder {
 public:
  void Record(absl::Duration latency) { micros_.push_back(absl::ToInt64Microseconds(latency)); }
  void Finish(LoadResult& result);

 private:
  std::vector<int64_t> micros_;
};

}  // namespace eid::loadgen

#endif  // EID_TOOLS_LOADGEN_LATENCY_STATS_H_
