#include "storage/replay/local_replay_guard.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid::storage {
namespace {

std::string NonceBytes(int i) {
  std::string n(16, '\0');
  std::memcpy(n.data(), &i, sizeof(i));
  n[15] = 'n';
  return n;
}

class LocalReplayGuardTest : public ::testing::Test {
 protected:
  LocalReplayGuard::Options Opts() {
    LocalReplayGuard::Options o;
    o.dir = std::string(getenv("TEST_TMPDIR")) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    return o;
  }
  std::unique_ptr<LocalReplayGuard> Start() {
    auto guard = LocalReplayGuard::Create(Opts(), clock_);
    EXPECT_TRUE(guard.ok()) << guard.status();
    return std::move(*guard);
  }
  // Time moves past the fence of a fresh start, as in steady operation.
  void PastFence(const LocalReplayGuard& g) {
    clock_.Set(g.fenced_until() + absl::Seconds(1) - absl::Seconds(60));
  }

  FakeClock clock_;
};

TEST_F(LocalReplayGuardTest, FirstThenReplayed) {
  auto guard = Start();
  PastFence(*guard);
  const absl::Time exp = clock_.Now() + absl::Seconds(60);
  EXPECT_EQ(*guard->CheckAndRecord(NonceBytes(1), exp), ReplayVerdict::kFirst);
  EXPECT_EQ(*guard->CheckAndRecord(NonceBytes(1), exp), ReplayVerdict::kReplayed);
}

TEST_F(LocalReplayGuardTest, RejectsBadNoncesAndFarExpiries) {
  auto guard = Start();
  PastFence(*guard);
  auto bad = guard->CheckAndRecord("short", clock_.Now() + absl::Seconds(60));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(bad.status()), "NONCE_INVALID");
  auto far = guard->CheckAndRecord(NonceBytes(1), clock_.Now() + absl::Hours(1));
  EXPECT_EQ(ReasonOf(far.status()), "EXPIRY_INVALID");
  EXPECT_EQ(guard->live_entries(), 0u);
}

TEST_F(LocalReplayGuardTest, ReplayIsCaughtUntilExpiryPlusSkewThenForgotten) {
  auto guard = Start();
  PastFence(*guard);
  const absl::Time exp = clock_.Now() + absl::Seconds(60);
  ASSERT_EQ(*guard->CheckAndRecord(NonceBytes(7), exp), ReplayVerdict::kFirst);
  // A verifier whose clock lags by just under the allowed skew still accepts
  // the token then: the guard must still remember it.
  const absl::Duration skew = guard->options().allowed_skew;
  clock_.Set(exp + skew - absl::Seconds(1));
  EXPECT_EQ(*guard->CheckAndRecord(NonceBytes(7), exp), ReplayVerdict::kReplayed);
  clock_.Set(exp + skew + absl::Seconds(1));
  ASSERT_TRUE(guard->Maintain().ok());
  EXPECT_EQ(guard->live_entries(), 0u);
  // Now past any verifier's window: reported expired, not first.
  EXPECT_EQ(*guard->CheckAndRecord(NonceBytes(7), exp), ReplayVerdict::kExpired);
}

TEST_F(LocalReplayGuardTest, ARestartFencesTokensIssuedBeforeIt) {
  auto guard = Start();
  PastFence(*guard);
  ASSERT_TRUE(guard->Maintain().ok());
  const absl::Time exp = clock_.Now() + absl::Seconds(60);
  ASSERT_EQ(*guard->CheckAndRecord(NonceBytes(3), exp), ReplayVerdict::kFirst);
  guard.reset();  // The process dies; its memory is gone.

  clock_.Advance(absl::Seconds(1));
  auto restarted = Start();
  EXPECT_EQ(*restarted->CheckAndRecord(NonceBytes(3), exp), ReplayVerdict::kFenced);
  // A token issued after the restart (and the skew) is served normally.
  clock_.Set(restarted->fenced_until() - absl::Seconds(59));
  const absl::Time fresh = clock_.Now() + absl::Seconds(60);
  EXPECT_EQ(*restarted->CheckAndRecord(NonceBytes(4), fresh), ReplayVerdict::kFirst);
}

TEST_F(LocalReplayGuardTest, AClockSteppedBackCannotReopenTheFence) {
  auto guard = Start();
  PastFence(*guard);
  ASSERT_TRUE(guard->Maintain().ok());
  const absl::Time exp = clock_.Now() + absl::Seconds(60);
  ASSERT_EQ(*guard->CheckAndRecord(NonceBytes(5), exp), ReplayVerdict::kFirst);
  guard.reset();
  clock_.Advance(absl::Minutes(-10));  // NTP stepped the clock back...
  auto restarted = Start();
  clock_.Advance(absl::Minutes(10));  // ...and time catches up again.
  EXPECT_EQ(*restarted->CheckAndRecord(NonceBytes(5), exp), ReplayVerdict::kFenced);
}

TEST_F(LocalReplayGuardTest, TheHighWaterMarkNeverMovesBackWithTheClock) {
  auto guard = Start();
  PastFence(*guard);
  ASSERT_TRUE(guard->Maintain().ok());
  const absl::Time exp = clock_.Now() + absl::Seconds(60);
  ASSERT_EQ(*guard->CheckAndRecord(NonceBytes(6), exp), ReplayVerdict::kFirst);
  clock_.Advance(absl::Minutes(-10));  // The clock steps back while serving,
  ASSERT_TRUE(guard->Maintain().ok());  // and the mark is persisted again.
  guard.reset();
  auto restarted = Start();
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(*restarted->CheckAndRecord(NonceBytes(6), exp), ReplayVerdict::kFenced);
}

TEST_F(LocalReplayGuardTest, BatchAnswersInOrderAndFailsWholeOnABadEntry) {
  auto guard = Start();
  PastFence(*guard);
  const absl::Time exp = clock_.Now() + absl::Seconds(60);
  auto verdicts = guard->CheckAndRecordBatch(
      {{NonceBytes(1), exp}, {NonceBytes(2), exp}, {NonceBytes(1), exp}});
  ASSERT_TRUE(verdicts.ok());
  EXPECT_EQ(*verdicts, (std::vector<ReplayVerdict>{ReplayVerdict::kFirst,
                                                   ReplayVerdict::kFirst,
                                                   ReplayVerdict::kReplayed}));
  auto bad = guard->CheckAndRecordBatch({{NonceBytes(9), exp}, {"x", exp}});
  EXPECT_EQ(ReasonOf(bad.status()), "NONCE_INVALID");
  EXPECT_NE(std::string(bad.status().message()).find("checks[1]"), std::string::npos);
  EXPECT_EQ(*guard->CheckAndRecord(NonceBytes(9), exp), ReplayVerdict::kFirst);
}

TEST_F(LocalReplayGuardTest, ThousandConcurrentChecksOfOneNonceGiveOneFirst) {
  auto guard = Start();
  PastFence(*guard);
  const absl::Time exp = clock_.Now() + absl::Seconds(60);
  std::atomic<int> firsts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 125; ++i) {
        if (*guard->CheckAndRecord(NonceBytes(42), exp) == ReplayVerdict::kFirst) {
          ++firsts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(firsts.load(), 1);
}

}  // namespace
}  // namespace eid::storage
