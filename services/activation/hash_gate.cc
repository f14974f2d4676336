#include "services/activation/hash_gate.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "eid/v1/error.pb.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

const prometheus::Histogram::BucketBoundaries& WaitBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  return *buckets;
}

// Argon2id at the default parameters takes ~7-15 ms of CPU in kept memory
// (argon2_memory.h), more in fresh memory or on a busy machine.
const prometheus::Histogram::BucketBoundaries& CpuBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.0125, 0.015, 0.0175,
      0.02,  0.025, 0.03,  0.04,  0.06,  0.1};
  return *buckets;
}

std::vector<std::unique_ptr<Argon2Memory>> MakeMemories(int n) {
  std::vector<std::unique_ptr<Argon2Memory>> memories;
  for (int i = 0; i < n; ++i) memories.push_back(std::make_unique<Argon2Memory>());
  return memories;
}

// The whole of a small file (a /sys entry); empty if it cannot be read.
std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return in ? text.str() : std::string();
}

}  // namespace

HashGate::HashGate(int slots, prometheus::Registry& metrics)
    : slots_(std::max(slots, 1)),
      memories_(MakeMemories(slots_)),
      running_gauge_(prometheus::BuildGauge()
                         .Name("passcode_hash_running")
                         .Help("Passcode hashes (Argon2id) holding a slot now.")
                         .Register(metrics)
                         .Add({})),
      waiting_gauge_(prometheus::BuildGauge()
                         .Name("passcode_hash_waiting")
                         .Help("Calls waiting for a passcode-hashing slot.")
                         .Register(metrics)
                         .Add({})),
      wait_seconds_(prometheus::BuildHistogram()
                        .Name("passcode_hash_wait_seconds")
                        .Help("Time a passcode hash waited for a slot.")
                        .Register(metrics)
                        .Add({}, WaitBuckets())),
      timeouts_(prometheus::BuildCounter()
                    .Name("passcode_hash_gate_timeouts_total")
                    .Help("Calls whose deadline passed while they waited for "
                          "a passcode-hashing slot (nothing hashed).")
                    .Register(metrics)
                    .Add({})),
      cpu_seconds_(prometheus::BuildHistogram()
                       .Name("passcode_hash_cpu_seconds")
                       .Help("CPU time of each passcode hash (Argon2id) while it "
                             "held its slot, kernel time included.")
                       .Register(metrics)
                       .Add({}, CpuBuckets())),
      kept_memory_hashes_(prometheus::BuildCounter()
                              .Name("passcode_hash_kept_memory_total")
                              .Help("Passcode hashes that ran in their slot's work memory "
                                    "kept from an earlier hash (all but the first per slot, "
                                    "unless libsodium's allocation changed).")
                              .Register(metrics)
                              .Add({})) {
  prometheus::BuildGauge()
      .Name("passcode_hash_slots")
      .Help("Passcode hashes (Argon2id, 19 MiB each) allowed at once.")
      .Register(metrics)
      .Add({})
      .Set(slots_);
  for (const auto& memory : memories_) free_memories_.push_back(memory.get());
}

absl::StatusOr<HashGate::Slot> HashGate::Enter(absl::Time deadline) {
  const absl::Time asked = absl::Now();
  absl::MutexLock lock(&mu_);
  if (!HasFreeSlot()) {
    ++waiting_;
    waiting_gauge_.Increment();
    const bool free =
        mu_.AwaitWithDeadline(absl::Condition(this, &HashGate::HasFreeSlot), deadline);
    --waiting_;
    waiting_gauge_.Decrement();
    if (!free) {
      timeouts_.Increment();
      return Error(absl::StatusCode::kDeadlineExceeded, v1::PASSCODE_HASHING_BUSY,
                   "the call's deadline passed while it waited to hash the "
                   "passcode; nothing was changed");
    }
  }
  ++running_;
  running_gauge_.Increment();
  wait_seconds_.Observe(absl::ToDoubleSeconds(absl::Now() - asked));
  Argon2Memory* memory = free_memories_.back();
  free_memories_.pop_back();
  return Slot(this, memory);
}

void HashGate::Release(Argon2Memory* memory, double cpu_seconds, int64_t kept_hashes) {
  if (kept_hashes > 0) kept_memory_hashes_.Increment(static_cast<double>(kept_hashes));
  // Negative only if the slot was released on another thread than it was
  // taken on (its CPU clock is another's): not a hash's cost, not counted.
  if (cpu_seconds >= 0) cpu_seconds_.Observe(cpu_seconds);
  absl::MutexLock lock(&mu_);
  --running_;
  running_gauge_.Decrement();
  free_memories_.push_back(memory);
}

int HashGate::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

void HashGate::AwaitWaiting(int n) const {
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiting_ >= n; };
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&enough));
}

int HashGate::CpusOfQuota(absl::string_view cpu_max) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::StripAsciiWhitespace(cpu_max), ' ', absl::SkipEmpty());
  int64_t quota = 0, period = 0;
  if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &quota) ||
      !absl::SimpleAtoi(fields[1], &period) || quota <= 0 || period <= 0) {
    return 0;  // "max", cgroup v1's -1, or not a quota.
  }
  return static_cast<int>((quota + period - 1) / period);
}

int HashGate::CpuCount() {
  cpu_set_t set;
  int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  // cgroup v2 (a container sees its own cgroup at the root), else v1.
  std::string cpu_max = ReadSmallFile("/sys/fs/cgroup/cpu.max");
  if (cpu_max.empty()) {
    cpu_max = absl::StrCat(
        absl::StripAsciiWhitespace(ReadSmallFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")), " ",
        absl::StripAsciiWhitespace(ReadSmallFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us")));
  }
  const int quota_cpus = CpusOfQuota(cpu_max);
  if (quota_cpus > 0) cpus = std::min(cpus, quota_cpus);
  return std::max(cpus, 1);
}

}  // namespace eid::activation
