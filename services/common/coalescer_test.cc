#include "services/common/coalescer.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace eid {
namespace {

using IntCoalescer = Coalescer<int, int>;

// Doubles each item; a negative item is that item's own error.
absl::StatusOr<std::vector<absl::StatusOr<int>>> Double(std::vector<int>& items) {
  std::vector<absl::StatusOr<int>> out;
  for (int i : items) {
    if (i < 0) {
      out.push_back(absl::InvalidArgumentError("negative"));
    } else {
      out.push_back(2 * i);
    }
  }
  return out;
}

TEST(CoalescerTest, AloneACallGoesOutAtOnceByItself) {
  std::vector<size_t> sizes;
  IntCoalescer c(8, [&](std::vector<int>& items) {
    sizes.push_back(items.size());
    return Double(items);
  });
  EXPECT_EQ(*c.Call(21), 42);
  EXPECT_EQ(*c.Call(5), 10);
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 1}));
}

TEST(CoalescerTest, CallersArrivingDuringABatchShareTheNextOne) {
  absl::Mutex mu;
  std::vector<std::vector<int>> batches;
  absl::Notification first_sent, release_first;
  IntCoalescer c(100, [&](std::vector<int>& items) {
    {
      absl::MutexLock lock(&mu);
      batches.push_back(items);
    }
    if (!first_sent.HasBeenNotified()) {
      first_sent.Notify();
      release_first.WaitForNotification();
    }
    return Double(items);
  });
  std::thread first([&] { EXPECT_EQ(*c.Call(0), 0); });
  first_sent.WaitForNotification();
  constexpr int kCallers = 20;
  std::vector<std::thread> others;
  std::vector<int> answers(kCallers, -1);
  for (int i = 1; i <= kCallers; ++i) {
    others.emplace_back([&, i] { answers[i - 1] = *c.Call(i); });
  }
  // All of them queue behind the first batch.
  while (c.queued() < kCallers) std::this_thread::yield();
  release_first.Notify();
  first.join();
  for (std::thread& t : others) t.join();
  for (int i = 1; i <= kCallers; ++i) EXPECT_EQ(answers[i - 1], 2 * i);
  // The 20 went out together, in the second call.
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[1].size(), static_cast<size_t>(kCallers));
}

TEST(CoalescerTest, NoBatchExceedsMaxBatch) {
  absl::Mutex mu;
  size_t largest = 0;
  int calls = 0;
  IntCoalescer c(3, [&](std::vector<int>& items) {
    absl::MutexLock lock(&mu);
    largest = std::max(largest, items.size());
    ++calls;
    return Double(items);
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) threads.emplace_back([&, i] { EXPECT_EQ(*c.Call(i), 2 * i); });
  for (std::thread& t : threads) t.join();
  EXPECT_LE(largest, 3u);
  EXPECT_GE(calls, 17);  // 50 items, at most 3 per call.
}

TEST(CoalescerTest, AnItemsOwnErrorGoesToItsCallerOnly) {
  IntCoalescer c(8, Double);
  EXPECT_EQ(c.Call(-1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*c.Call(1), 2);
}

TEST(CoalescerTest, AFailedBatchCallFailsEveryCallerInIt) {
  IntCoalescer c(8, [](std::vector<int>&) -> absl::StatusOr<std::vector<absl::StatusOr<int>>> {
    return absl::UnavailableError("peer down");
  });
  EXPECT_EQ(c.Call(1).status().code(), absl::StatusCode::kUnavailable);
}

TEST(CoalescerTest, TooFewAnswersAreAnErrorNotAHang) {
  IntCoalescer c(8, [](std::vector<int>&) {
    return absl::StatusOr<std::vector<absl::StatusOr<int>>>(std::vector<absl::StatusOr<int>>{});
  });
  EXPECT_EQ(c.Call(1).status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace eid
