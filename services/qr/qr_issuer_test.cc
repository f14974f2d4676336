// QrIssuer with fakes for sessions and audit: what it refuses (and audits),
// what a token carries, how it renders.
#include "services/qr/qr_issuer.h"

#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/qr/token/qr_token.h"
#include "services/qr/token_device.h"

namespace eid::qr {
namespace {

class FakeSessions : public activation::SessionChecker {
 public:
  absl::StatusOr<v1::AuthenticateSessionResponse> Check(
      const v1::Credentials& credentials, absl::string_view method,
      const google::protobuf::Message* signed_request) override {
    EXPECT_EQ(method, kIssueQrMethod);
    EXPECT_NE(signed_request, nullptr);  // IssueQr must be device-signed.
    if (credentials.session_token() != "citizen") {
      return Unauthenticated(v1::SESSION_INVALID, "no such session");
    }
    return caller;
  }
  v1::AuthenticateSessionResponse caller;
};

class FakeAudit : public audit::AuditSink {
 public:
  absl::Status Record(v1::AuditEvent event) override {
    events.push_back(std::move(event));
    return absl::OkStatus();
  }
  std::vector<v1::AuditEvent> events;
};

class QrIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ring_ = *QrKeyRing::Create(std::string(32, 'k'), {});
    v1::Account& a = *sessions_.caller.mutable_account();
    a.set_account_id("a0123456789abcdef01234567");
    a.set_level(v1::ACCOUNT_LEVEL_2);
    a.set_state(v1::ACCOUNT_STATE_ACTIVATED);
    a.set_qr_verification_enabled(true);
    a.mutable_device()->set_device_id("phone-1");
    sessions_.caller.set_audit_subject(std::string(32, 's'));
    issuer_ = std::make_unique<QrIssuer>(sessions_, *ring_, audit_, clock_, random_,
                                         registry_);
  }
  absl::StatusOr<v1::IssueQrResponse> Issue(v1::QrRender render = v1::QR_RENDER_UNSPECIFIED,
                                            int scale = 0) {
    v1::IssueQrRequest r;
    r.mutable_credentials()->set_session_token("citizen");
    r.set_render(render);
    r.set_scale(scale);
    return issuer_->IssueQr(r);
  }

  FakeClock clock_{absl::FromUnixSeconds(1772355600) + absl::Milliseconds(700)};
  DeterministicRandom random_{3};
  prometheus::Registry registry_;
  std::unique_ptr<QrKeyRing> ring_;
  FakeSessions sessions_;
  FakeAudit audit_;
  std::unique_ptr<QrIssuer> issuer_;
};

TEST_F(QrIssuerTest, TokenCarriesTheHandleDeviceAndAMinuteSignedByTheCurrentKey) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  absl::StatusOr<ParsedToken> parsed = Parse(issued->token());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->claims.account_handle, "a0123456789abcdef01234567");
  EXPECT_EQ(parsed->claims.device_id, TokenDeviceOf("phone-1"));
  EXPECT_EQ(parsed->claims.issued_at, absl::FromUnixSeconds(1772355600));  // Whole seconds.
  EXPECT_EQ(parsed->claims.expires_at - parsed->claims.issued_at, absl::Seconds(60));
  auto key = ring_->SigningKeyAt(clock_.Now());
  EXPECT_EQ(parsed->key_id, (*key)->key_id());
  EXPECT_TRUE(VerifySignature(*parsed, (*key)->public_key()));
  EXPECT_TRUE(issued->image().empty());
  // Each call a new nonce.
  EXPECT_NE(Parse(Issue()->token())->claims.nonce, parsed->claims.nonce);
  ASSERT_EQ(audit_.events.size(), 2u);
  EXPECT_EQ(audit_.events[0].action(), "qr.issued");
  EXPECT_EQ(audit_.events[0].outcome(), v1::AUDIT_OUTCOME_SUCCESS);
  EXPECT_EQ(audit_.events[0].subject(), std::string(32, 's'));
}

TEST_F(QrIssuerTest, LongestDeviceIdsFitTheToken) {
  sessions_.caller.mutable_account()->mutable_device()->set_device_id(std::string(128, 'd'));
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(Parse(issued->token())->claims.device_id, TokenDeviceOf(std::string(128, 'd')));
}

TEST_F(QrIssuerTest, RendersPngAndSvg) {
  absl::StatusOr<v1::IssueQrResponse> png = Issue(v1::QR_RENDER_PNG, 2);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->image_media_type(), "image/png");
  EXPECT_EQ(png->image().substr(1, 3), "PNG");
  EXPECT_LE(png->qr_version(), 10);
  absl::StatusOr<v1::IssueQrResponse> svg = Issue(v1::QR_RENDER_SVG);
  ASSERT_TRUE(svg.ok());
  EXPECT_EQ(svg->image_media_type(), "image/svg+xml");
}

TEST_F(QrIssuerTest, RefusalsAreAuditedAndIssueNothing) {
  sessions_.caller.mutable_account()->set_level(v1::ACCOUNT_LEVEL_1);
  EXPECT_EQ(ReasonOf(Issue().status()), "ACCOUNT_NOT_LEVEL_2");
  sessions_.caller.mutable_account()->set_level(v1::ACCOUNT_LEVEL_2);
  sessions_.caller.mutable_account()->set_qr_verification_enabled(false);
  EXPECT_EQ(ReasonOf(Issue().status()), "QR_VERIFICATION_DISABLED");
  ASSERT_EQ(audit_.events.size(), 2u);
  EXPECT_EQ(audit_.events[0].outcome(), v1::AUDIT_OUTCOME_REJECTED);
  EXPECT_EQ(audit_.events[0].reason(), "ACCOUNT_NOT_LEVEL_2");
  // Bad input is refused before the session is looked at.
  EXPECT_EQ(ReasonOf(Issue(v1::QR_RENDER_PNG, 33).status()), "FIELD_INVALID");
  EXPECT_EQ(ReasonOf(Issue(static_cast<v1::QrRender>(9)).status()), "FIELD_INVALID");
  v1::IssueQrRequest stranger;
  stranger.mutable_credentials()->set_session_token("someone");
  EXPECT_EQ(ReasonOf(issuer_->IssueQr(stranger).status()), "SESSION_INVALID");
}

TEST_F(QrIssuerTest, PublishesTheCurrentKeyAndWhenToRefresh) {
  v1::GetVerificationKeysResponse keys = issuer_->GetVerificationKeys();
  ASSERT_EQ(keys.keys_size(), 1);
  EXPECT_EQ(keys.keys(0).public_key(), (*ring_->SigningKeyAt(clock_.Now()))->public_key());
  EXPECT_GT(keys.refresh_after().seconds(), absl::ToUnixSeconds(clock_.Now()));
}

}  // namespace
}  // namespace eid::qr
