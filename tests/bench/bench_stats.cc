#include "tests/bench/bench_stats.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "tests/util/proc_stat.h"

namespace eid::bench {

double CpuOf(const std::vector<pid_t>& pids) {
  double sum = 0;
  for (pid_t pid : pids) sum += testing::ProcessCpuSeconds(pid);
  return sum;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Settle(const std::vector<pid_t>& pids) {
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  for (;;) {
    const double before = CpuOf(pids);
    absl::SleepFor(absl::Milliseconds(200));  // Watching real processes idle.
    if (CpuOf(pids) - before <= 0.011 * pids.size() || absl::Now() > give_up) return;
  }
}

}  // namespace eid::bench
