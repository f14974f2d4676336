// The citizen's path over gRPC against a running eidd (all roles in one
// process, a fake clock, SMS to the outbox file): register, approve (the
// approval SMS), the five steps with the OTP read from the outbox, login —
// and every refusal the issue lists.
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "eid/v1/activation.grpc.pb.h"
#include "eid/v1/audit.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/activation/test_device.h"
#include "services/common/clock.h"
#include "services/common/internal_auth.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/eidd/eidd.h"
#include "tests/util/sms_outbox.h"

namespace eid {
namespace {

using activation::TestDevice;

constexpr char kPasscode[] = "482913";

v1::PersonalDetails Citizen(const std::string& id_number, const std::string& phone) {
  v1::PersonalDetails p;
  p.set_id_number(id_number);  // 001 Hà Nội, 0 = 1900s male, born (19)90.
  p.set_phone(phone);
  p.set_full_name("Nguyễn Văn An");
  p.mutable_date_of_birth()->set_year(1990);
  p.mutable_date_of_birth()->set_month(5);
  p.mutable_date_of_birth()->set_day(17);
  p.set_sex(v1::SEX_MALE);
  p.mutable_locality()->set_province_code("01");
  p.mutable_locality()->set_district_code("001");
  return p;
}

class ActivationFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/flow-" + std::to_string(::getpid()) + "-" +
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
    stub_ = v1::ActivationService::NewStub(channel_);
    internal_ = std::make_unique<InternalAuth>(
        *ReadSecretFile(dir_ + "/keys/internal_token"));
    outbox_ = std::make_unique<testing::SmsOutbox>(dir_ + "/sms-outbox.jsonl");
  }
  void TearDown() override { eidd_.reset(); }

  template <typename Request, typename Response, typename Call>
  absl::Status Rpc(Call call, const Request& request, Response* response,
                   bool internal = false) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (internal) internal_->Attach(context);
    return FromGrpcStatus(((*stub_).*call)(&context, request, response));
  }

  // The SMS texts the outbox holds for `phone` (the citizen's phone, in
  // development), waiting up to 10 s for `count` of them (delivery is
  // asynchronous: a queue with a sender thread).
  std::vector<std::string> Sms(const std::string& phone, size_t count) {
    // A code's SMS that raced ahead of its code's commit looks again 100 ms
    // later by the (fake) clock: let that time pass.
    return outbox_->AwaitTexts(phone, count, absl::Seconds(10),
                               [this] { clock_.Advance(absl::Milliseconds(100)); });
  }

  std::string LatestOtp(const std::string& phone, size_t count) {
    std::vector<std::string> texts = Sms(phone, count);
    return texts.size() < count ? "" : testing::CodeIn(texts.back());
  }

  std::string RegisterAndApprove(const v1::PersonalDetails& person) {
    v1::RegisterLevel2Request reg;
    reg.set_request_id(absl::StrCat("reg-", person.phone()));
    *reg.mutable_person() = person;
    reg.mutable_intake()->set_card_number(person.id_number());
    reg.mutable_intake()->mutable_intake_office()->set_kind(v1::ORG_UNIT_KIND_POLICE_OFFICE);
    reg.mutable_intake()->mutable_intake_office()->set_code("CA-HN-001");
    reg.mutable_intake()->set_officer_id("CB-0042");
    v1::RegisterLevel2Response registered;
    absl::Status s = Rpc(&v1::ActivationService::Stub::RegisterLevel2, reg, &registered, true);
    EXPECT_TRUE(s.ok()) << s;
    v1::ApproveRegistrationRequest approve;
    approve.set_account_id(registered.account().account_id());
    v1::ApproveRegistrationResponse approved;
    s = Rpc(&v1::ActivationService::Stub::ApproveRegistration, approve, &approved, true);
    EXPECT_TRUE(s.ok()) << s;
    return registered.account().account_id();
  }

  // Registers, approves and activates `person` on `phone`, then logs in:
  // the login session token.
  std::string ActivateAndLogIn(const v1::PersonalDetails& person, const TestDevice& phone,
                               std::string* account_id) {
    *account_id = RegisterAndApprove(person);
    const std::string normalised = "+84" + person.phone().substr(1);
    v1::StartActivationRequest start;
    start.set_request_id("start-" + person.phone());
    start.set_id_number(person.id_number());
    start.set_phone(person.phone());
    v1::StartActivationResponse started;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::StartActivation, start, &started).ok());
    v1::VerifyActivationOtpRequest verify;
    verify.set_activation_id(started.activation_id());
    verify.set_code(LatestOtp(normalised, 2));
    v1::VerifyActivationOtpResponse session;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::VerifyActivationOtp, verify, &session).ok());
    v1::SetPasscodeRequest passcode;
    passcode.set_activation_session_token(session.activation_session_token());
    passcode.set_passcode(kPasscode);
    v1::SetPasscodeResponse passcode_set;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::SetPasscode, passcode, &passcode_set).ok());
    v1::SetSecurityAnswersRequest answers;
    answers.set_activation_session_token(session.activation_session_token());
    for (const char* q : {"q_first_school", "q_favourite_dish", "q_home_village"}) {
      v1::SecurityAnswer& a = *answers.add_answers();
      a.set_question_id(q);
      a.set_answer("Hoa");
    }
    v1::SetSecurityAnswersResponse answered;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::SetSecurityAnswers, answers, &answered).ok());
    v1::ActivateDeviceRequest activate;
    activate.set_activation_session_token(session.activation_session_token());
    activate.set_device_id(phone.device_id());
    activate.set_public_key(phone.public_der());
    *activate.mutable_proof() =
        phone.SignRequest("/eid.v1.ActivationService/ActivateDevice", activate);
    v1::ActivateDeviceResponse activated;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::ActivateDevice, activate, &activated).ok());
    v1::CreateLoginChallengeRequest challenge_request;
    challenge_request.set_account_id(*account_id);
    challenge_request.set_device_id(phone.device_id());
    v1::CreateLoginChallengeResponse challenge;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::CreateLoginChallenge, challenge_request,
                    &challenge)
                    .ok());
    v1::LoginRequest login;
    login.set_account_id(*account_id);
    login.set_challenge_id(challenge.challenge_id());
    *login.mutable_device_signature() =
        phone.Sign("/eid.v1.ActivationService/Login", challenge.challenge());
    login.set_passcode(kPasscode);
    v1::LoginResponse logged_in;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::Login, login, &logged_in).ok());
    return logged_in.session_token();
  }

  FakeClock clock_{absl::FromUnixSeconds(1772355600)};
  std::string dir_;
  std::unique_ptr<Eidd> eidd_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ActivationService::Stub> stub_;
  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<testing::SmsOutbox> outbox_;
};

TEST_F(ActivationFlowTest, RegisterApproveActivateAndLogInOverGrpc) {
  const v1::PersonalDetails person = Citizen("001090012345", "0912345678");
  const std::string account_id = RegisterAndApprove(person);

  // The seed's approval SMS, unaccented, with the name in capitals.
  std::vector<std::string> sms = Sms("+84912345678", 1);
  ASSERT_EQ(sms.size(), 1u);
  EXPECT_NE(sms[0].find("cua cong dan NGUYEN VAN AN da duoc phe duyet"), std::string::npos)
      << sms[0];

  v1::StartActivationRequest start;
  start.set_request_id("start-1");
  start.set_id_number(person.id_number());
  start.set_phone(person.phone());
  v1::StartActivationResponse started;
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::StartActivation, start, &started).ok());
  EXPECT_EQ(started.masked_phone(), "+84******678");
  const std::string code = LatestOtp("+84912345678", 2);
  ASSERT_EQ(code.size(), 6u);

  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started.activation_id());
  verify.set_code(code);
  v1::VerifyActivationOtpResponse session;
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::VerifyActivationOtp, verify, &session).ok());

  v1::SetPasscodeRequest passcode;
  passcode.set_activation_session_token(session.activation_session_token());
  passcode.set_passcode("123456");
  v1::SetPasscodeResponse passcode_set;
  EXPECT_EQ(ReasonOf(Rpc(&v1::ActivationService::Stub::SetPasscode, passcode, &passcode_set)),
            "PASSCODE_TOO_SIMPLE");
  passcode.set_passcode(kPasscode);
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::SetPasscode, passcode, &passcode_set).ok());

  v1::ListSecurityQuestionsResponse catalogue;
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::ListSecurityQuestions,
                  v1::ListSecurityQuestionsRequest(), &catalogue)
                  .ok());
  v1::SetSecurityAnswersRequest answers;
  answers.set_activation_session_token(session.activation_session_token());
  for (int i = 0; i < catalogue.required_answers(); ++i) {
    v1::SecurityAnswer& a = *answers.add_answers();
    a.set_question_id(catalogue.questions(i).question_id());
    a.set_answer(absl::StrCat("Trả lời ", i));
  }
  v1::SetSecurityAnswersResponse answered;
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::SetSecurityAnswers, answers, &answered).ok());

  TestDevice phone("phone-1");
  v1::ActivateDeviceRequest activate;
  activate.set_activation_session_token(session.activation_session_token());
  activate.set_device_id(phone.device_id());
  activate.set_public_key(phone.public_der());
  *activate.mutable_proof() =
      phone.SignRequest("/eid.v1.ActivationService/ActivateDevice", activate);
  v1::ActivateDeviceResponse activated;
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::ActivateDevice, activate, &activated).ok());
  EXPECT_EQ(activated.account().state(), v1::ACCOUNT_STATE_ACTIVATED);
  EXPECT_EQ(activated.account().level(), v1::ACCOUNT_LEVEL_2);
  // The session is used up.
  v1::ActivateDeviceResponse again;
  EXPECT_EQ(ReasonOf(Rpc(&v1::ActivationService::Stub::ActivateDevice, activate, &again)),
            "SESSION_USED");

  v1::CreateLoginChallengeRequest challenge_request;
  challenge_request.set_account_id(account_id);
  challenge_request.set_device_id(phone.device_id());
  v1::CreateLoginChallengeResponse challenge;
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::CreateLoginChallenge, challenge_request,
                  &challenge)
                  .ok());
  v1::LoginRequest login;
  login.set_account_id(account_id);
  login.set_challenge_id(challenge.challenge_id());
  *login.mutable_device_signature() =
      phone.Sign("/eid.v1.ActivationService/Login", challenge.challenge());
  login.set_passcode(kPasscode);
  v1::LoginResponse logged_in;
  absl::Status s = Rpc(&v1::ActivationService::Stub::Login, login, &logged_in);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(logged_in.session_token().empty());

  // An activated account cannot start again.
  start.set_request_id("start-2");
  EXPECT_EQ(ReasonOf(Rpc(&v1::ActivationService::Stub::StartActivation, start, &started)),
            "ACCOUNT_ALREADY_ACTIVATED");
}

TEST_F(ActivationFlowTest, OtpRefusalsOverGrpc) {
  const v1::PersonalDetails person = Citizen("001090054321", "0912000111");
  RegisterAndApprove(person);

  v1::StartActivationRequest start;
  start.set_request_id("start-1");
  start.set_id_number(person.id_number());
  start.set_phone("0912000112");  // Not the registered phone.
  v1::StartActivationResponse started;
  EXPECT_EQ(ReasonOf(Rpc(&v1::ActivationService::Stub::StartActivation, start, &started)),
            "ACCOUNT_NOT_FOUND");
  start.set_phone(person.phone());
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::StartActivation, start, &started).ok());

  // A resend before 60 s is refused with when to retry.
  v1::ResendActivationOtpRequest resend;
  resend.set_request_id("resend-1");
  resend.set_activation_id(started.activation_id());
  v1::ResendActivationOtpResponse resent;
  absl::Status s = Rpc(&v1::ActivationService::Stub::ResendActivationOtp, resend, &resent);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(ReasonOf(s), "OTP_RESEND_TOO_SOON");

  // After five minutes the code is expired, distinctly.
  const std::string code = LatestOtp("+84912000111", 2);
  ASSERT_EQ(code.size(), 6u);
  clock_.Advance(absl::Minutes(5) + absl::Seconds(1));
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started.activation_id());
  verify.set_code(code);
  v1::VerifyActivationOtpResponse session;
  EXPECT_EQ(ReasonOf(Rpc(&v1::ActivationService::Stub::VerifyActivationOtp, verify, &session)),
            "OTP_EXPIRED");

  // A new code; wrong guesses are counted until checks lock.
  resend.set_request_id("resend-2");
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::ResendActivationOtp, resend, &resent).ok());
  const std::string fresh = LatestOtp("+84912000111", 3);
  verify.set_code(fresh == "000000" ? "000001" : "000000");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(
        ReasonOf(Rpc(&v1::ActivationService::Stub::VerifyActivationOtp, verify, &session)),
        "OTP_MISMATCH")
        << i;
  }
  // The fifth wrong code is the one that locks.
  s = Rpc(&v1::ActivationService::Stub::VerifyActivationOtp, verify, &session);
  EXPECT_EQ(ReasonOf(s), "OTP_LOCKED") << s;
  verify.set_code(fresh);
  EXPECT_EQ(ReasonOf(Rpc(&v1::ActivationService::Stub::VerifyActivationOtp, verify, &session)),
            "OTP_LOCKED");
}

TEST_F(ActivationFlowTest, NotYetApprovedCannotStart) {
  v1::RegisterLevel1Request reg;
  reg.set_request_id("reg-l1");
  *reg.mutable_person() = Citizen("001090077777", "0912000222");
  v1::RegisterLevel1Response registered;
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::RegisterLevel1, reg, &registered).ok());
  v1::StartActivationRequest start;
  start.set_request_id("start-1");
  start.set_id_number("001090077777");
  start.set_phone("0912000222");
  v1::StartActivationResponse started;
  EXPECT_EQ(ReasonOf(Rpc(&v1::ActivationService::Stub::StartActivation, start, &started)),
            "ACCOUNT_NOT_APPROVED");
  // Officials' RPCs need credentials (or the internal token).
  v1::ApproveRegistrationRequest approve;
  approve.set_account_id(registered.account().account_id());
  v1::ApproveRegistrationResponse approved;
  EXPECT_EQ(ReasonOf(Rpc(&v1::ActivationService::Stub::ApproveRegistration, approve,
                         &approved)),
            "SESSION_INVALID");
}

TEST_F(ActivationFlowTest, CitizensReadTheirOwnHistoryAndOnlyAuditorsQuery) {
  const v1::PersonalDetails person = Citizen("001090012345", "0912345678");
  TestDevice phone("phone-1");
  std::string account_id;
  const std::string session = ActivateAndLogIn(person, phone, &account_id);
  ASSERT_FALSE(session.empty());
  auto audit = v1::AuditService::NewStub(channel_);

  // A call with a real session but a signature not made by its device is
  // refused, and on record (auth.denied, in the whole-log export below); one
  // whose token names no session is refused and not recorded.
  for (const char* token : {"a0.not-a-session", session.c_str()}) {
    v1::ApproveRegistrationRequest approve;
    approve.mutable_credentials()->set_session_token(token);
    approve.mutable_credentials()->mutable_device_signature()->set_device_id("phone-1");
    approve.mutable_credentials()->mutable_device_signature()->set_signature("not a signature");
    approve.set_account_id(account_id);
    v1::ApproveRegistrationResponse out;
    grpc::ClientContext context;
    EXPECT_EQ(ReasonOf(FromGrpcStatus(stub_->ApproveRegistration(&context, approve, &out))),
              std::string(token) == session ? "DEVICE_SIGNATURE_INVALID" : "SESSION_INVALID");
  }

  // The citizen's own history, signed by the device. Events reach the log
  // through the activation service's spool, so wait for the login's.
  v1::GetCitizenHistoryRequest history;
  history.mutable_credentials()->set_session_token(session);
  v1::GetCitizenHistoryResponse mine;
  std::set<std::string> actions;
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (!actions.count("login") && absl::Now() < give_up) {
    *history.mutable_credentials()->mutable_device_signature() =
        phone.SignRequest("/eid.v1.AuditService/GetCitizenHistory", history);
    grpc::ClientContext context;
    mine.Clear();
    grpc::Status s = audit->GetCitizenHistory(&context, history, &mine);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const v1::AuditRecord& r : mine.records()) actions.insert(r.event().action());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (const char* action : {"account.registered", "account.approved", "activation.started",
                             "activation.device_activated", "login"}) {
    EXPECT_TRUE(actions.count(action)) << action;
  }
  // Without the device signature, no history.
  history.mutable_credentials()->clear_device_signature();
  {
    grpc::ClientContext context;
    EXPECT_EQ(ReasonOf(FromGrpcStatus(audit->GetCitizenHistory(&context, history, &mine))),
              "DEVICE_UNKNOWN");
  }

  // A citizen is not an auditor.
  v1::QueryRequest query;
  query.mutable_credentials()->set_session_token(session);
  query.mutable_filter()->set_subject_id_number(person.id_number());
  v1::QueryResponse found;
  {
    grpc::ClientContext context;
    EXPECT_EQ(ReasonOf(FromGrpcStatus(audit->Query(&context, query, &found))),
              "ROLE_REQUIRED");
  }
  // An internal caller (an operator's eidctl) may, by ID number.
  query.clear_credentials();
  {
    grpc::ClientContext context;
    internal_->Attach(context);
    grpc::Status s = audit->Query(&context, query, &found);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_GE(found.records_size(), 5);
  }
  // An export as JSON lines, read whole.
  const auto export_lines = [&](const v1::AuditFilter& filter) {
    v1::ExportEventsRequest request;
    *request.mutable_filter() = filter;
    request.set_format(v1::EXPORT_FORMAT_JSON_LINES);
    grpc::ClientContext context;
    internal_->Attach(context);
    auto reader = audit->ExportEvents(&context, request);
    v1::ExportEventsResponse chunk;
    std::string lines;
    while (reader->Read(&chunk)) lines += chunk.json_lines();
    EXPECT_TRUE(reader->Finish().ok());
    return lines;
  };
  // The citizen's events never show the ID number.
  const std::string lines = export_lines(query.filter());
  EXPECT_NE(lines.find("\"action\":\"login\""), std::string::npos) << lines;
  EXPECT_EQ(lines.find(person.id_number()), std::string::npos);

  // A SIEM's export of the whole log (no subject, no actor): every event,
  // the other services' too, and the export above recorded as read. The
  // refused call's event may still be in the spool: wait for it.
  std::string all_lines = export_lines(v1::AuditFilter());
  for (const absl::Time give_up = absl::Now() + absl::Seconds(15);
       all_lines.find("\"action\":\"auth.denied\"") == std::string::npos && absl::Now() < give_up;
       all_lines = export_lines(v1::AuditFilter())) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  for (const char* action : {"\"action\":\"account.registered\"", "\"action\":\"otp.sent\"",
                             "\"action\":\"login\"", "\"action\":\"audit.exported\"",
                             "\"action\":\"auth.denied\""}) {
    EXPECT_NE(all_lines.find(action), std::string::npos) << action;
  }
  EXPECT_NE(all_lines.find("/eid.v1.ActivationService/ApproveRegistration"), std::string::npos);
  EXPECT_NE(all_lines.find(absl::StrCat("\"actor\":\"account:", account_id, "\"")),
            std::string::npos);
  size_t denied = 0;
  for (size_t at = all_lines.find("auth.denied"); at != std::string::npos;
       at = all_lines.find("auth.denied", at + 1)) {
    ++denied;
  }
  EXPECT_EQ(denied, 1u);  // The real session's refusal only.
  EXPECT_EQ(all_lines.find(person.id_number()), std::string::npos);
}

}  // namespace
}  // namespace eid
