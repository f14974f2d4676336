// The QR verification path over gRPC against a running eidd (all roles in
// one process, a fake clock): a citizen issues a token, rendered as PNG and
// read back with zbarimg; an official verifies it — and every verdict the
// issue lists: REPLAYED, EXPIRED, FORGED/MALFORMED, REVOKED, UNKNOWN_KEY,
// a level-1 verifier refused, and one GENUINE among a thousand concurrent
// verifications of one token.
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "eid/v1/audit.grpc.pb.h"
#include "eid/v1/qr.grpc.pb.h"
#include "eid/v1/verification.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/activation/test_device.h"
#include "services/common/clock.h"
#include "services/common/internal_auth.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/eidd/eidd.h"
#include "tests/util/http_get.h"
#include "tests/util/subprocess.h"
#include "tests/verification/citizen_driver.h"

namespace eid {
namespace {

using activation::TestDevice;
using testing::Citizen;
using testing::CitizenDriver;

constexpr char kIssueQr[] = "/eid.v1.QrService/IssueQr";
constexpr char kVerifyQr[] = "/eid.v1.VerificationService/VerifyQr";

class VerificationFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/verify-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Eidd::Options options;
    options.grpc_address = "127.0.0.1:0";
    options.metrics_address = "127.0.0.1:0";
    options.data_dir = dir_;
    options.generate_dev_keys = true;
    options.clock = &clock_;
    options.shutdown_grace = absl::Seconds(1);
    auto eidd = Eidd::Start(options);
    ASSERT_TRUE(eidd.ok()) << eidd.status();
    eidd_ = std::move(*eidd);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", eidd_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    qr_ = v1::QrService::NewStub(channel_);
    verification_ = v1::VerificationService::NewStub(channel_);
    internal_ = std::make_unique<InternalAuth>(
        *ReadSecretFile(dir_ + "/keys/internal_token"));
    driver_ = std::make_unique<CitizenDriver>(channel_, *internal_, clock_,
                                              dir_ + "/sms-outbox.jsonl");

    // A citizen with QR verification on, and a verifying official.
    citizen_session_ = driver_->Activate(Citizen("001090012345", "0912345678"), 2,
                                         citizen_phone_, &citizen_id_);
    ASSERT_FALSE(citizen_session_.empty());
    ASSERT_TRUE(driver_->EnableQrVerification(citizen_session_, citizen_phone_).ok());
    officer_session_ =
        driver_->Activate(Citizen("001090054321", "0987654321", "Trần Thị Bình"), 2,
                          officer_phone_, &officer_id_);
    ASSERT_FALSE(officer_session_.empty());
    ASSERT_TRUE(driver_->GrantVerifierRole(officer_id_).ok());
    // A freshly started shard fences tokens the previous process could have
    // seen (storage.md): let that window pass.
    clock_.Advance(absl::Seconds(10));
  }
  void TearDown() override { eidd_.reset(); }

  absl::StatusOr<v1::IssueQrResponse> Issue(v1::QrRender render = v1::QR_RENDER_UNSPECIFIED) {
    v1::IssueQrRequest r;
    r.set_render(render);
    r.set_scale(4);
    *r.mutable_credentials() =
        CitizenDriver::Signed(citizen_session_, citizen_phone_, kIssueQr, r);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::IssueQrResponse out;
    absl::Status s = FromGrpcStatus(qr_->IssueQr(&context, r, &out));
    if (!s.ok()) return s;
    return out;
  }

  v1::VerifyQrRequest VerifyRequest(const std::string& token, const std::string& session,
                                    const TestDevice& device) {
    v1::VerifyQrRequest r;
    r.set_token(token);
    *r.mutable_credentials() = CitizenDriver::Signed(session, device, kVerifyQr, r);
    return r;
  }

  absl::StatusOr<v1::VerifyQrResponse> Verify(const v1::VerifyQrRequest& r) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::VerifyQrResponse out;
    absl::Status s = FromGrpcStatus(verification_->VerifyQr(&context, r, &out));
    if (!s.ok()) return s;
    return out;
  }

  v1::Verdict VerdictOf(const std::string& token) {
    absl::StatusOr<v1::VerifyQrResponse> v =
        Verify(VerifyRequest(token, officer_session_, officer_phone_));
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->verdict() : v1::VERDICT_UNSPECIFIED;
  }

  FakeClock clock_{absl::FromUnixSeconds(1772355600)};
  std::string dir_;
  std::unique_ptr<Eidd> eidd_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::QrService::Stub> qr_;
  std::unique_ptr<v1::VerificationService::Stub> verification_;
  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<CitizenDriver> driver_;
  TestDevice citizen_phone_{"citizen-phone"};
  TestDevice officer_phone_{"officer-phone"};
  std::string citizen_id_, citizen_session_, officer_id_, officer_session_;
};

TEST_F(VerificationFlowTest, PngDecodedByZbarimgVerifiesGenuineThenReplayed) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue(v1::QR_RENDER_PNG);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->image_media_type(), "image/png");
  EXPECT_GE(issued->qr_version(), 1);
  EXPECT_LE(issued->qr_version(), 10);
  EXPECT_EQ(issued->expires_at().seconds() - issued->issued_at().seconds(), 60);
  // The token never carries the ID number.
  EXPECT_EQ(issued->token().find("001090012345"), std::string::npos);

  const std::string png = dir_ + "/qr.png";
  {
    std::ofstream out(png, std::ios::binary);
    out.write(issued->image().data(), issued->image().size());
    ASSERT_TRUE(out.good());
  }
  std::string output;
  absl::StatusOr<int> code = testing::Run(
      {"/usr/bin/zbarimg", "--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", png},
      &output, absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  ASSERT_EQ(*code, 0) << output;
  const std::string scanned(absl::StripSuffix(output, "\n"));
  ASSERT_EQ(scanned, issued->token());

  absl::StatusOr<v1::VerifyQrResponse> first =
      Verify(VerifyRequest(scanned, officer_session_, officer_phone_));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->verdict(), v1::VERDICT_GENUINE);
  EXPECT_EQ(first->identity().full_name(), "Nguyễn Văn An");
  EXPECT_EQ(first->identity().masked_id_number(), "001******345");
  EXPECT_EQ(first->identity().date_of_birth().year(), 1990);
  EXPECT_EQ(first->identity().sex(), v1::SEX_MALE);
  EXPECT_EQ(first->identity().level(), v1::ACCOUNT_LEVEL_2);
  EXPECT_EQ(first->identity().photo_reference(), "photo-012345");
  EXPECT_FALSE(first->verification_id().empty());
  EXPECT_EQ(first->token_issued_at().seconds(), issued->issued_at().seconds());

  EXPECT_EQ(VerdictOf(scanned), v1::VERDICT_REPLAYED);

  // Both verdicts and the issue are in the audit log, under the citizen as
  // subject and the official as actor. Events travel through each service's
  // spool: wait (in real time) for them to arrive.
  auto audit = v1::AuditService::NewStub(channel_);
  std::multiset<std::string> seen;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    v1::QueryRequest query;
    query.mutable_filter()->set_subject_id_number("001090012345");
    grpc::ClientContext context;
    internal_->Attach(context);
    v1::QueryResponse found;
    ASSERT_TRUE(audit->Query(&context, query, &found).ok());
    seen.clear();
    for (const v1::AuditRecord& r : found.records()) {
      const v1::AuditEvent& e = r.event();
      if (e.action() == "qr.issued") seen.insert("qr.issued");
      if (e.action() == "verification.verdict" && e.actor() == "account:" + officer_id_) {
        seen.insert(e.attributes().at("verdict"));
      }
    }
    if (seen.size() >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(seen.count("qr.issued"), 1u);
  EXPECT_EQ(seen.count("VERDICT_GENUINE"), 1u);
  EXPECT_EQ(seen.count("VERDICT_REPLAYED"), 1u);

  // And counted by verdict on /metrics.
  auto metrics = testing::HttpGet(eidd_->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NE(metrics->find("eid_verification_verdicts_total{verdict=\"genuine\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->find("eid_verification_verdicts_total{verdict=\"replayed\"} 1"),
            std::string::npos);
}

TEST_F(VerificationFlowTest, SvgRenderedToo) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue(v1::QR_RENDER_SVG);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->image_media_type(), "image/svg+xml");
  EXPECT_NE(issued->image().find("<svg"), std::string::npos);
}

TEST_F(VerificationFlowTest, ExpiredSixtyOneSecondsLater) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  clock_.Advance(absl::Seconds(61));  // 60 s of life + 1 s of allowed skew.
  EXPECT_EQ(VerdictOf(issued->token()), v1::VERDICT_EXPIRED);
}

TEST_F(VerificationFlowTest, OneFlippedCharacterIsForgedOrMalformed) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  const std::string& token = issued->token();
  int forged = 0, malformed = 0;
  for (size_t i = 5; i < token.size(); i += 7) {
    std::string altered = token;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    const v1::Verdict v = VerdictOf(altered);
    EXPECT_TRUE(v == v1::VERDICT_FORGED || v == v1::VERDICT_MALFORMED ||
                v == v1::VERDICT_UNKNOWN_KEY)
        << i << ": " << v1::Verdict_Name(v);
    forged += v == v1::VERDICT_FORGED;
    malformed += v == v1::VERDICT_MALFORMED;
  }
  EXPECT_GT(forged, 0);
  // The untouched token is still good: nothing was recorded for the fakes.
  EXPECT_EQ(VerdictOf(token), v1::VERDICT_GENUINE);
}

TEST_F(VerificationFlowTest, RevokedAccountIsRevoked) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  ASSERT_TRUE(driver_->Revoke(citizen_id_).ok());
  EXPECT_EQ(VerdictOf(issued->token()), v1::VERDICT_REVOKED);
}

TEST_F(VerificationFlowTest, LevelOneVerifierIsDenied) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  TestDevice phone("l1-phone");
  std::string l1_id;
  const std::string l1_session =
      driver_->Activate(Citizen("001090077777", "0912000222", "Lê Văn Cường"), 1, phone,
                        &l1_id);
  ASSERT_FALSE(l1_session.empty());
  driver_->GrantVerifierRole(l1_id).IgnoreError();  // Granted or not: level 1.
  absl::StatusOr<v1::VerifyQrResponse> v =
      Verify(VerifyRequest(issued->token(), l1_session, phone));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kPermissionDenied) << v.status();
  EXPECT_EQ(ReasonOf(v.status()), "VERIFIER_NOT_LEVEL_2");
  // A level-2 account without the role is denied too.
  v = Verify(VerifyRequest(issued->token(), citizen_session_, citizen_phone_));
  EXPECT_EQ(ReasonOf(v.status()), "ROLE_REQUIRED");
  // Neither spent the token.
  EXPECT_EQ(VerdictOf(issued->token()), v1::VERDICT_GENUINE);
}

TEST_F(VerificationFlowTest, UnsignedOrForeignSignedRequestsAreUnauthenticated) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  v1::VerifyQrRequest unsigned_request;
  unsigned_request.set_token(issued->token());
  unsigned_request.mutable_credentials()->set_session_token(officer_session_);
  EXPECT_EQ(ReasonOf(Verify(unsigned_request).status()), "DEVICE_SIGNATURE_INVALID");
  // Signed over another token: the signature does not cover this request.
  v1::VerifyQrRequest other = VerifyRequest("EID1:OTHER", officer_session_, officer_phone_);
  other.set_token(issued->token());
  EXPECT_EQ(ReasonOf(Verify(other).status()), "DEVICE_SIGNATURE_INVALID");
  v1::VerifyQrRequest empty = VerifyRequest("", officer_session_, officer_phone_);
  EXPECT_EQ(ReasonOf(Verify(empty).status()), "FIELD_REQUIRED");
  EXPECT_EQ(VerdictOf(issued->token()), v1::VERDICT_GENUINE);
}

TEST_F(VerificationFlowTest, KeyRotatedOutPastItsOverlapIsUnknown) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  // Keys sign for a day and stay valid 10 min after: a day and a bit later
  // the token's key is gone from the published list.
  clock_.Advance(absl::Hours(25));
  grpc::ClientContext context;
  v1::GetVerificationKeysResponse keys;
  ASSERT_TRUE(qr_->GetVerificationKeys(&context, {}, &keys).ok());
  for (const v1::VerificationKey& k : keys.keys()) EXPECT_NE(k.key_id(), issued->key_id());
  officer_session_ = driver_->LogIn(officer_id_, officer_phone_);
  EXPECT_EQ(VerdictOf(issued->token()), v1::VERDICT_UNKNOWN_KEY);
}

TEST_F(VerificationFlowTest, ThousandConcurrentVerificationsOfOneTokenOneGenuine) {
  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  const v1::VerifyQrRequest request =
      VerifyRequest(issued->token(), officer_session_, officer_phone_);
  constexpr int kThreads = 50, kPerThread = 20;
  std::mutex mu;
  std::map<std::string, int> verdicts;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<v1::VerifyQrResponse> v = Verify(request);
        std::lock_guard<std::mutex> lock(mu);
        ++verdicts[v.ok() ? v1::Verdict_Name(v->verdict()) : v.status().ToString()];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(verdicts["VERDICT_GENUINE"], 1);
  EXPECT_EQ(verdicts["VERDICT_REPLAYED"], kThreads * kPerThread - 1);
}

TEST_F(VerificationFlowTest, IssueRefusedWithoutQrVerificationOrSignature) {
  v1::IssueQrRequest r;
  r.mutable_credentials()->set_session_token(citizen_session_);
  grpc::ClientContext context;
  v1::IssueQrResponse out;
  EXPECT_EQ(ReasonOf(FromGrpcStatus(qr_->IssueQr(&context, r, &out))),
            "DEVICE_SIGNATURE_INVALID");
  // The official never turned QR verification on.
  v1::IssueQrRequest officer;
  *officer.mutable_credentials() =
      CitizenDriver::Signed(officer_session_, officer_phone_, kIssueQr, officer);
  grpc::ClientContext context2;
  EXPECT_EQ(ReasonOf(FromGrpcStatus(qr_->IssueQr(&context2, officer, &out))),
            "QR_VERIFICATION_DISABLED");
  v1::IssueQrRequest bad_scale;
  bad_scale.set_render(v1::QR_RENDER_PNG);
  bad_scale.set_scale(99);
  *bad_scale.mutable_credentials() =
      CitizenDriver::Signed(citizen_session_, citizen_phone_, kIssueQr, bad_scale);
  grpc::ClientContext context3;
  EXPECT_EQ(ReasonOf(FromGrpcStatus(qr_->IssueQr(&context3, bad_scale, &out))),
            "FIELD_INVALID");
}


TEST_F(VerificationFlowTest, CitizenSharesDocumentsOnlyWithThatVerifierForAFewMinutes) {
  // An agency backend puts a driving licence and a health-insurance card.
  auto integrate = [&](v1::DocumentKind kind, const std::string& number) {
    v1::IntegrateDocumentRequest r;
    r.set_request_id("doc-" + number);
    r.set_id_number("001090012345");
    v1::WalletDocument& d = *r.mutable_document();
    d.set_kind(kind);
    d.set_number(number);
    d.set_title("Giấy phép lái xe hạng B2");
    d.mutable_issuer()->set_kind(v1::ORG_UNIT_KIND_AGENCY);
    d.mutable_issuer()->set_code("CSGT-HN");
    d.set_payload("{\"class\":\"B2\"}");
    d.set_payload_media_type("application/json");
    grpc::ClientContext context;
    internal_->Attach(context);
    v1::IntegrateDocumentResponse out;
    absl::Status s = FromGrpcStatus(verification_->IntegrateDocument(&context, r, &out));
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  const v1::IntegrateDocumentResponse licence =
      integrate(v1::DOCUMENT_KIND_DRIVING_LICENCE, "790123456789");
  EXPECT_TRUE(licence.created());
  // A retry (same request_id) gets the first answer; an update under a new
  // request_id replaces the document in place.
  EXPECT_TRUE(integrate(v1::DOCUMENT_KIND_DRIVING_LICENCE, "790123456789").created());
  {
    v1::IntegrateDocumentRequest r;
    r.set_request_id("update-1");
    r.set_id_number("001090012345");
    v1::WalletDocument& d = *r.mutable_document();
    d.set_kind(v1::DOCUMENT_KIND_DRIVING_LICENCE);
    d.set_number("790123456789");
    d.set_title("Giấy phép lái xe hạng B2");
    d.mutable_issuer()->set_kind(v1::ORG_UNIT_KIND_AGENCY);
    d.mutable_issuer()->set_code("CSGT-HN");
    d.set_payload("{\"class\":\"B2\"}");
    grpc::ClientContext context;
    internal_->Attach(context);
    v1::IntegrateDocumentResponse out;
    ASSERT_TRUE(verification_->IntegrateDocument(&context, r, &out).ok());
    EXPECT_FALSE(out.created());
    EXPECT_EQ(out.document_id(), licence.document_id());
    d.set_number("790000000000");  // Another document under the same id.
    grpc::ClientContext context2;
    internal_->Attach(context2);
    EXPECT_EQ(ReasonOf(FromGrpcStatus(verification_->IntegrateDocument(&context2, r, &out))),
              "REQUEST_ID_CONFLICT");
  }
  integrate(v1::DOCUMENT_KIND_HEALTH_INSURANCE_CARD, "HS4010123456789");
  {  // Not from an end user.
    v1::IntegrateDocumentRequest r;
    grpc::ClientContext context;
    v1::IntegrateDocumentResponse out;
    EXPECT_EQ(ReasonOf(FromGrpcStatus(verification_->IntegrateDocument(&context, r, &out))),
              "INTERNAL_CALLER_ONLY");
  }

  absl::StatusOr<v1::IssueQrResponse> issued = Issue();
  ASSERT_TRUE(issued.ok()) << issued.status();
  absl::StatusOr<v1::VerifyQrResponse> verified =
      Verify(VerifyRequest(issued->token(), officer_session_, officer_phone_));
  ASSERT_TRUE(verified.ok()) << verified.status();
  ASSERT_EQ(verified->verdict(), v1::VERDICT_GENUINE);

  {  // The citizen sees the verification, by whom.
    v1::ListShareableVerificationsRequest r;
    r.mutable_credentials()->set_session_token(citizen_session_);
    grpc::ClientContext context;
    v1::ListShareableVerificationsResponse out;
    ASSERT_TRUE(verification_->ListShareableVerifications(&context, r, &out).ok());
    ASSERT_EQ(out.verifications_size(), 1);
    EXPECT_EQ(out.verifications(0).verification_id(), verified->verification_id());
    EXPECT_EQ(out.verifications(0).verifier().full_name(), "Trần Thị Bình");
  }
  {  // And shares the licence only.
    v1::ShareDocumentsRequest r;
    r.set_verification_id(verified->verification_id());
    r.add_kinds(v1::DOCUMENT_KIND_DRIVING_LICENCE);
    *r.mutable_credentials() = CitizenDriver::Signed(
        citizen_session_, citizen_phone_, "/eid.v1.VerificationService/ShareDocuments", r);
    grpc::ClientContext context;
    v1::ShareDocumentsResponse out;
    absl::Status s = FromGrpcStatus(verification_->ShareDocuments(&context, r, &out));
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(out.shared_document_ids_size(), 1);
    EXPECT_EQ(out.shared_document_ids(0), licence.document_id());
  }
  auto fetch = [&](const std::string& session, const TestDevice& device,
                   v1::FetchSharedDocumentsResponse* out) {
    v1::FetchSharedDocumentsRequest r;
    r.set_verification_id(verified->verification_id());
    *r.mutable_credentials() = CitizenDriver::Signed(
        session, device, "/eid.v1.VerificationService/FetchSharedDocuments", r);
    grpc::ClientContext context;
    return FromGrpcStatus(verification_->FetchSharedDocuments(&context, r, out));
  };
  v1::FetchSharedDocumentsResponse fetched;
  absl::Status s = fetch(officer_session_, officer_phone_, &fetched);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(fetched.documents_size(), 1);
  EXPECT_EQ(fetched.documents(0).number(), "790123456789");
  EXPECT_EQ(fetched.documents(0).payload(), "{\"class\":\"B2\"}");

  // Another official with the verifier role cannot.
  TestDevice other_phone("other-officer-phone");
  std::string other_id;
  const std::string other_session = driver_->Activate(
      Citizen("001090066666", "0912000333", "Phạm Văn Dũng"), 2, other_phone, &other_id);
  ASSERT_TRUE(driver_->GrantVerifierRole(other_id).ok());
  EXPECT_EQ(ReasonOf(fetch(other_session, other_phone, &fetched)), "VERIFICATION_NOT_FOUND");

  // The citizen's wallet: both documents, payloads only when asked.
  auto list = [&](bool payload) {
    v1::ListMyDocumentsRequest r;
    r.set_include_payload(payload);
    *r.mutable_credentials() = CitizenDriver::Signed(
        citizen_session_, citizen_phone_, "/eid.v1.VerificationService/ListMyDocuments", r);
    grpc::ClientContext context;
    v1::ListMyDocumentsResponse out;
    absl::Status s = FromGrpcStatus(verification_->ListMyDocuments(&context, r, &out));
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  v1::ListMyDocumentsResponse mine = list(false);
  ASSERT_EQ(mine.documents_size(), 2);
  EXPECT_EQ(mine.documents(0).kind(), v1::DOCUMENT_KIND_DRIVING_LICENCE);
  EXPECT_TRUE(mine.documents(0).payload().empty());
  EXPECT_FALSE(list(true).documents(0).payload().empty());
  // The agency withdraws the licence (twice: a retry succeeds too).
  for (int i = 0; i < 2; ++i) {
    v1::WithdrawDocumentRequest r;
    r.set_document_id(licence.document_id());
    r.set_note("licence revoked by the court");
    grpc::ClientContext context;
    internal_->Attach(context);
    v1::WithdrawDocumentResponse out;
    absl::Status w = FromGrpcStatus(verification_->WithdrawDocument(&context, r, &out));
    EXPECT_TRUE(w.ok()) << w;
  }
  EXPECT_EQ(list(false).documents_size(), 1);
  s = fetch(officer_session_, officer_phone_, &fetched);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(fetched.documents_size(), 0);  // Withdrawn: no longer shown.

  // A few minutes later, not even the verifier.
  clock_.Advance(absl::Minutes(6));
  officer_session_ = driver_->LogIn(officer_id_, officer_phone_);
  s = fetch(officer_session_, officer_phone_, &fetched);
  EXPECT_TRUE(ReasonOf(s) == "SHARE_EXPIRED" || ReasonOf(s) == "VERIFICATION_NOT_FOUND") << s;
}

}  // namespace
}  // namespace eid
