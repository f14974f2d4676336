// Clock: the one source of "now" for every expiry, rate limit and timestamp.
//
// Services take a `Clock&` in their constructor; production passes
// `Clock::Real()`, tests pass a `FakeClock` and advance it, so no test sleeps
// to expire an OTP or a QR code. Implementations are thread-safe.
#ifndef EID_SERVICES_COMMON_CLOCK_H_
#define EID_SERVICES_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace eid {

class Clock {
 public:
  virtual ~Clock() = default;

  // The current wall-clock time.
  virtual absl::Time Now() const = 0;

  // The process-wide real clock (never destroyed).
  static Clock& Real();
};

// A clock that moves only when told to. Starts at a fixed, arbitrary instant
// unless given one.
class FakeClock : public Clock {
 public:
  FakeClock();
  explicit FakeClock(absl::Time start);

  absl::Time Now() const override;

  // Moves time forward by `d` (which may be negative, to test clock skew).
  void Advance(absl::Duration d);
  // Jumps to `t`.
  void Set(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid

#endif  // EID_SERVICES_COMMON_CLOCK_H_
