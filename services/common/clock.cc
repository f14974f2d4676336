#include "services/common/clock.h"

namespace eid {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock& Clock::Real() {
  static Clock* const clock = new RealClock();
  return *clock;
}

// 2026-01-01T00:00:00Z: a fixed start keeps test output reproducible.
FakeClock::FakeClock() : FakeClock(absl::FromUnixSeconds(1767225600)) {}

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void FakeClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

}  // namespace eid
