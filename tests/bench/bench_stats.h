// What the eidd benchmarks share: the median of their rounds, and waiting
// for the servers to go idle so each phase is measured idle to idle.
#ifndef EID_TESTS_BENCH_BENCH_STATS_H_
#define EID_TESTS_BENCH_BENCH_STATS_H_

#include <sys/types.h>

#include <vector>

#include "services/common/thread_cpu.h"

namespace eid::bench {

// The median of `v` (0 if empty).
double Median(std::vector<double> v);

using eid::ThreadCpuSeconds;  // services/common/thread_cpu.h

// utime + stime of `pids` together, in seconds.
double CpuOf(const std::vector<pid_t>& pids);

// Waits (up to 60 s) until `pids` together use almost no CPU for 200 ms:
// what the last phase set going has finished.
void Settle(const std::vector<pid_t>& pids);

}  // namespace eid::bench

#endif  // EID_TESTS_BENCH_BENCH_STATS_H_
