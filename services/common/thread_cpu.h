// ThreadCpuSeconds: CPU time the calling thread has used (user and kernel),
// for costs measured per operation on the thread that ran it.
#ifndef EID_SERVICES_COMMON_THREAD_CPU_H_
#define EID_SERVICES_COMMON_THREAD_CPU_H_

namespace eid {

double ThreadCpuSeconds();

}  // namespace eid

#endif  // EID_SERVICES_COMMON_THREAD_CPU_H_
