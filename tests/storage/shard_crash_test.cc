// A shard process killed with SIGKILL under a write and replay load, then
// restarted on the same data: every acknowledged write to a synced
// namespace is there, and no nonce answered FIRST before the crash is
// answered FIRST again.
#include <signal.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "storage/router/shard_router.h"
#include "tests/util/eidd_process.h"

namespace eid {
namespace {

using storage::ReplayCheck;
using storage::ReplayVerdict;
using storage::ShardRouter;

std::unique_ptr<ShardRouter> RouterTo(const testing::EiddProcess& shard) {
  ShardRouter::Options options;
  options.max_attempts = 1;
  auto router = ShardRouter::Connect({shard.grpc_address()}, options);
  EXPECT_TRUE(router.ok()) << router.status();
  return router.ok() ? std::move(*router) : nullptr;
}

TEST(ShardCrashTest, KillNineLosesNoAcknowledgedWriteAndNeverRepeatsFirst) {
  const std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/crash");
  const std::vector<std::string> flags = {"--services=shard", "--data_dir=" + dir};
  auto first_run = testing::StartEidd(flags, dir + "-run1");
  ASSERT_TRUE(first_run.ok()) << first_run.status();
  std::unique_ptr<ShardRouter> router = RouterTo(*first_run);
  ASSERT_NE(router, nullptr);

  absl::Mutex mu;
  std::vector<std::string> acked;        // Keys whose Put was acknowledged.
  std::vector<ReplayCheck> first_seen;   // Nonces answered FIRST.
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int t = 0; t < 3; ++t) {
    load.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        v1::PutRequest put;
        put.set_namespace_("accounts");  // A synced namespace.
        put.set_key(absl::StrCat("acct-", t, "-", i));
        put.set_value(put.key() + "-value");
        if (router->Put(put).ok()) {
          absl::MutexLock lock(&mu);
          acked.push_back(put.key());
        }
      }
    });
  }
  load.emplace_back([&] {
    for (uint32_t i = 0; !stop; ++i) {
      std::string nonce(16, 'n');
      for (int b = 0; b < 4; ++b) nonce[b] = static_cast<char>(i >> (8 * b));
      // The longest expiry a shard accepts (lifetime + skew): past the fence
      // of a shard that has just started for the first time.
      const absl::Time expires = absl::Now() + absl::Seconds(64);
      auto verdict = router->CheckAndRecord(nonce, expires);
      if (verdict.ok() && *verdict == ReplayVerdict::kFirst) {
        absl::MutexLock lock(&mu);
        first_seen.push_back({nonce, expires});
      }
    }
  });

  // Let the load run until there is something to lose, then crash.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  auto enough = [&] {
    absl::MutexLock lock(&mu);
    return acked.size() >= 300 && first_seen.size() >= 300;
  };
  while (!enough() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // Waiting on a real process.
  }
  first_run->process->Signal(SIGKILL);
  ASSERT_TRUE(first_run->process->Wait(absl::Seconds(10)).ok());
  stop = true;
  for (auto& t : load) t.join();
  ASSERT_GE(acked.size(), 300u);
  ASSERT_GE(first_seen.size(), 300u);

  auto second_run = testing::StartEidd(flags, dir + "-run2");
  ASSERT_TRUE(second_run.ok()) << second_run.status();
  router = RouterTo(*second_run);
  ASSERT_NE(router, nullptr);

  // Every acknowledged write survived.
  size_t missing = 0;
  for (size_t from = 0; from < acked.size(); from += 500) {
    v1::MultiGetRequest get;
    for (size_t i = from; i < std::min(acked.size(), from + 500); ++i) {
      auto* key = get.add_keys();
      key->set_namespace_("accounts");
      key->set_key(acked[i]);
    }
    auto got = router->MultiGet(get);
    ASSERT_TRUE(got.ok()) << got.status();
    for (int i = 0; i < got->results_size(); ++i) {
      const auto& result = got->results(i);
      if (!result.found() ||
          result.record().value() != acked[from + i] + "-value") {
        ++missing;
      }
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged writes";

  // No nonce is FIRST a second time.
  size_t first_again = 0;
  for (size_t from = 0; from < first_seen.size(); from += 500) {
    std::vector<ReplayCheck> part(
        first_seen.begin() + from,
        first_seen.begin() + std::min(first_seen.size(), from + 500));
    auto verdicts = router->CheckAndRecordBatch(part);
    ASSERT_TRUE(verdicts.ok()) << verdicts.status();
    for (ReplayVerdict v : *verdicts) first_again += v == ReplayVerdict::kFirst;
  }
  EXPECT_EQ(first_again, 0u) << "of " << first_seen.size() << " nonces";

  second_run->process->Signal(SIGTERM);
  auto code = second_run->process->Wait(absl::Seconds(10));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << testing::ReadFile(second_run->log_file);
}

}  // namespace
}  // namespace eid
