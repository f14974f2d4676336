// Verifier with fakes behind its interfaces (sessions, replay guard,
// accounts, audit) and a real key ring and RocksDB store: the check order,
// each verdict, its audit event and its metric.
#include "services/verification/verifier.h"

#include <set>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/qr/qr_key_ring.h"
#include "services/qr/token_device.h"
#include "storage/shard/rocksdb_kv_store.h"

namespace eid::verification {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1772355600);

class FakeSessions : public activation::SessionChecker {
 public:
  absl::StatusOr<v1::AuthenticateSessionResponse> Check(
      const v1::Credentials& credentials, absl::string_view,
      const google::protobuf::Message*) override {
    if (credentials.session_token() != "officer") {
      return Unauthenticated(v1::SESSION_INVALID, "no such session");
    }
    return caller;
  }
  v1::AuthenticateSessionResponse caller;
};

class FakeReplay : public storage::ReplayGuard {
 public:
  absl::StatusOr<storage::ReplayVerdict> CheckAndRecord(absl::string_view nonce,
                                                        absl::Time) override {
    absl::MutexLock lock(&mu_);
    ++calls;
    if (!up) return Unavailable(v1::SHARD_UNAVAILABLE, "shard down");
    if (fenced) return storage::ReplayVerdict::kFenced;
    return seen_.insert(std::string(nonce)).second ? storage::ReplayVerdict::kFirst
                                                    : storage::ReplayVerdict::kReplayed;
  }
  absl::StatusOr<std::vector<storage::ReplayVerdict>> CheckAndRecordBatch(
      absl::Span<const storage::ReplayCheck>) override {
    return absl::UnimplementedError("not used");
  }
  int calls = 0;
  bool up = true;
  bool fenced = false;

 private:
  absl::Mutex mu_;
  std::set<std::string> seen_;
};

class FakeAudit : public audit::AuditSink {
 public:
  absl::Status Record(v1::AuditEvent event) override {
    events.push_back(std::move(event));
    return absl::OkStatus();
  }
  std::vector<v1::AuditEvent> events;
};

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ring_ = *qr::QrKeyRing::Create(std::string(32, 'k'), {});
    storage::RocksDbKvStore::Options kv_options;
    kv_options.path = ::testing::TempDir() + "/verifier-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name();
    kv_ = *storage::RocksDbKvStore::Open(kv_options, clock_);
    store_ = std::make_unique<VerificationStore>(*kv_);
    keys_ = std::make_unique<VerificationKeyCache>(
        [this]() -> absl::StatusOr<v1::GetVerificationKeysResponse> {
          v1::GetVerificationKeysResponse r;
          for (const auto& k : ring_->PublishedAt(clock_.Now())) {
            v1::VerificationKey& key = *r.add_keys();
            key.set_key_id(k.key_id);
            key.set_public_key(k.public_key);
            *key.mutable_not_after() = ToProtoTime(k.not_after);
          }
          *r.mutable_refresh_after() = ToProtoTime(ring_->NextChangeAfter(clock_.Now()));
          return r;
        });
    v1::Account& officer = *sessions_.caller.mutable_account();
    officer.set_account_id("aofficer");
    officer.set_level(v1::ACCOUNT_LEVEL_2);
    officer.set_full_name("Trần Thị Bình");
    officer.add_roles()->set_role(v1::ROLE_VERIFIER);
    v1::Account& a = *citizen_.mutable_account();
    a.set_account_id("acitizen");
    a.set_level(v1::ACCOUNT_LEVEL_2);
    a.set_state(v1::ACCOUNT_STATE_ACTIVATED);
    a.set_full_name("Nguyễn Văn An");
    a.set_masked_id_number("001******345");
    a.mutable_device()->set_device_id("phone-1");
    citizen_.set_id_number("001090012345");
    verifier_ = std::make_unique<Verifier>(
        sessions_, *keys_, replay_,
        [this](const std::string& id) -> absl::StatusOr<internal::AccountRecord> {
          if (id != citizen_.account().account_id()) {
            return NotFound(v1::ACCOUNT_NOT_FOUND, "no such account");
          }
          return citizen_;
        },
        *store_, audit_, clock_, random_, std::string(32, 's'), registry_,
        VerifierOptions());
  }

  std::string Token(absl::Time issued_at, const std::string& device = "phone-1") {
    qr::QrTokenClaims claims;
    claims.account_handle = "acitizen";
    claims.device_id = qr::TokenDeviceOf(device);
    claims.nonce = random_.Bytes(qr::kNonceBytes);
    claims.issued_at = issued_at;
    claims.expires_at = issued_at + qr::kTokenLifetime;
    return *qr::Encode(claims, **ring_->SigningKeyAt(issued_at));
  }

  absl::StatusOr<v1::VerifyQrResponse> Verify(const std::string& token) {
    v1::VerifyQrRequest r;
    r.set_token(token);
    r.mutable_credentials()->set_session_token("officer");
    return verifier_->VerifyQr(r);
  }

  v1::Verdict VerdictOf(const std::string& token) {
    absl::StatusOr<v1::VerifyQrResponse> v = Verify(token);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->verdict() : v1::VERDICT_UNSPECIFIED;
  }

  double Counted(const std::string& verdict) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "eid_verification_verdicts_total") continue;
      for (const auto& m : family.metric) {
        if (m.label[0].value == verdict) return m.counter.value;
      }
    }
    return -1;
  }

  FakeClock clock_{kStart};
  DeterministicRandom random_{7};
  prometheus::Registry registry_;
  std::unique_ptr<qr::QrKeyRing> ring_;
  std::unique_ptr<storage::RocksDbKvStore> kv_;
  std::unique_ptr<VerificationStore> store_;
  std::unique_ptr<VerificationKeyCache> keys_;
  FakeSessions sessions_;
  FakeReplay replay_;
  FakeAudit audit_;
  internal::AccountRecord citizen_;
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(VerifierTest, GenuineIsAuditedWithVerifierAndSubjectAndCounted) {
  absl::StatusOr<v1::VerifyQrResponse> v = Verify(Token(kStart));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->verdict(), v1::VERDICT_GENUINE);
  EXPECT_EQ(v->identity().masked_id_number(), "001******345");
  ASSERT_EQ(audit_.events.size(), 1u);
  const v1::AuditEvent& e = audit_.events[0];
  EXPECT_EQ(e.action(), "verification.verdict");
  EXPECT_EQ(e.actor(), "account:aofficer");
  EXPECT_EQ(e.subject().size(), 32u);
  EXPECT_EQ(e.attributes().at("verdict"), "VERDICT_GENUINE");
  EXPECT_EQ(e.attributes().at("verification_id"), v->verification_id());
  // Never the ID number itself, anywhere in the event.
  EXPECT_EQ(e.DebugString().find("001090012345"), std::string::npos);
  EXPECT_EQ(Counted("genuine"), 1);
  EXPECT_EQ(Counted("replayed"), 0);
}

TEST_F(VerifierTest, NotYetValidBeyondSkewWithinSkewAccepted) {
  EXPECT_EQ(VerdictOf(Token(kStart + absl::Seconds(1))), v1::VERDICT_GENUINE);
  EXPECT_EQ(VerdictOf(Token(kStart + absl::Seconds(2))), v1::VERDICT_NOT_YET_VALID);
  EXPECT_EQ(Counted("not_yet_valid"), 1);
}

TEST_F(VerifierTest, ValidSixtySecondsExpiredAtSixtyOne) {
  const std::string a = Token(kStart), b = Token(kStart);
  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(VerdictOf(a), v1::VERDICT_GENUINE);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(VerdictOf(b), v1::VERDICT_EXPIRED);
}

TEST_F(VerifierTest, ChecksBeforeTheReplayGuardSpendNoNonce) {
  EXPECT_EQ(VerdictOf("EID1:NOT-A-TOKEN"), v1::VERDICT_MALFORMED);
  const std::string token = Token(kStart);
  clock_.Advance(absl::Seconds(66));
  EXPECT_EQ(VerdictOf(token), v1::VERDICT_EXPIRED);
  EXPECT_EQ(replay_.calls, 0);
  // The expired verdict names its subject: the signature proved whose it is.
  EXPECT_EQ(audit_.events.back().subject().size(), 32u);
  EXPECT_TRUE(audit_.events.front().subject().empty());
}

TEST_F(VerifierTest, AccountStandingVerdicts) {
  citizen_.mutable_account()->set_state(v1::ACCOUNT_STATE_LOCKED);
  EXPECT_EQ(VerdictOf(Token(kStart)), v1::VERDICT_LOCKED);
  // A lock whose time has passed counts as lifted.
  citizen_.mutable_account()->mutable_lock()->mutable_locked_until()->set_seconds(
      absl::ToUnixSeconds(kStart) - 1);
  citizen_.set_state_before_lock(v1::ACCOUNT_STATE_ACTIVATED);
  EXPECT_EQ(VerdictOf(Token(kStart)), v1::VERDICT_GENUINE);
  citizen_.mutable_account()->set_state(v1::ACCOUNT_STATE_REVOKED);
  EXPECT_EQ(VerdictOf(Token(kStart)), v1::VERDICT_REVOKED);
  citizen_.mutable_account()->set_state(v1::ACCOUNT_STATE_ACTIVATED);
  EXPECT_EQ(VerdictOf(Token(kStart, "old-phone")), v1::VERDICT_DEVICE_REPLACED);
}

TEST_F(VerifierTest, FencedIsExpiredAndCounted) {
  replay_.fenced = true;
  EXPECT_EQ(VerdictOf(Token(kStart)), v1::VERDICT_EXPIRED);
  EXPECT_EQ(audit_.events.back().attributes().at("detail"), "FENCED");
}

TEST_F(VerifierTest, UnreachableReplayGuardFailsTheCallNeverGenuine) {
  replay_.up = false;
  absl::StatusOr<v1::VerifyQrResponse> v = Verify(Token(kStart));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnavailable);
  ASSERT_EQ(audit_.events.size(), 1u);
  EXPECT_EQ(audit_.events[0].outcome(), v1::AUDIT_OUTCOME_ERROR);
}

TEST_F(VerifierTest, RetryWithTheSameRequestIdGetsTheFirstVerdict) {
  v1::VerifyQrRequest r;
  r.set_token(Token(kStart));
  r.set_request_id("scan-1");
  r.mutable_credentials()->set_session_token("officer");
  absl::StatusOr<v1::VerifyQrResponse> first = verifier_->VerifyQr(r);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->verdict(), v1::VERDICT_GENUINE);
  absl::StatusOr<v1::VerifyQrResponse> retry = verifier_->VerifyQr(r);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->verdict(), v1::VERDICT_GENUINE);
  EXPECT_EQ(retry->verification_id(), first->verification_id());
  r.set_request_id("");
  EXPECT_EQ(VerdictOf(r.token()), v1::VERDICT_REPLAYED);
  r.set_request_id("scan-1");
  r.set_token(Token(kStart));
  EXPECT_EQ(ReasonOf(verifier_->VerifyQr(r).status()), "REQUEST_ID_CONFLICT");
}

TEST_F(VerifierTest, BadInputAndBadCallerChangeNothing) {
  EXPECT_EQ(ReasonOf(Verify("").status()), "FIELD_REQUIRED");
  v1::VerifyQrRequest r;
  r.set_token(Token(kStart));
  r.mutable_credentials()->set_session_token("someone");
  EXPECT_EQ(ReasonOf(verifier_->VerifyQr(r).status()), "SESSION_INVALID");
  sessions_.caller.mutable_account()->clear_roles();
  EXPECT_EQ(ReasonOf(Verify(r.token()).status()), "ROLE_REQUIRED");
  EXPECT_EQ(replay_.calls, 0);
}

}  // namespace
}  // namespace eid::verification
