// Coalescer: many threads' single calls to one peer sent as batch calls.
// A caller hands in one item and blocks for its answer. Whoever finds no
// batch in flight sends everything queued (up to max_batch) as one call;
// callers arriving meanwhile queue up for the next one. Under load batches
// grow by themselves; idle, a call goes out at once, alone: no timer, no
// thread of its own. A full RPC costs tens of microseconds of CPU on each
// side, so N callers sharing one pay about 1/N of that.
//
// Thread-safe.
#ifndef EID_SERVICES_COMMON_COALESCER_H_
#define EID_SERVICES_COMMON_COALESCER_H_

#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace eid {

template <typename Item, typename Answer>
class Coalescer {
 public:
  // Sends `items` as one call: exactly one answer per item, in order (an
  // item's own failure in its answer), or one status failing them all.
  using SendBatch = std::function<absl::StatusOr<std::vector<absl::StatusOr<Answer>>>(
      std::vector<Item>& items)>;

  Coalescer(size_t max_batch, SendBatch send) : max_batch_(max_batch), send_(std::move(send)) {}

  absl::StatusOr<Answer> Call(Item item) {
    Waiter me{this, std::move(item)};
    absl::MutexLock lock(&mu_);
    queue_.push_back(&me);
    while (!me.done) {
      // Answered, or the peer is free and this caller may send the queue.
      mu_.Await(absl::Condition(&Waiter::Ready, &me));
      if (!me.done) SendQueued();
    }
    return std::move(me.answer);
  }

  // Callers waiting for a batch to carry them.
  size_t queued() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

 private:
  struct Waiter {
    Coalescer* owner;
    Item item;
    bool done = false;
    absl::StatusOr<Answer> answer = absl::UnknownError("not answered");
    // Evaluated by absl::Mutex with mu_ held.
    static bool Ready(Waiter* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return w->done || !w->owner->sending_;
    }
  };

  // Sends up to max_batch queued items with mu_ released, then answers them.
  void SendQueued() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Waiter*> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    sending_ = true;
    mu_.Unlock();
    std::vector<Item> items;
    items.reserve(batch.size());
    for (Waiter* w : batch) items.push_back(std::move(w->item));
    absl::StatusOr<std::vector<absl::StatusOr<Answer>>> answers = send_(items);
    mu_.Lock();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!answers.ok()) {
        batch[i]->answer = answers.status();
      } else if (i < answers->size()) {
        batch[i]->answer = std::move((*answers)[i]);
      } else {
        batch[i]->answer = absl::InternalError("the batch call answered too few items");
      }
      batch[i]->done = true;
    }
    sending_ = false;
  }

  const size_t max_batch_;
  const SendBatch send_;
  absl::Mutex mu_;
  std::deque<Waiter*> queue_ ABSL_GUARDED_BY(mu_);
  bool sending_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace eid

#endif  // EID_SERVICES_COMMON_COALESCER_H_
