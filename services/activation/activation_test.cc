#include "services/activation/activation.h"

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/activation/activation_testing.h"
#include "services/activation/test_device.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

constexpr char kActivateMethod[] = "/eid.v1.ActivationService/ActivateDevice";
constexpr char kLoginMethod[] = "/eid.v1.ActivationService/Login";
constexpr char kRecoveryMethod[] = "/eid.v1.ActivationService/CompleteRecovery";
constexpr char kPasscode[] = "482913";

// Nguyễn Văn An, male, born 17/05/1990 in Hà Nội (001), 0 = 20th c. male.
v1::PersonalDetails An() {
  v1::PersonalDetails p;
  p.set_id_number("001090012345");
  p.set_phone("0912 345 678");
  p.set_full_name("Nguyễn Văn An");
  p.mutable_date_of_birth()->set_year(1990);
  p.mutable_date_of_birth()->set_month(5);
  p.mutable_date_of_birth()->set_day(17);
  p.set_sex(v1::SEX_MALE);
  p.mutable_locality()->set_province_code("01");
  p.mutable_locality()->set_district_code("001");
  p.mutable_locality()->set_commune_code("00001");
  return p;
}

class ActivationTest : public ::testing::Test {
 protected:
  Activation& core() { return h_.core(); }

  std::string Register(const v1::PersonalDetails& person = An()) {
    v1::RegisterLevel1Request r;
    r.set_request_id(absl::StrCat("reg-", std::hash<std::string>{}(person.id_number())));
    *r.mutable_person() = person;
    auto done = core().RegisterLevel1(r);
    EXPECT_TRUE(done.ok()) << done.status();
    return done.ok() ? done->account().account_id() : "";
  }

  std::string RegisterAndApprove(const v1::PersonalDetails& person = An()) {
    const std::string id = Register(person);
    v1::ApproveRegistrationRequest r;
    r.set_account_id(id);
    auto done = core().ApproveRegistration(ActivationHarness::Internal(), r);
    EXPECT_TRUE(done.ok()) << done.status();
    return id;
  }

  absl::StatusOr<v1::StartActivationResponse> Start(
      const std::string& request_id = "start-1",
      const v1::PersonalDetails& person = An()) {
    v1::StartActivationRequest r;
    r.set_request_id(request_id);
    r.set_id_number(person.id_number());
    r.set_phone(person.phone());
    return core().StartActivation(r);
  }

  // Steps 1-4; the activation session token.
  std::string SessionWithPasscodeAndAnswers(const std::string& account_id,
                                            const std::string& request_id = "start-1") {
    auto started = Start(request_id);
    EXPECT_TRUE(started.ok()) << started.status();
    v1::VerifyActivationOtpRequest verify;
    verify.set_activation_id(started->activation_id());
    verify.set_code(h_.otp().LastCode(account_id));
    auto session = core().VerifyActivationOtp(verify);
    EXPECT_TRUE(session.ok()) << session.status();
    v1::SetPasscodeRequest passcode;
    passcode.set_activation_session_token(session->activation_session_token());
    passcode.set_passcode(kPasscode);
    EXPECT_TRUE(core().SetPasscode(passcode).ok());
    v1::SetSecurityAnswersRequest answers;
    answers.set_activation_session_token(session->activation_session_token());
    for (const char* q : {"q_first_school", "q_favourite_dish", "q_home_village"}) {
      v1::SecurityAnswer& a = *answers.add_answers();
      a.set_question_id(q);
      a.set_answer(absl::StrCat("Đáp án ", q));
    }
    auto set = core().SetSecurityAnswers(answers);
    EXPECT_TRUE(set.ok()) << set.status();
    return session->activation_session_token();
  }

  absl::StatusOr<v1::ActivateDeviceResponse> ActivateDevice(const std::string& token,
                                                            const TestDevice& device) {
    v1::ActivateDeviceRequest r;
    r.set_activation_session_token(token);
    r.set_device_id(device.device_id());
    r.set_public_key(device.public_der());
    r.set_device_name("Samsung Galaxy A54");
    *r.mutable_proof() = device.SignRequest(kActivateMethod, r);
    return core().ActivateDevice(r);
  }

  absl::StatusOr<v1::LoginResponse> Login(const std::string& account_id,
                                          const TestDevice& device,
                                          const std::string& passcode = kPasscode,
                                          absl::Time deadline = absl::InfiniteFuture()) {
    v1::CreateLoginChallengeRequest c;
    c.set_account_id(account_id);
    c.set_device_id(device.device_id());
    auto challenge = core().CreateLoginChallenge(c);
    if (!challenge.ok()) return challenge.status();
    v1::LoginRequest r;
    r.set_account_id(account_id);
    r.set_challenge_id(challenge->challenge_id());
    *r.mutable_device_signature() = device.Sign(kLoginMethod, challenge->challenge());
    r.set_passcode(passcode);
    return core().Login(r, deadline);
  }

  v1::AccountState StateOf(const std::string& account_id) {
    return h_.accounts().Get(account_id)->record.account().state();
  }

  ActivationHarness h_;
};

TEST_F(ActivationTest, TheFiveStepsActivateAndTheDeviceCanLogIn) {
  const std::string id = RegisterAndApprove();
  EXPECT_EQ(StateOf(id), v1::ACCOUNT_STATE_APPROVED);
  const std::string token = SessionWithPasscodeAndAnswers(id);
  TestDevice phone("phone-1");
  auto activated = ActivateDevice(token, phone);
  ASSERT_TRUE(activated.ok()) << activated.status();
  EXPECT_EQ(activated->account().state(), v1::ACCOUNT_STATE_ACTIVATED);
  EXPECT_EQ(activated->account().device().device_id(), "phone-1");
  EXPECT_EQ(activated->next_step(), v1::ACTIVATION_STEP_DONE);

  auto session = Login(id, phone);
  ASSERT_TRUE(session.ok()) << session.status();
  v1::Credentials credentials;
  credentials.set_session_token(session->session_token());
  auto caller = core().Authenticate(credentials, "/eid.v1.QrService/IssueQr", nullptr);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->record.account().account_id(), id);

  // Every step was audited, with the subject and never the ID number.
  for (const char* action : {"account.registered", "account.approved",
                             "activation.started", "otp.sent", "activation.otp_verified",
                             "activation.passcode_set", "activation.security_answers_set",
                             "activation.device_activated", "login"}) {
    auto events = h_.audit().WithAction(action);
    ASSERT_FALSE(events.empty()) << action;
    EXPECT_EQ(events.back().outcome(), v1::AUDIT_OUTCOME_SUCCESS) << action;
    EXPECT_EQ(events.back().subject().size(), 32u) << action;
    EXPECT_EQ(events.back().DebugString().find("001090012345"), std::string::npos)
        << events.back().DebugString();
  }
  // The approval SMS went to the registered phone.
  ASSERT_EQ(h_.otp().notices().size(), 1u);
  EXPECT_EQ(h_.otp().notices()[0].kind(), v1::NOTICE_KIND_REGISTRATION_APPROVED);
  EXPECT_EQ(h_.otp().notices()[0].phone(), "+84912345678");
}

TEST_F(ActivationTest, ACodeRefusedIsAuditedAsWellAsACodeSent) {
  const std::string id = RegisterAndApprove();
  h_.otp().RefuseSends(ToGrpcStatus(
      ResourceExhausted(v1::RATE_LIMITED, "10 codes today for this account")));
  EXPECT_EQ(ReasonOf(Start("start-refused").status()), "RATE_LIMITED");
  auto events = h_.audit().WithAction("otp.sent");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome(), v1::AUDIT_OUTCOME_REJECTED);
  EXPECT_EQ(events[0].reason(), "RATE_LIMITED");
  EXPECT_EQ(events[0].subject().size(), 32u);
  EXPECT_EQ(events[0].attributes().at("otp_purpose"), "OTP_PURPOSE_ACTIVATION");
  EXPECT_EQ(events[0].attributes().at("account_id"), id);

  h_.otp().RefuseSends(grpc::Status::OK);
  ASSERT_TRUE(Start("start-sent").ok());
  events = h_.audit().WithAction("otp.sent");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].outcome(), v1::AUDIT_OUTCOME_SUCCESS);
  EXPECT_FALSE(events[1].attributes().at("otp_id").empty());
}

// A shard that cannot be read now says nothing about a session: the caller
// gets UNAVAILABLE (and retries), not SESSION_INVALID (which ends it).
TEST_F(ActivationTest, AnUnreadableStoreIsUnavailableNotAnInvalidSession) {
  const std::string id = RegisterAndApprove();
  auto started = Start();
  ASSERT_TRUE(started.ok()) << started.status();
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started->activation_id());
  verify.set_code(h_.otp().LastCode(id));
  auto session = core().VerifyActivationOtp(verify);
  ASSERT_TRUE(session.ok()) << session.status();
  v1::SetPasscodeRequest passcode;
  passcode.set_activation_session_token(session->activation_session_token());
  passcode.set_passcode(kPasscode);
  h_.SetDown("flows");
  EXPECT_EQ(core().SetPasscode(passcode).status().code(), absl::StatusCode::kUnavailable);
  h_.SetDown("");
  ASSERT_TRUE(core().SetPasscode(passcode).ok());

  const std::string token = SessionWithPasscodeAndAnswers(id, "start-2");
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(token, phone).ok());
  auto login = Login(id, phone);
  ASSERT_TRUE(login.ok()) << login.status();
  v1::Credentials credentials;
  credentials.set_session_token(login->session_token());
  const char kMethod[] = "/eid.v1.QrService/IssueQr";
  h_.SetDown("accounts");
  EXPECT_EQ(core().Authenticate(credentials, kMethod, nullptr).status().code(),
            absl::StatusCode::kUnavailable);
  h_.SetDown("");
  EXPECT_TRUE(core().Authenticate(credentials, kMethod, nullptr).ok());
  // A session that is not there is still SESSION_INVALID.
  credentials.set_session_token(login->session_token() + "x");
  EXPECT_EQ(core().Authenticate(credentials, kMethod, nullptr).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(ActivationTest, StartRefusesWrongPhoneUnapprovedAndActivatedAccounts) {
  Register();
  EXPECT_EQ(ReasonOf(Start().status()), "ACCOUNT_NOT_APPROVED");
  v1::PersonalDetails wrong_phone = An();
  wrong_phone.set_phone("0987654321");
  EXPECT_EQ(ReasonOf(Start("s2", wrong_phone).status()), "ACCOUNT_NOT_FOUND");
  v1::PersonalDetails nobody = An();
  nobody.set_id_number("001090099999");
  EXPECT_EQ(ReasonOf(Start("s3", nobody).status()), "ACCOUNT_NOT_FOUND");
  EXPECT_EQ(h_.otp().sent(), 0);
}

TEST_F(ActivationTest, StartOnAnActivatedAccountIsRefusedAndSendsNoOtp) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  const int sent = h_.otp().sent();
  EXPECT_EQ(ReasonOf(Start("again").status()), "ACCOUNT_ALREADY_ACTIVATED");
  EXPECT_EQ(h_.otp().sent(), sent);
}

TEST_F(ActivationTest, StartIsIdempotentByRequestId) {
  RegisterAndApprove();
  auto first = Start("same");
  auto second = Start("same");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->activation_id(), second->activation_id());
  EXPECT_EQ(h_.otp().sent(), 1);
  v1::StartActivationRequest different;
  different.set_request_id("same");
  different.set_id_number(An().id_number());
  different.set_phone("+84912345678");  // Same phone, other spelling: other request.
  EXPECT_EQ(ReasonOf(core().StartActivation(different).status()), "REQUEST_ID_CONFLICT");
}

// A retry that runs beside the first try (both past the "seen before?"
// check) gets the same answer, and only one flow is made.
TEST_F(ActivationTest, TwoCopiesOfOneStartRacingGetOneAnswer) {
  RegisterAndApprove();
  absl::StatusOr<v1::StartActivationResponse> rival;
  // Just before the first copy writes its flow, the second runs whole.
  h_.BeforeNextBatch([&] { rival = Start("same"); });
  auto first = Start("same");
  ASSERT_TRUE(rival.ok()) << rival.status();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->activation_id(), rival->activation_id());
  v1::ScanRequest flows;
  flows.set_namespace_("flows");
  auto scanned = h_.kv().Scan(flows);
  ASSERT_TRUE(scanned.ok());
  int n = 0;
  for (const v1::Record& record : scanned->records()) {
    n += absl::StrContains(record.key(), "|flow|");
  }
  EXPECT_EQ(n, 1);
  EXPECT_EQ(h_.audit().WithAction("activation.started").size(), 1u);
  // One code, sent once: the copy that lost was answered with it (replayed).
  const auto sent = h_.audit().WithAction("otp.sent");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].attributes().at("replayed"), "false");
  EXPECT_EQ(sent[1].attributes().at("replayed"), "true");
  EXPECT_EQ(sent[0].attributes().at("otp_id"), sent[1].attributes().at("otp_id"));
}

// The same for a resend: the copy that loses finds the flow changed and the
// answer remembered, and gives that answer.
TEST_F(ActivationTest, TwoCopiesOfOneResendRacingGetOneAnswer) {
  RegisterAndApprove();
  auto started = Start();
  ASSERT_TRUE(started.ok());
  v1::ResendActivationOtpRequest resend;
  resend.set_request_id("resend-1");
  resend.set_activation_id(started->activation_id());
  absl::StatusOr<v1::ResendActivationOtpResponse> rival;
  h_.BeforeNextBatch([&] { rival = core().ResendActivationOtp(resend); });
  auto first = core().ResendActivationOtp(resend);
  ASSERT_TRUE(rival.ok()) << rival.status();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->SerializeAsString(), rival->SerializeAsString());
  EXPECT_EQ(h_.audit().WithAction("activation.otp_resent").size(), 1u);
}

// Another request under the same request id, racing: a conflict, and the
// first one's flow and answer stay as they were.
TEST_F(ActivationTest, AnotherRequestRacingUnderTheSameIdIsAConflict) {
  RegisterAndApprove();
  absl::StatusOr<v1::StartActivationResponse> rival;
  h_.BeforeNextBatch([&] { rival = Start("same"); });
  v1::StartActivationRequest other;
  other.set_request_id("same");
  other.set_id_number(An().id_number());
  other.set_phone("+84912345678");  // The same phone, spelt otherwise: another request.
  EXPECT_EQ(ReasonOf(core().StartActivation(other).status()), "REQUEST_ID_CONFLICT");
  ASSERT_TRUE(rival.ok()) << rival.status();
  auto again = Start("same");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->activation_id(), rival->activation_id());
}

// A request id reused by another kind of request whose bytes happen to be
// the same (StartActivation and StartRecovery with no language) is a
// conflict, not a replay of the other kind's answer.
TEST_F(ActivationTest, ARequestIdReusedByAnotherKindOfRequestIsAConflict) {
  const std::string id = RegisterAndApprove();
  ASSERT_TRUE(Start("shared").ok());
  v1::StartRecoveryRequest recovery;
  recovery.set_request_id("shared");
  recovery.set_id_number(An().id_number());
  recovery.set_phone(An().phone());
  EXPECT_EQ(ReasonOf(core().StartRecovery(recovery).status()), "REQUEST_ID_CONFLICT");
}

TEST_F(ActivationTest, WrongOtpIsRefusedAndOpensNoSession) {
  const std::string id = RegisterAndApprove();
  auto started = Start();
  ASSERT_TRUE(started.ok());
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started->activation_id());
  verify.set_code("000000");
  EXPECT_EQ(ReasonOf(core().VerifyActivationOtp(verify).status()), "OTP_MISMATCH");
  verify.set_activation_id(started->activation_id() + "0");
  verify.set_code(h_.otp().LastCode(id));
  EXPECT_EQ(ReasonOf(core().VerifyActivationOtp(verify).status()), "ACTIVATION_NOT_FOUND");
}

TEST_F(ActivationTest, ResendSupersedesThePreviousCode) {
  const std::string id = RegisterAndApprove();
  auto started = Start();
  ASSERT_TRUE(started.ok());
  const std::string old_code = h_.otp().LastCode(id);
  v1::ResendActivationOtpRequest resend;
  resend.set_request_id("resend-1");
  resend.set_activation_id(started->activation_id());
  ASSERT_TRUE(core().ResendActivationOtp(resend).ok());
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started->activation_id());
  verify.set_code(old_code);
  EXPECT_FALSE(core().VerifyActivationOtp(verify).ok());
  verify.set_code(h_.otp().LastCode(id));
  EXPECT_TRUE(core().VerifyActivationOtp(verify).ok());
}

TEST_F(ActivationTest, WeakPasscodesAreRefusedWithTheirReason) {
  const std::string id = RegisterAndApprove();
  auto started = Start();
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started->activation_id());
  verify.set_code(h_.otp().LastCode(id));
  auto session = core().VerifyActivationOtp(verify);
  ASSERT_TRUE(session.ok());
  v1::SetPasscodeRequest r;
  r.set_activation_session_token(session->activation_session_token());
  for (auto [passcode, reason] : std::vector<std::pair<std::string, std::string>>{
           {"12345", "PASSCODE_NOT_SIX_DIGITS"},
           {"12345a", "PASSCODE_NOT_SIX_DIGITS"},
           {"111111", "PASSCODE_TOO_SIMPLE"},
           {"123456", "PASSCODE_TOO_SIMPLE"},
           {"170590", "PASSCODE_IS_BIRTH_DATE"}}) {
    r.set_passcode(passcode);
    EXPECT_EQ(ReasonOf(core().SetPasscode(r).status()), reason) << passcode;
  }
}

TEST_F(ActivationTest, StepsOutOfOrderAreRefused) {
  const std::string id = RegisterAndApprove();
  auto started = Start();
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started->activation_id());
  verify.set_code(h_.otp().LastCode(id));
  auto session = core().VerifyActivationOtp(verify);
  ASSERT_TRUE(session.ok());
  v1::SetSecurityAnswersRequest answers;
  answers.set_activation_session_token(session->activation_session_token());
  EXPECT_EQ(ReasonOf(core().SetSecurityAnswers(answers).status()), "STEP_OUT_OF_ORDER");
  TestDevice phone("phone-1");
  EXPECT_EQ(ReasonOf(ActivateDevice(session->activation_session_token(), phone).status()),
            "STEP_OUT_OF_ORDER");
  EXPECT_EQ(StateOf(id), v1::ACCOUNT_STATE_APPROVED);
}

TEST_F(ActivationTest, TheActivationSessionIsUsedOnceAndExpires) {
  const std::string id = RegisterAndApprove();
  const std::string token = SessionWithPasscodeAndAnswers(id);
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(token, phone).ok());
  v1::SetPasscodeRequest again;
  again.set_activation_session_token(token);
  again.set_passcode("582914");
  EXPECT_EQ(ReasonOf(core().SetPasscode(again).status()), "SESSION_USED");
  // The refusal is on record, under the account the session belonged to.
  auto refused = h_.audit().WithAction("activation.passcode_set");
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused.back().outcome(), v1::AUDIT_OUTCOME_REJECTED);
  EXPECT_EQ(refused.back().reason(), "SESSION_USED");
  EXPECT_EQ(refused.back().subject().size(), 32u);

  v1::PersonalDetails bich = An();
  bich.set_id_number("001191054321");  // 1 = 20th c. female, born 1991.
  bich.set_sex(v1::SEX_FEMALE);
  bich.mutable_date_of_birth()->set_year(1991);
  bich.set_phone("0987654321");
  const std::string other = RegisterAndApprove(bich);
  auto started = Start("start-b", bich);
  ASSERT_TRUE(started.ok()) << started.status();
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started->activation_id());
  verify.set_code(h_.otp().LastCode(other));
  auto session = core().VerifyActivationOtp(verify);
  ASSERT_TRUE(session.ok());
  h_.clock().Advance(absl::Minutes(16));
  v1::SetPasscodeRequest late;
  late.set_activation_session_token(session->activation_session_token());
  late.set_passcode("582914");
  EXPECT_EQ(ReasonOf(core().SetPasscode(late).status()), "SESSION_EXPIRED");
  EXPECT_EQ(h_.audit().WithAction("activation.passcode_set").back().reason(),
            "SESSION_EXPIRED");
}

// A code verified late in the flow (after a resend, say) still gets its
// whole session: the flow lives as long as the session it holds.
TEST_F(ActivationTest, ASessionOpenedLateInTheFlowLastsItsWholeTime) {
  const std::string id = RegisterAndApprove();
  auto started = Start("start-late");
  ASSERT_TRUE(started.ok()) << started.status();
  h_.clock().Advance(absl::Minutes(25));  // Of the flow's 30.
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started->activation_id());
  verify.set_code(h_.otp().LastCode(id));
  auto session = core().VerifyActivationOtp(verify);
  ASSERT_TRUE(session.ok()) << session.status();
  h_.clock().Advance(absl::Minutes(14));  // 39 minutes after the start.
  v1::SetPasscodeRequest passcode;
  passcode.set_activation_session_token(session->activation_session_token());
  passcode.set_passcode("582914");
  EXPECT_TRUE(core().SetPasscode(passcode).ok());
}

// A step refused before it reaches its account is on record when its
// caller held a real flow id (a request id reused for another request, here
// with an id far too long for the log); a token that names no flow or
// session is not, or anyone could fill the log — and attach events to any
// account whose id they know.
TEST_F(ActivationTest, RefusalsOfRealFlowsAreAuditedAndTokensNamingNothingAreNot) {
  const std::string id = RegisterAndApprove();
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(absl::StrCat(id, ".not-a-flow"));
  verify.set_code("123456");
  EXPECT_EQ(ReasonOf(core().VerifyActivationOtp(verify).status()), "ACTIVATION_NOT_FOUND");
  EXPECT_TRUE(h_.audit().WithAction("activation.otp_verified").empty());
  v1::SetSecurityAnswersRequest answers;
  answers.set_activation_session_token(absl::StrCat(id, ".not-a-flow~secret"));
  EXPECT_EQ(ReasonOf(core().SetSecurityAnswers(answers).status()), "SESSION_INVALID");
  EXPECT_TRUE(h_.audit().WithAction("activation.security_answers_set").empty());

  auto started = Start("start-1");
  ASSERT_TRUE(started.ok()) << started.status();
  v1::ResendActivationOtpRequest resend;
  resend.set_activation_id(started->activation_id());
  resend.set_request_id(std::string(5000, 'r'));
  EXPECT_EQ(ReasonOf(core().ResendActivationOtp(resend).status()), "FIELD_INVALID");
  auto events = h_.audit().WithAction("activation.otp_resent");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason(), "FIELD_INVALID");
  EXPECT_EQ(events[0].subject().size(), 32u);
  EXPECT_EQ(events[0].request_id(), std::string(64, 'r'));  // Cut to what the log takes.
  // Cut on a UTF-8 boundary: 63 ASCII bytes, then a 2-byte letter.
  resend.set_request_id(std::string(63, 'r') + "\xc3\xa1xx");
  core().ResendActivationOtp(resend).status().IgnoreError();
  EXPECT_EQ(h_.audit().WithAction("activation.otp_resent").back().request_id(),
            std::string(63, 'r'));

  // A real flow's id with a wrong session secret: someone guessing at it.
  answers.set_activation_session_token(absl::StrCat(started->activation_id(), "~guess"));
  EXPECT_EQ(ReasonOf(core().SetSecurityAnswers(answers).status()), "SESSION_INVALID");
  events = h_.audit().WithAction("activation.security_answers_set");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason(), "SESSION_INVALID");
  EXPECT_EQ(events[0].subject().size(), 32u);

  const size_t before = h_.audit().WithAction("activation.started").size();
  v1::StartActivationRequest conflict;
  conflict.set_request_id("start-1");
  conflict.set_id_number(An().id_number());
  conflict.set_phone("+84 912 345 678");  // The same phone, another request.
  const absl::Status s = core().StartActivation(conflict).status();
  EXPECT_EQ(ReasonOf(s), "REQUEST_ID_CONFLICT");
  events = h_.audit().WithAction("activation.started");
  ASSERT_EQ(events.size(), before + 1);
  EXPECT_EQ(events.back().reason(), "REQUEST_ID_CONFLICT");
}

TEST_F(ActivationTest, TwoDevicesRacingToActivateOneAccountExactlyOneWins) {
  const std::string id = RegisterAndApprove();
  const std::string token_a = SessionWithPasscodeAndAnswers(id, "start-a");
  const std::string token_b = SessionWithPasscodeAndAnswers(id, "start-b");
  TestDevice a("phone-a"), b("phone-b");
  std::atomic<int> won{0}, already{0};
  std::thread ta([&] {
    auto r = ActivateDevice(token_a, a);
    if (r.ok()) ++won;
    else if (ReasonOf(r.status()) == "ACCOUNT_ALREADY_ACTIVATED") ++already;
  });
  std::thread tb([&] {
    auto r = ActivateDevice(token_b, b);
    if (r.ok()) ++won;
    else if (ReasonOf(r.status()) == "ACCOUNT_ALREADY_ACTIVATED") ++already;
  });
  ta.join();
  tb.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(already.load(), 1);
  const std::string bound = h_.accounts().Get(id)->record.account().device().device_id();
  EXPECT_TRUE(bound == "phone-a" || bound == "phone-b");
}

TEST_F(ActivationTest, WrongPasscodesLockTheAccountUntilTheLockExpires) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  for (int i = 1; i <= 4; ++i) {
    auto r = Login(id, phone, "582914");
    EXPECT_EQ(ReasonOf(r.status()), "PASSCODE_MISMATCH") << i;
  }
  EXPECT_EQ(ReasonOf(Login(id, phone, "582914").status()), "ACCOUNT_LOCKED");
  EXPECT_EQ(StateOf(id), v1::ACCOUNT_STATE_LOCKED);
  // Even the right passcode is refused while locked.
  EXPECT_EQ(ReasonOf(Login(id, phone).status()), "ACCOUNT_LOCKED");
  EXPECT_FALSE(h_.audit().WithAction("account.locked").empty());
  h_.clock().Advance(absl::Minutes(31));
  EXPECT_TRUE(Login(id, phone).ok());
}

// A lock whose time has passed is lifted in storage too, with its report
// counters, by the sweep: not only on the account's next read.
TEST_F(ActivationTest, TheSweepLiftsALockWhoseTimeHasPassedInStorage) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  for (int i = 0; i < 5; ++i) Login(id, phone, "582914").status().IgnoreError();
  ASSERT_EQ(StateOf(id), v1::ACCOUNT_STATE_LOCKED);
  const auto locked_cells = [&] {
    v1::ScanRequest scan;
    scan.set_namespace_(kIndexNamespace);
    scan.set_prefix(ReportIndex::LocalityCellPrefix(h_.accounts().index().RoutingKeyFor(id)));
    int locked = 0;
    absl::StatusOr<v1::ScanResponse> cells = h_.kv().Scan(scan);
    EXPECT_TRUE(cells.ok()) << cells.status();
    for (const v1::Record& r : cells->records()) {
      if (absl::EndsWith(r.key(), absl::StrCat("|", v1::ACCOUNT_STATE_LOCKED))) ++locked;
    }
    return locked;
  };
  EXPECT_EQ(locked_cells(), 1);

  h_.clock().Advance(absl::Minutes(29));
  absl::StatusOr<int> lifted = core().LiftExpiredLocks(100);
  ASSERT_TRUE(lifted.ok()) << lifted.status();
  EXPECT_EQ(*lifted, 0);  // Not yet.
  EXPECT_EQ(StateOf(id), v1::ACCOUNT_STATE_LOCKED);
  h_.clock().Advance(absl::Minutes(2));
  EXPECT_EQ(*core().LiftExpiredLocks(100), 1);
  EXPECT_EQ(StateOf(id), v1::ACCOUNT_STATE_ACTIVATED);  // As stored.
  EXPECT_EQ(locked_cells(), 0);
  const auto unlocked = h_.audit().WithAction("account.unlocked");
  ASSERT_EQ(unlocked.size(), 1u);
  EXPECT_EQ(unlocked[0].actor(), "service:activation");
  EXPECT_EQ(unlocked[0].attributes().at("unlock_reason"), "lock_expired");
  EXPECT_EQ(*core().LiftExpiredLocks(100), 0);  // Lifted once.
  EXPECT_TRUE(Login(id, phone).ok());
}

// Every login waits for its fsync: a wrong passcode's count must survive a
// power loss, and so must a used challenge's deletion (a challenge brought
// back would let a captured Login be replayed within its lifetime).
TEST_F(ActivationTest, EveryLoginWaitsForAnFsync) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  uint64_t syncs = h_.kv().wal_syncs();
  ASSERT_TRUE(Login(id, phone).ok());
  EXPECT_GT(h_.kv().wal_syncs(), syncs);
  syncs = h_.kv().wal_syncs();
  EXPECT_EQ(ReasonOf(Login(id, phone, "582914").status()), "PASSCODE_MISMATCH");
  EXPECT_GT(h_.kv().wal_syncs(), syncs);
}

TEST_F(ActivationTest, APasscodeNotCheckedByTheDeadlineIsNotCounted) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  {
    absl::StatusOr<HashGate::Slot> busy = h_.hash_gate().Enter(absl::InfiniteFuture());
    ASSERT_TRUE(busy.ok());
    // More than the five wrong passcodes that would lock, none checked.
    for (int i = 0; i < 6; ++i) {
      auto r = Login(id, phone, "582914", absl::Now() - absl::Seconds(1));
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << i;
      EXPECT_EQ(ReasonOf(r.status()), "PASSCODE_HASHING_BUSY") << i;
    }
  }
  EXPECT_EQ(StateOf(id), v1::ACCOUNT_STATE_ACTIVATED);
  EXPECT_EQ(h_.accounts().Get(id)->record.wrong_passcodes(), 0);
  EXPECT_TRUE(Login(id, phone).ok());
}

TEST_F(ActivationTest, ParallelWrongPasscodesAreAllCounted) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { Login(id, phone, "582914").status().IgnoreError(); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(StateOf(id), v1::ACCOUNT_STATE_LOCKED);
}

TEST_F(ActivationTest, LoginChecksTheBoundDeviceAndItsSignature) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1"), thief("phone-1");  // Same id, other key.
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  EXPECT_EQ(ReasonOf(Login(id, thief).status()), "DEVICE_SIGNATURE_INVALID");
  TestDevice other("phone-2");
  EXPECT_EQ(ReasonOf(Login(id, other).status()), "DEVICE_UNKNOWN");
}

TEST_F(ActivationTest, RecoveryBindsANewDeviceAndEndsTheOldSessions) {
  const std::string id = RegisterAndApprove();
  TestDevice old_phone("phone-old");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), old_phone).ok());
  auto old_session = Login(id, old_phone);
  ASSERT_TRUE(old_session.ok());

  v1::StartRecoveryRequest start;
  start.set_request_id("rec-1");
  start.set_id_number(An().id_number());
  start.set_phone(An().phone());
  auto started = core().StartRecovery(start);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(started->questions_size(), 3);

  v1::AnswerRecoveryQuestionsRequest answer;
  answer.set_recovery_id(started->recovery_id());
  answer.set_otp_code(h_.otp().LastCode(id));
  for (const v1::SecurityQuestion& q : started->questions()) {
    v1::SecurityAnswer& a = *answer.add_answers();
    a.set_question_id(q.question_id());
    // Case, spacing and diacritics do not matter.
    a.set_answer(absl::StrCat("  dap AN  ", q.question_id()));
  }
  auto answered = core().AnswerRecoveryQuestions(answer);
  ASSERT_TRUE(answered.ok()) << answered.status();

  TestDevice new_phone("phone-new");
  v1::CompleteRecoveryRequest complete;
  complete.set_recovery_session_token(answered->recovery_session_token());
  complete.set_device_id(new_phone.device_id());
  complete.set_public_key(new_phone.public_der());
  *complete.mutable_proof() = new_phone.SignRequest(kRecoveryMethod, complete);
  auto done = core().CompleteRecovery(complete);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->replaced_device_id(), "phone-old");

  v1::Credentials old_credentials;
  old_credentials.set_session_token(old_session->session_token());
  const absl::Status ended = core().Authenticate(old_credentials, "m", nullptr).status();
  EXPECT_EQ(ReasonOf(ended), "SESSION_INVALID");
  // A real session of a replaced (perhaps stolen) device: worth a record.
  core().AuditSessionRefused("m", ended, old_session->session_token()).IgnoreError();
  const auto denied = h_.audit().WithAction("auth.denied");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].actor(), absl::StrCat("account:", id));
  EXPECT_EQ(ReasonOf(Login(id, old_phone).status()), "DEVICE_UNKNOWN");
  EXPECT_TRUE(Login(id, new_phone).ok());
  EXPECT_EQ(ReasonOf(core().CompleteRecovery(complete).status()), "SESSION_USED");
}

TEST_F(ActivationTest, WrongRecoveryAnswersAreCountedAndLock) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  for (int i = 0; i < 3; ++i) {
    v1::StartRecoveryRequest start;
    start.set_request_id(absl::StrCat("rec-", i));
    start.set_id_number(An().id_number());
    start.set_phone(An().phone());
    auto started = core().StartRecovery(start);
    ASSERT_TRUE(started.ok()) << started.status();
    v1::AnswerRecoveryQuestionsRequest answer;
    answer.set_recovery_id(started->recovery_id());
    answer.set_otp_code(h_.otp().LastCode(id));
    for (const v1::SecurityQuestion& q : started->questions()) {
      v1::SecurityAnswer& a = *answer.add_answers();
      a.set_question_id(q.question_id());
      a.set_answer("sai");
    }
    EXPECT_EQ(ReasonOf(core().AnswerRecoveryQuestions(answer).status()),
              "SECURITY_ANSWERS_MISMATCH");
  }
  EXPECT_EQ(StateOf(id), v1::ACCOUNT_STATE_LOCKED);
  v1::StartRecoveryRequest start;
  start.set_request_id("rec-after-lock");
  start.set_id_number(An().id_number());
  start.set_phone(An().phone());
  const int sent = h_.otp().sent();
  EXPECT_EQ(ReasonOf(core().StartRecovery(start).status()), "ACCOUNT_LOCKED");
  EXPECT_EQ(h_.otp().sent(), sent);  // No OTP to a locked account.
}

TEST_F(ActivationTest, BadRegistrationChangesNothing) {
  v1::RegisterLevel1Request r;
  r.set_request_id("bad-1");
  *r.mutable_person() = An();
  r.mutable_person()->set_id_number("001095012345");  // Year 95 vs born 1990.
  EXPECT_EQ(ReasonOf(core().RegisterLevel1(r).status()), "ID_NUMBER_BIRTH_YEAR_MISMATCH");
  EXPECT_EQ(ReasonOf(h_.accounts().Get(core().AccountIdFor("001095012345")).status()),
            "ACCOUNT_NOT_FOUND");
  v1::ScanRequest scan;
  scan.set_namespace_("indexes");
  auto cells = h_.kv().Scan(scan);
  ASSERT_TRUE(cells.ok());
  EXPECT_EQ(cells->records_size(), 0);
}

TEST_F(ActivationTest, SecondRegistrationOfAnIdNumberIsRefused) {
  Register();
  v1::RegisterLevel1Request r;
  r.set_request_id("other-request");
  *r.mutable_person() = An();
  EXPECT_EQ(ReasonOf(core().RegisterLevel1(r).status()), "ACCOUNT_ALREADY_EXISTS");
}

TEST_F(ActivationTest, OfficialsNeedTheirRoleWithinScope) {
  const std::string id = RegisterAndApprove();
  TestDevice phone("phone-1");
  ASSERT_TRUE(ActivateDevice(SessionWithPasscodeAndAnswers(id), phone).ok());
  Caller citizen;
  citizen.record = h_.accounts().Get(id)->record;
  v1::ApproveRegistrationRequest approve;
  approve.set_account_id(id);
  EXPECT_EQ(ReasonOf(core().ApproveRegistration(citizen, approve).status()),
            "ROLE_REQUIRED");
  Caller officer = citizen;
  v1::RoleGrant& grant = *officer.record.mutable_account()->add_roles();
  grant.set_role(v1::ROLE_ACCOUNT_OFFICER);
  grant.mutable_locality_scope()->set_province_code("79");  // Not Hà Nội.
  v1::RevokeAccountRequest revoke;
  revoke.set_account_id(id);
  EXPECT_EQ(ReasonOf(core().RevokeAccount(officer, revoke).status()), "SCOPE_EXCEEDED");
  grant.mutable_locality_scope()->set_province_code("01");
  EXPECT_TRUE(core().RevokeAccount(officer, revoke).ok());
  EXPECT_EQ(ReasonOf(Login(id, phone).status()), "ACCOUNT_REVOKED");
}

}  // namespace
}  // namespace eid::activation
