// What the kernel says about a process (benchmarks): CPU time and memory.
#ifndef EID_TESTS_UTIL_PROC_STAT_H_
#define EID_TESTS_UTIL_PROC_STAT_H_

#include <sys/types.h>

#include <cstdint>

namespace eid::testing {

// utime + stime of `pid` from /proc/PID/stat, in seconds; -1 if unreadable.
double ProcessCpuSeconds(pid_t pid);

// VmRSS of `pid` from /proc/PID/status, in bytes; -1 if unreadable.
int64_t ResidentBytes(pid_t pid);

// A loopback TCP port free right now (bound to port 0, then released).
int FreeLoopbackPort();

}  // namespace eid::testing

#endif  // EID_TESTS_UTIL_PROC_STAT_H_
