// HashGate: bounds how many passcode hashes (Argon2id) run at once.
//
// Each Argon2id hash or verify holds its own 19 MiB for 7-15 ms of one core.
// Unbounded, the server runs as many at once as there are calls: 1,000
// concurrent logins would want 19 GiB (an easy memory-exhaustion attack), and
// even a few more hashes than cores only make them fight over the memory
// bandwidth and caches Argon2 depends on (each costs ~10 % more CPU at 4 on 2
// cores). Callers past the bound wait here for a slot.
//
// Metrics (in the registry passed in):
//   passcode_hash_slots              the bound
//   passcode_hash_running            hashes holding a slot
//   passcode_hash_waiting            callers waiting for a slot (queue depth)
//   passcode_hash_wait_seconds       time from asking to getting a slot
//   passcode_hash_gate_timeouts_total  callers whose deadline passed first
//   passcode_hash_cpu_seconds        CPU time of each hash while it held its
//                                    slot (the thread's, kernel included);
//                                    against a lone hash's, what sharing
//                                    the machine costs each hash
//   passcode_hash_kept_memory_total  hashes that ran in their slot's kept
//                                    memory (all but the first in each slot
//                                    ever used, and one that grows it; if
//                                    fewer, the memory is not kept and each
//                                    hash costs ~1/3 more CPU:
//                                    argon2_memory.h)
//
// Each slot comes with its own Argon2 work memory, kept mapped between
// hashes (argon2_memory.h): with one per slot, at most `slots` x 19 MiB
// (for a moment more while a slot's memory grows, if the Argon2 memory
// parameter is raised).
//
// Deadlines are real time (they come from gRPC), hence absl::Now here and not
// the injected Clock that expiries use. Thread-safe.
#ifndef EID_SERVICES_ACTIVATION_HASH_GATE_H_
#define EID_SERVICES_ACTIVATION_HASH_GATE_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/activation/argon2_memory.h"
#include "services/common/thread_cpu.h"

namespace eid::activation {

class HashGate {
 public:
  // A held slot; released when destroyed, on the thread that entered (its
  // CPU time is the hash's). Movable.
  class Slot {
   public:
    Slot(Slot&& other) noexcept
        : gate_(other.gate_),
          memory_(other.memory_),
          cpu_start_(other.cpu_start_),
          reuses_at_start_(other.reuses_at_start_) {
      other.gate_ = nullptr;
      other.memory_ = nullptr;
    }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (gate_ != nullptr) {
        gate_->Release(memory_, eid::ThreadCpuSeconds() - cpu_start_,
                       memory_->reuses() - reuses_at_start_);
      }
    }

    // This slot's Argon2 work memory (argon2_memory.h): the holder's alone
    // until the slot is released.
    Argon2Memory* memory() const { return memory_; }

   private:
    friend class HashGate;
    Slot(HashGate* gate, Argon2Memory* memory)
        : gate_(gate),
          memory_(memory),
          cpu_start_(eid::ThreadCpuSeconds()),
          reuses_at_start_(memory->reuses()) {}
    HashGate* gate_;
    Argon2Memory* memory_;
    double cpu_start_;
    int64_t reuses_at_start_;
  };

  // `slots` (at least 1) hashes at once.
  HashGate(int slots, prometheus::Registry& metrics);
  HashGate(const HashGate&) = delete;
  HashGate& operator=(const HashGate&) = delete;

  // A slot, once one is free.
  // DEADLINE_EXCEEDED (PASSCODE_HASHING_BUSY) if `deadline` passes first:
  // then the caller has nothing to hash for, its client having given up.
  absl::StatusOr<Slot> Enter(absl::Time deadline);

  int slots() const { return slots_; }
  // Callers waiting now.
  int waiting() const;
  // Blocks until at least `n` callers wait (for tests: no sleeping).
  void AwaitWaiting(int n) const;

  // The number of CPUs this process may use: those it may run on
  // (sched_getaffinity), fewer if its cgroup's CPU quota (a Kubernetes CPU
  // limit) allows less, rounded up. The default bound.
  static int CpuCount();
  // The CPUs a cgroup v2 `cpu.max` ("max 100000", "150000 100000") allows,
  // rounded up; 0 if unlimited or malformed.
  static int CpusOfQuota(absl::string_view cpu_max);

 private:
  // `kept_hashes`: hashes that ran in the slot's kept memory while it was held.
  void Release(Argon2Memory* memory, double cpu_seconds, int64_t kept_hashes);
  bool HasFreeSlot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ < slots_; }

  const int slots_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  // One work memory per slot; those no slot holds.
  const std::vector<std::unique_ptr<Argon2Memory>> memories_;
  std::vector<Argon2Memory*> free_memories_ ABSL_GUARDED_BY(mu_);
  prometheus::Gauge& running_gauge_;
  prometheus::Gauge& waiting_gauge_;
  prometheus::Histogram& wait_seconds_;
  prometheus::Counter& timeouts_;
  prometheus::Histogram& cpu_seconds_;
  prometheus::Counter& kept_memory_hashes_;
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_HASH_GATE_H_
