#include "services/activation/hash_gate.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/status.h"
#include "services/common/thread_cpu.h"
#include "tests/util/metric_value.h"

namespace eid::activation {
namespace {

using ::eid::testing::MetricValue;

// A stand-in for Argon2id: counts who is inside and holds until released.
class FakeHasher {
 public:
  explicit FakeHasher(HashGate& gate) : gate_(gate) {}

  void Hash() {
    absl::StatusOr<HashGate::Slot> slot = gate_.Enter(absl::InfiniteFuture());
    ASSERT_TRUE(slot.ok()) << slot.status();
    {
      absl::MutexLock lock(&mu_);
      ++inside_;
      ++hashed_;
      most_inside_ = std::max(most_inside_, inside_);
    }
    release_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    --inside_;
  }
  void AwaitHashed(int n) {
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return hashed_ >= n; };
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done));
  }
  void ReleaseAll() { release_.Notify(); }
  int inside() {
    absl::MutexLock lock(&mu_);
    return inside_;
  }
  int most_inside() {
    absl::MutexLock lock(&mu_);
    return most_inside_;
  }
  int hashed() {
    absl::MutexLock lock(&mu_);
    return hashed_;
  }

 private:
  HashGate& gate_;
  absl::Notification release_;
  absl::Mutex mu_;
  int inside_ ABSL_GUARDED_BY(mu_) = 0;
  int most_inside_ ABSL_GUARDED_BY(mu_) = 0;
  int hashed_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(HashGateTest, AtMostSlotsHashAtOnceAndTheRestWait) {
  prometheus::Registry registry;
  HashGate gate(2, registry);
  FakeHasher hasher(gate);
  std::vector<std::thread> callers;
  for (int i = 0; i < 5; ++i) callers.emplace_back([&] { hasher.Hash(); });

  hasher.AwaitHashed(2);
  gate.AwaitWaiting(3);
  EXPECT_EQ(hasher.inside(), 2);
  EXPECT_EQ(hasher.hashed(), 2);
  EXPECT_EQ(MetricValue(registry, "passcode_hash_waiting"), 3);
  EXPECT_EQ(MetricValue(registry, "passcode_hash_running"), 2);
  EXPECT_EQ(MetricValue(registry, "passcode_hash_slots"), 2);

  hasher.ReleaseAll();
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(hasher.hashed(), 5);
  EXPECT_EQ(hasher.most_inside(), 2);
  EXPECT_EQ(gate.waiting(), 0);
  EXPECT_EQ(MetricValue(registry, "passcode_hash_running"), 0);
  EXPECT_EQ(MetricValue(registry, "passcode_hash_wait_seconds"), 5);  // Observations.
}

TEST(HashGateTest, AWaiterEntersWhenASlotIsReleased) {
  prometheus::Registry registry;
  HashGate gate(1, registry);
  std::optional<HashGate::Slot> held;
  held.emplace(*gate.Enter(absl::InfiniteFuture()));
  absl::Notification entered;
  std::thread waiter([&] {
    absl::StatusOr<HashGate::Slot> slot = gate.Enter(absl::InfiniteFuture());
    EXPECT_TRUE(slot.ok());
    entered.Notify();
  });
  gate.AwaitWaiting(1);
  EXPECT_FALSE(entered.HasBeenNotified());
  held.reset();
  entered.WaitForNotification();
  waiter.join();
  EXPECT_EQ(gate.waiting(), 0);
}

TEST(HashGateTest, ADeadlinePassedWhileWaitingFailsWithItsReason) {
  prometheus::Registry registry;
  HashGate gate(1, registry);
  absl::StatusOr<HashGate::Slot> held = gate.Enter(absl::InfiniteFuture());
  ASSERT_TRUE(held.ok());

  absl::StatusOr<HashGate::Slot> late = gate.Enter(absl::Now() - absl::Seconds(1));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(late.status()), "PASSCODE_HASHING_BUSY");
  EXPECT_EQ(gate.waiting(), 0);
  EXPECT_EQ(MetricValue(registry, "passcode_hash_gate_timeouts_total"), 1);
  EXPECT_EQ(MetricValue(registry, "passcode_hash_running"), 1);
}

TEST(HashGateTest, AFreeSlotIsTakenWhateverTheDeadline) {
  prometheus::Registry registry;
  HashGate gate(1, registry);
  EXPECT_TRUE(gate.Enter(absl::Now() - absl::Seconds(1)).ok());
  // The slot above was released when its StatusOr went away.
  EXPECT_TRUE(gate.Enter(absl::Now() - absl::Seconds(1)).ok());
  EXPECT_EQ(MetricValue(registry, "passcode_hash_gate_timeouts_total"), 0);
}

// Each slot observes the CPU its thread spent while holding it.
TEST(HashGateTest, ASlotRecordsTheCpuItsHolderSpent) {
  prometheus::Registry registry;
  HashGate gate(1, registry);
  {
    absl::StatusOr<HashGate::Slot> slot = gate.Enter(absl::InfiniteFuture());
    ASSERT_TRUE(slot.ok());
    const double start = ThreadCpuSeconds();
    while (ThreadCpuSeconds() - start < 0.020) {  // 20 ms of CPU, not of sleep.
    }
  }
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != "passcode_hash_cpu_seconds") continue;
    ASSERT_EQ(f.metric.size(), 1u);
    EXPECT_EQ(f.metric[0].histogram.sample_count, 1u);
    EXPECT_GE(f.metric[0].histogram.sample_sum, 0.020);
    EXPECT_LT(f.metric[0].histogram.sample_sum, 0.5);
    return;
  }
  ADD_FAILURE() << "no passcode_hash_cpu_seconds";
}

TEST(HashGateTest, EachHeldSlotHasWorkMemoryOfItsOwn) {
  prometheus::Registry registry;
  HashGate gate(2, registry);
  absl::StatusOr<HashGate::Slot> a = gate.Enter(absl::InfiniteFuture());
  absl::StatusOr<HashGate::Slot> b = gate.Enter(absl::InfiniteFuture());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_NE(a->memory(), nullptr);
  ASSERT_NE(b->memory(), nullptr);
  EXPECT_NE(a->memory(), b->memory());
  Argon2Memory* const a_memory = a->memory();
  { HashGate::Slot released = *std::move(a); }
  absl::StatusOr<HashGate::Slot> c = gate.Enter(absl::InfiniteFuture());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->memory(), a_memory);  // Given back, handed out again.
}

// Counted from the slot's memory, per hold: Argon2-shaped mappings while the
// slot is held, the first of all mapped by the kernel, the others kept.
TEST(HashGateTest, HashesInKeptMemoryAreCounted) {
  prometheus::Registry registry;
  HashGate gate(1, registry);
  const auto hold = [&gate](int mappings) {
    absl::StatusOr<HashGate::Slot> slot = gate.Enter(absl::InfiniteFuture());
    ASSERT_TRUE(slot.ok());
    Argon2Memory::Lend lend(slot->memory());
    for (int i = 0; i < mappings; ++i) {
      void* region = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      ASSERT_NE(region, MAP_FAILED);
      ASSERT_EQ(munmap(region, 1 << 20), 0);
    }
  };
  hold(2);
  EXPECT_EQ(MetricValue(registry, "passcode_hash_kept_memory_total"), 1);
  hold(1);  // Kept from the first hold: one more, not the memory's total.
  EXPECT_EQ(MetricValue(registry, "passcode_hash_kept_memory_total"), 2);
}

TEST(HashGateTest, AtLeastOneSlotAndOneCpu) {
  prometheus::Registry registry;
  EXPECT_EQ(HashGate(0, registry).slots(), 1);
  EXPECT_GE(HashGate::CpuCount(), 1);
}

TEST(HashGateTest, ACgroupQuotaCountsAsTheCpusItAllowsRoundedUp) {
  EXPECT_EQ(HashGate::CpusOfQuota("200000 100000\n"), 2);  // limits: cpu: 2
  EXPECT_EQ(HashGate::CpusOfQuota("150000 100000"), 2);     // cpu: 1500m
  EXPECT_EQ(HashGate::CpusOfQuota("50000 100000"), 1);      // cpu: 500m
  EXPECT_EQ(HashGate::CpusOfQuota("max 100000\n"), 0);      // no limit
  EXPECT_EQ(HashGate::CpusOfQuota("-1 100000"), 0);         // cgroup v1: none
  EXPECT_EQ(HashGate::CpusOfQuota(""), 0);
  EXPECT_EQ(HashGate::CpusOfQuota("100000"), 0);
}

}  // namespace
}  // namespace eid::activation
