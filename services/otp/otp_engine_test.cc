#include "services/otp/otp_engine.h"

#include <atomic>
#include <regex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/otp/otp_keys.h"
#include "services/otp/otp_testing.h"
#include "services/otp/sms_text.h"

namespace eid::otp {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPhone[] = "0912345678";

class OtpEngineTest : public ::testing::Test {
 protected:
  OtpEngineTest() {
    kv_ = testing::OpenStore("otp", clock_);
    recorder_ = std::make_unique<testing::SyncRecorder>(*kv_);
    queue_ = std::make_unique<SmsQueue>(SmsQueue::Options(), *recorder_, sender_,
                                        clock_, random_, metrics_);
    options_.pepper_file = testing::PepperFile("pepper");
  }

  OtpEngine& Engine() {
    if (!engine_) {
      auto engine = OtpEngine::Create(
          options_, *recorder_, *queue_, clock_, random_,
          [this](
              const std::string& account) -> absl::StatusOr<v1::AccountState> {
            absl::MutexLock lock(&mu_);
            auto it = states_.find(account);
            if (it == states_.end()) return v1::ACCOUNT_STATE_APPROVED;
            if (it->second == v1::ACCOUNT_STATE_UNSPECIFIED) {
              return NotFound(v1::ACCOUNT_NOT_FOUND, "no such account");
            }
            return it->second;
          });
      EXPECT_TRUE(engine.ok()) << engine.status();
      engine_ = *std::move(engine);
    }
    return *engine_;
  }

  void SetState(const std::string& account, v1::AccountState state) {
    absl::MutexLock lock(&mu_);
    states_[account] = state;
  }

  absl::StatusOr<v1::SendOtpResponse> TrySend(
      const std::string& account,
      v1::OtpPurpose purpose = v1::OTP_PURPOSE_ACTIVATION,
      const std::string& phone = kPhone, std::string request_id = "") {
    if (request_id.empty()) request_id = "req-" + std::to_string(++requests_);
    v1::SendOtpRequest r;
    r.set_request_id(request_id);
    r.set_account_id(account);
    r.set_phone(phone);
    r.set_purpose(purpose);
    return Engine().SendOtp(r);
  }

  v1::SendOtpResponse Send(
      const std::string& account,
      v1::OtpPurpose purpose = v1::OTP_PURPOSE_ACTIVATION) {
    absl::StatusOr<v1::SendOtpResponse> r = TrySend(account, purpose);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(v1::SendOtpResponse());
  }

  // Delivers the queue and reads the code out of the SMS of `sent`.
  std::string CodeOf(const v1::SendOtpResponse& sent) {
    EXPECT_TRUE(queue_->RunOnce().ok());
    for (const Sms& sms : sender_.sent()) {
      if (sms.message_id != sent.message_id()) continue;
      std::smatch m;
      if (std::regex_search(sms.text, m, std::regex("la ([0-9]{6})\\.")))
        return m[1];
    }
    ADD_FAILURE() << "no SMS for " << sent.message_id();
    return "";
  }

  absl::StatusOr<v1::CheckOtpResponse> Check(const std::string& otp_id,
                                             const std::string& code) {
    v1::CheckOtpRequest r;
    r.set_otp_id(otp_id);
    r.set_code(code);
    return Engine().CheckOtp(r);
  }

  static std::string Wrong(const std::string& code) {
    std::string w = code;
    w[0] = w[0] == '9' ? '0' : w[0] + 1;
    return w;
  }

  FakeClock clock_{
      absl::FromUnixSeconds(1735700000)};  // 2025-01-01 10:53 in Hanoi
  std::unique_ptr<storage::RocksDbKvStore> kv_;
  std::unique_ptr<testing::SyncRecorder> recorder_;  // The queue's and engine's store.
  testing::FakeSmsSender sender_;
  SystemRandom random_;
  prometheus::Registry metrics_;
  std::unique_ptr<SmsQueue> queue_;
  OtpEngine::Options options_;
  std::unique_ptr<OtpEngine> engine_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::AccountState> states_;
  int requests_ = 0;
};

TEST_F(OtpEngineTest, SendsASixDigitCodeBySmsThatIsAcceptedOnce) {
  const v1::SendOtpResponse sent = Send("acc1");
  EXPECT_EQ(FromProtoTime(sent.expires_at()), clock_.Now() + absl::Minutes(5));
  EXPECT_EQ(FromProtoTime(sent.resend_available_at()),
            clock_.Now() + absl::Seconds(60));
  EXPECT_EQ(sent.remaining_attempts(), 5);
  const std::string code = CodeOf(sent);
  ASSERT_EQ(sender_.sent().size(), 1u);
  EXPECT_EQ(sender_.sent()[0].to, "+84912345678");
  EXPECT_EQ(sender_.sent()[0].text,
            OtpSmsText(v1::OTP_PURPOSE_ACTIVATION, code, absl::Minutes(5)));

  clock_.Advance(absl::Minutes(4));
  absl::StatusOr<v1::CheckOtpResponse> ok = Check(sent.otp_id(), code);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->account_id(), "acc1");
  EXPECT_EQ(ok->purpose(), v1::OTP_PURPOSE_ACTIVATION);
  EXPECT_EQ(FromProtoTime(ok->consumed_at()), clock_.Now());

  const absl::Status again = Check(sent.otp_id(), code).status();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(again), "OTP_ALREADY_USED");
}

TEST_F(OtpEngineTest, TheCodeIsStoredOnlyAsAnHmac) {
  const v1::SendOtpResponse sent = Send("acc1");
  const std::string code = CodeOf(sent);  // Delivered: the SMS text is erased.
  v1::ScanRequest scan;
  scan.set_namespace_("otp");
  scan.set_limit(1000);
  absl::StatusOr<v1::ScanResponse> all = kv_->Scan(scan);
  ASSERT_TRUE(all.ok());
  EXPECT_GT(all->records_size(), 3);
  for (const v1::Record& r : all->records()) {
    EXPECT_EQ(r.value().find(code), std::string::npos) << r.key();
  }
}

TEST_F(OtpEngineTest, AWrongCodeSaysMismatchAndHowManyAttemptsRemain) {
  const v1::SendOtpResponse sent = Send("acc1");
  const std::string code = CodeOf(sent);
  const absl::Status s = Check(sent.otp_id(), Wrong(code)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ReasonOf(s), "OTP_MISMATCH");
  EXPECT_EQ(MetadataOf(s, "remaining_attempts"), "4");
  EXPECT_EQ(ReasonOf(Check(sent.otp_id(), Wrong(code)).status()),
            "OTP_MISMATCH");
  // A right code still works, and clears the counter.
  ASSERT_TRUE(Check(sent.otp_id(), code).ok());
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(Send("acc1").remaining_attempts(), 5);
}

TEST_F(OtpEngineTest, LocksAfterFiveWrongCodesCountedAcrossPurposes) {
  const v1::SendOtpResponse activation =
      Send("acc1", v1::OTP_PURPOSE_ACTIVATION);
  const v1::SendOtpResponse recovery = Send("acc1", v1::OTP_PURPOSE_RECOVERY);
  const std::string a = CodeOf(activation);
  const std::string r = CodeOf(recovery);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(MetadataOf(Check(activation.otp_id(), Wrong(a)).status(),
                         "remaining_attempts"),
              std::to_string(4 - i));
  }
  EXPECT_EQ(MetadataOf(Check(recovery.otp_id(), Wrong(r)).status(),
                       "remaining_attempts"),
            "1");
  const absl::Status locked = Check(recovery.otp_id(), Wrong(r)).status();
  EXPECT_EQ(locked.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(locked), "OTP_LOCKED");
  EXPECT_EQ(MetadataOf(locked, "locked_until"),
            "2025-01-01T03:23:20Z");  // +30 min

  // Locked for both purposes, even with the right code.
  EXPECT_EQ(ReasonOf(Check(activation.otp_id(), a).status()), "OTP_LOCKED");
  EXPECT_EQ(ReasonOf(Check(recovery.otp_id(), r).status()), "OTP_LOCKED");
  // And no new code while locked.
  clock_.Advance(absl::Minutes(29));
  const absl::Status no_code = TrySend("acc1").status();
  EXPECT_EQ(ReasonOf(no_code), "OTP_LOCKED");
  EXPECT_EQ(MetadataOf(no_code, "retry_after"), "2025-01-01T03:23:20Z");

  // After the lockout: a fresh start.
  clock_.Advance(absl::Minutes(1));
  const v1::SendOtpResponse next = Send("acc1");
  EXPECT_EQ(next.remaining_attempts(), 5);
  EXPECT_TRUE(Check(next.otp_id(), CodeOf(next)).ok());
}

TEST_F(OtpEngineTest, ParallelWrongGuessesNeverGetMoreThanTheLimit) {
  const v1::SendOtpResponse activation =
      Send("acc1", v1::OTP_PURPOSE_ACTIVATION);
  const v1::SendOtpResponse recovery = Send("acc1", v1::OTP_PURPOSE_RECOVERY);
  const std::string a = CodeOf(activation);
  const std::string r = CodeOf(recovery);
  std::atomic<int> mismatches{0}, locked{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      const bool act = t % 2 == 0;
      const std::string reason =
          ReasonOf(Check(act ? activation.otp_id() : recovery.otp_id(),
                         Wrong(act ? a : r))
                       .status());
      if (reason == "OTP_MISMATCH") {
        ++mismatches;
      } else if (reason == "OTP_LOCKED") {
        ++locked;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 4);
  EXPECT_EQ(locked.load(), 12);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(OtpEngineTest, SixteenConcurrentChecksOfTheRightCodeAcceptExactlyOne) {
  const v1::SendOtpResponse sent = Send("acc1");
  const std::string code = CodeOf(sent);
  std::atomic<int> ok{0}, used{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      const absl::Status s = Check(sent.otp_id(), code).status();
      if (s.ok()) {
        ++ok;
      } else if (ReasonOf(s) == "OTP_ALREADY_USED") {
        ++used;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(used.load(), 15);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(OtpEngineTest, ExpiryIsCheckedBeforeTheCodeRightOrWrong) {
  const v1::SendOtpResponse sent = Send("acc1");
  const std::string code = CodeOf(sent);
  clock_.Advance(absl::Minutes(5));
  const absl::Status right = Check(sent.otp_id(), code).status();
  EXPECT_EQ(right.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(right), "OTP_EXPIRED");
  EXPECT_EQ(ReasonOf(Check(sent.otp_id(), Wrong(code)).status()),
            "OTP_EXPIRED");
  // An expired code costs no attempt.
  EXPECT_EQ(Send("acc1").remaining_attempts(), 5);
  // Long after, the code is forgotten.
  clock_.Advance(absl::Hours(25));
  EXPECT_EQ(ReasonOf(Check(sent.otp_id(), code).status()), "OTP_NOT_FOUND");
}

TEST_F(OtpEngineTest, ACodeIsAcceptedUpToItsLastMicrosecond) {
  const v1::SendOtpResponse sent = Send("acc1");
  const std::string code = CodeOf(sent);
  clock_.Advance(absl::Minutes(5) - absl::Microseconds(1));
  EXPECT_TRUE(Check(sent.otp_id(), code).ok());
}

TEST_F(OtpEngineTest, AResendTooSoonIsRefusedWithRetryAfter) {
  const absl::Time t0 = clock_.Now();
  Send("acc1");
  clock_.Advance(absl::Seconds(59));
  const absl::Status s = TrySend("acc1").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(s), "OTP_RESEND_TOO_SOON");
  EXPECT_EQ(MetadataOf(s, "retry_after"),
            absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", t0 + absl::Seconds(60),
                             absl::UTCTimeZone()));
  // Another purpose is not held back.
  EXPECT_TRUE(TrySend("acc1", v1::OTP_PURPOSE_RECOVERY).ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(TrySend("acc1").ok());
}

TEST_F(OtpEngineTest, AResendSupersedesThePreviousCode) {
  const v1::SendOtpResponse first = Send("acc1");
  const std::string first_code = CodeOf(first);
  clock_.Advance(absl::Seconds(60));
  const v1::SendOtpResponse second = Send("acc1");
  EXPECT_NE(first.otp_id(), second.otp_id());
  const std::string second_code = CodeOf(second);
  const absl::Status s = Check(first.otp_id(), first_code).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(s), "OTP_SUPERSEDED");
  EXPECT_TRUE(Check(second.otp_id(), second_code).ok());
}

TEST_F(OtpEngineTest, TheSmsOfASupersededCodeStillQueuedIsNotSent) {
  sender_.FailAlways(true);
  const v1::SendOtpResponse first = Send("acc1");
  ASSERT_TRUE(queue_->RunOnce().ok());  // fails; retried in 5 s
  clock_.Advance(absl::Seconds(60));
  sender_.FailAlways(false);
  const v1::SendOtpResponse second = Send("acc1");
  ASSERT_TRUE(queue_->RunOnce().ok());
  ASSERT_EQ(sender_.sent().size(), 1u);
  EXPECT_EQ(sender_.sent()[0].message_id, second.message_id());
  EXPECT_EQ(queue_->Status(first.message_id())->state(),
            v1::DELIVERY_STATE_DEAD_LETTERED);
}

TEST_F(OtpEngineTest, SendIsIdempotentByRequestId) {
  const absl::StatusOr<v1::SendOtpResponse> first =
      TrySend("acc1", v1::OTP_PURPOSE_ACTIVATION, "0912345678", "r-1");
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Seconds(10));
  bool replayed = false;
  v1::SendOtpRequest again;
  again.set_request_id("r-1");
  again.set_account_id("acc1");
  again.set_phone("+84 912 345 678");  // the same phone, written differently
  again.set_purpose(v1::OTP_PURPOSE_ACTIVATION);
  const absl::StatusOr<v1::SendOtpResponse> second =
      Engine().SendOtp(again, &replayed);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(replayed);
  EXPECT_EQ(second->otp_id(), first->otp_id());
  EXPECT_EQ(second->message_id(), first->message_id());
  EXPECT_EQ(second->expires_at().seconds(), first->expires_at().seconds());
  ASSERT_TRUE(queue_->RunOnce().ok());
  EXPECT_EQ(sender_.sent().size(), 1u);

  for (const auto& [purpose, phone] :
       std::vector<std::pair<v1::OtpPurpose, std::string>>{
           {v1::OTP_PURPOSE_RECOVERY, "0912345678"},
           {v1::OTP_PURPOSE_ACTIVATION, "0912345679"}}) {
    const absl::Status s = TrySend("acc1", purpose, phone, "r-1").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(s), "REQUEST_ID_CONFLICT");
  }
}

TEST_F(OtpEngineTest, DailyCapPerAccountHoldsUntilTheNextVietnamDay) {
  options_.daily_cap_per_account = 3;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(TrySend("acc1").ok()) << i;
    clock_.Advance(absl::Minutes(1));
  }
  const absl::Status s = TrySend("acc1").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(s), "OTP_DAILY_CAP");
  EXPECT_EQ(MetadataOf(s, "retry_after"),
            "2025-01-01T17:00:00Z");  // 00:00 in Hanoi
  EXPECT_EQ(ReasonOf(TrySend("acc1", v1::OTP_PURPOSE_RECOVERY).status()),
            "OTP_DAILY_CAP");
  clock_.Set(absl::FromUnixSeconds(1735750800));  // 2025-01-02 00:00 in Hanoi
  EXPECT_TRUE(TrySend("acc1").ok());
}

TEST_F(OtpEngineTest, DailyCapPerPhoneCountsEveryAccount) {
  options_.daily_cap_per_phone = 2;
  EXPECT_TRUE(TrySend("acc1").ok());
  EXPECT_TRUE(TrySend("acc2", v1::OTP_PURPOSE_ACTIVATION, "+84912345678").ok());
  const absl::Status s = TrySend("acc3").status();
  EXPECT_EQ(ReasonOf(s), "OTP_DAILY_CAP");
  EXPECT_EQ(MetadataOf(s, "limit"), "2");
  EXPECT_TRUE(TrySend("acc3", v1::OTP_PURPOSE_ACTIVATION, "0987654321").ok());
}

// The code, its answer and the account's day count are on disk before the
// send is answered, and so is its SMS; the phone's day count, a rate limit
// only, does not wait for an fsync.
TEST_F(OtpEngineTest, ASendsPhoneCountIsItsOnlyWriteThatDoesNotWaitForAnFsync) {
  Send("acc1");
  EXPECT_EQ(recorder_->synced, 2);  // The SMS queued; the code with its answer.
  EXPECT_THAT(recorder_->synced_keys, Contains(HasSubstr("acc1")));
  EXPECT_THAT(recorder_->deferred_keys,
              ElementsAre(StartsWith("phone:+84912345678|day|")));
}

TEST_F(OtpEngineTest, LimitsOutOfBoundsAreRefusedAtCreation) {
  EXPECT_TRUE(OtpEngine::CheckLimits(OtpEngine::Options()).ok());
  const auto with = [](auto change) {
    OtpEngine::Options o;
    change(o);
    return OtpEngine::CheckLimits(o);
  };
  EXPECT_THAT(with([](auto& o) { o.code_lifetime = absl::Seconds(5); }).message(),
              HasSubstr("lifetime"));
  EXPECT_THAT(with([](auto& o) { o.code_lifetime = absl::Minutes(16); }).message(),
              HasSubstr("lifetime"));
  EXPECT_THAT(with([](auto& o) { o.max_wrong_attempts = 0; }).message(),
              HasSubstr("wrong attempt"));
  EXPECT_THAT(with([](auto& o) { o.max_wrong_attempts = 11; }).message(),
              HasSubstr("wrong attempt"));
  EXPECT_THAT(with([](auto& o) { o.lockout = absl::Nanoseconds(1); }).message(),
              HasSubstr("lockout"));
  EXPECT_THAT(with([](auto& o) { o.resend_interval = absl::Minutes(6); }).message(),
              HasSubstr("resend"));
  EXPECT_THAT(with([](auto& o) { o.daily_cap_per_account = 0; }).message(),
              HasSubstr("daily caps"));
  EXPECT_THAT(with([](auto& o) { o.daily_cap_per_phone = 1000; }).message(),
              HasSubstr("daily caps"));
  options_.code_lifetime = absl::Seconds(1);
  auto engine = OtpEngine::Create(options_, *recorder_, *queue_, clock_, random_,
                                  [](const std::string&) -> absl::StatusOr<v1::AccountState> {
                                    return v1::ACCOUNT_STATE_APPROVED;
                                  });
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
}

// Loses the first race of a code's batch, as a concurrent send would.
class LosesTheFirstCodeRace : public storage::ForwardingKvStore {
 public:
  using ForwardingKvStore::ForwardingKvStore;
  absl::StatusOr<v1::BatchResponse> Batch(const v1::BatchRequest& r) override {
    if (!lost_ && r.mutations_size() > 0 &&
        r.mutations(0).key().find("|otp|") != std::string::npos) {
      lost_ = true;
      return absl::AbortedError("version mismatch (injected)");
    }
    return store_.Batch(r);
  }

 private:
  bool lost_ = false;
};

// A send retried after a lost race counts its phone once.
TEST_F(OtpEngineTest, ASendRetriedAfterALostRaceCountsItsPhoneOnce) {
  options_.daily_cap_per_phone = 2;
  LosesTheFirstCodeRace racing(*kv_);
  SmsQueue queue(SmsQueue::Options(), racing, sender_, clock_, random_, metrics_);
  auto engine = OtpEngine::Create(options_, racing, queue, clock_, random_,
                                  [](const std::string&) -> absl::StatusOr<v1::AccountState> {
                                    return v1::ACCOUNT_STATE_APPROVED;
                                  });
  ASSERT_TRUE(engine.ok()) << engine.status();
  v1::SendOtpRequest r;
  r.set_request_id("raced");
  r.set_account_id("acc1");
  r.set_phone(kPhone);
  r.set_purpose(v1::OTP_PURPOSE_ACTIVATION);
  ASSERT_TRUE((*engine)->SendOtp(r).ok());
  // The phone's second code of the day is still allowed; its third is not.
  EXPECT_TRUE(TrySend("acc2").ok());
  EXPECT_EQ(ReasonOf(TrySend("acc3").status()), "OTP_DAILY_CAP");
}

TEST_F(OtpEngineTest, NoCodeForALockedOrRevokedAccount) {
  SetState("locked", v1::ACCOUNT_STATE_LOCKED);
  SetState("revoked", v1::ACCOUNT_STATE_REVOKED);
  SetState("missing", v1::ACCOUNT_STATE_UNSPECIFIED);
  absl::Status s = TrySend("locked").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(s), "ACCOUNT_LOCKED");
  s = TrySend("revoked").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(s), "ACCOUNT_REVOKED");
  EXPECT_EQ(ReasonOf(TrySend("missing").status()), "ACCOUNT_NOT_FOUND");
  ASSERT_TRUE(queue_->RunOnce().ok());
  EXPECT_EQ(sender_.calls(), 0);
  SetState("activated", v1::ACCOUNT_STATE_ACTIVATED);
  EXPECT_TRUE(TrySend("activated", v1::OTP_PURPOSE_RECOVERY).ok());
}

TEST_F(OtpEngineTest, MalformedRequestsNameTheField) {
  struct Case {
    std::string request_id, account, phone;
    v1::OtpPurpose purpose;
    std::string reason, field;
  };
  for (const Case& c : std::vector<Case>{
           {"", "acc1", kPhone, v1::OTP_PURPOSE_ACTIVATION, "FIELD_REQUIRED",
            "request_id"},
           {"r", "", kPhone, v1::OTP_PURPOSE_ACTIVATION, "FIELD_REQUIRED",
            "account_id"},
           {"r", "a|b", kPhone, v1::OTP_PURPOSE_ACTIVATION, "FIELD_INVALID",
            "account_id"},
           {"r", "acc1", "", v1::OTP_PURPOSE_ACTIVATION, "FIELD_REQUIRED",
            "phone"},
           {"r", "acc1", "12345", v1::OTP_PURPOSE_ACTIVATION, "PHONE_INVALID",
            "phone"},
           {"r", "acc1", kPhone, v1::OTP_PURPOSE_UNSPECIFIED, "FIELD_REQUIRED",
            "purpose"},
           {"r", "acc1", kPhone, static_cast<v1::OtpPurpose>(9),
            "FIELD_INVALID", "purpose"},
       }) {
    v1::SendOtpRequest r;
    r.set_request_id(c.request_id);
    r.set_account_id(c.account);
    r.set_phone(c.phone);
    r.set_purpose(c.purpose);
    const absl::Status s = Engine().SendOtp(r).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(ReasonOf(s), c.reason) << c.field;
    EXPECT_EQ(MetadataOf(s, "field"), c.field);
  }
}

TEST_F(OtpEngineTest, ACodeThatIsNotSixDigitsIsInvalidAndCostsNoAttempt) {
  const v1::SendOtpResponse sent = Send("acc1");
  for (const char* bad : {"12345", "1234567", "12345a", "１２３４５６"}) {
    const absl::Status s = Check(sent.otp_id(), bad).status();
    EXPECT_EQ(ReasonOf(s), "FIELD_INVALID") << bad;
    EXPECT_EQ(MetadataOf(s, "field"), "code");
  }
  EXPECT_EQ(ReasonOf(Check(sent.otp_id(), "").status()), "FIELD_REQUIRED");
  EXPECT_EQ(ReasonOf(Check("", "123456").status()), "FIELD_REQUIRED");
  const std::string code = CodeOf(sent);
  EXPECT_EQ(MetadataOf(Check(sent.otp_id(), Wrong(code)).status(),
                       "remaining_attempts"),
            "4");
}

TEST_F(OtpEngineTest, UnknownOrForgedIdsAreNotFound) {
  const v1::SendOtpResponse sent = Send("acc1");
  for (const std::string& id :
       {std::string("nonsense"),
        FormatOtpId({"acc2", 1, 1, "0123456789abcdef"}),
        FormatOtpId({"acc1", 1, 1, "0123456789abcdef"}),
        FormatOtpId({"acc1", 1, 5, "0123456789abcdef"})}) {
    const absl::Status s = Check(id, "123456").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << id;
    EXPECT_EQ(ReasonOf(s), "OTP_NOT_FOUND") << id;
  }
}

TEST_F(OtpEngineTest, TheApprovalNoticeIsQueuedOncePerRequestId) {
  v1::SendNoticeRequest r;
  r.set_request_id("n-1");
  r.set_account_id("acc1");
  r.set_phone("0912345678");
  r.set_kind(v1::NOTICE_KIND_REGISTRATION_APPROVED);
  r.set_full_name("Nguyễn Văn A");
  absl::StatusOr<v1::SendNoticeResponse> first = Engine().SendNotice(r);
  ASSERT_TRUE(first.ok()) << first.status();
  bool replayed = false;
  absl::StatusOr<v1::SendNoticeResponse> again =
      Engine().SendNotice(r, &replayed);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(replayed);
  EXPECT_EQ(again->message_id(), first->message_id());
  ASSERT_TRUE(queue_->RunOnce().ok());
  ASSERT_EQ(sender_.sent().size(), 1u);
  EXPECT_EQ(sender_.sent()[0].text,
            "Cuc Canh sat QLHC ve TTXH thong bao: Ho so dang ky tai khoan dinh "
            "danh dien "
            "tu cua cong dan NGUYEN VAN A da duoc phe duyet. De nghi truy cap "
            "ung dung "
            "VNeID hoac dia chi http://vneid.gov.vn de kich hoat tai khoan");
  // Once sent, a retry still sends nothing.
  ASSERT_TRUE(Engine().SendNotice(r).ok());
  ASSERT_TRUE(queue_->RunOnce().ok());
  EXPECT_EQ(sender_.calls(), 1);

  r.set_full_name("Nguyễn Văn B");
  EXPECT_EQ(ReasonOf(Engine().SendNotice(r).status()), "REQUEST_ID_CONFLICT");
  r.set_request_id("n-2");
  r.set_full_name("N0");
  EXPECT_EQ(ReasonOf(Engine().SendNotice(r).status()), "FULL_NAME_INVALID");
  r.set_full_name("A");
  r.set_phone("123");
  EXPECT_EQ(ReasonOf(Engine().SendNotice(r).status()), "PHONE_INVALID");
}

TEST_F(OtpEngineTest, NoticesAreRateLimitedPerAccount) {
  options_.daily_notice_cap_per_account = 2;
  v1::SendNoticeRequest r;
  r.set_account_id("acc1");
  r.set_phone("0912345678");
  r.set_kind(v1::NOTICE_KIND_ACCOUNT_LOCKED);
  for (int i = 0; i < 2; ++i) {
    r.set_request_id("n" + std::to_string(i));
    ASSERT_TRUE(Engine().SendNotice(r).ok());
  }
  r.set_request_id("n9");
  const absl::Status s = Engine().SendNotice(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(s), "RATE_LIMITED");
}

TEST_F(OtpEngineTest, AMissingPepperFailsClearly) {
  options_.pepper_file = "/nonexistent/pepper";
  auto engine = OtpEngine::Create(
      options_, *kv_, *queue_, clock_, random_,
      [](const std::string&) { return v1::ACCOUNT_STATE_APPROVED; });
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eid::otp
