#include "tests/verification/citizen_driver.h"


#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid::testing {

using activation::TestDevice;

v1::PersonalDetails Citizen(const std::string& id_number, const std::string& phone,
                            const std::string& full_name) {
  v1::PersonalDetails p;
  p.set_id_number(id_number);
  p.set_phone(phone);
  p.set_full_name(full_name);
  p.mutable_date_of_birth()->set_year(1990);
  p.mutable_date_of_birth()->set_month(5);
  p.mutable_date_of_birth()->set_day(17);
  p.set_sex(v1::SEX_MALE);
  p.mutable_locality()->set_province_code("01");
  p.mutable_locality()->set_district_code("001");
  p.set_face_photo_reference(absl::StrCat("photo-", id_number.substr(6)));
  return p;
}

CitizenDriver::CitizenDriver(std::shared_ptr<grpc::Channel> channel,
                             const InternalAuth& internal, FakeClock& clock,
                             std::string outbox)
    : stub_(v1::ActivationService::NewStub(channel)),
      internal_(internal),
      clock_(&clock),
      outbox_(std::move(outbox)) {}

CitizenDriver::CitizenDriver(std::shared_ptr<grpc::Channel> channel,
                             const InternalAuth& internal, std::string outbox)
    : stub_(v1::ActivationService::NewStub(channel)),
      internal_(internal),
      clock_(nullptr),
      outbox_(std::move(outbox)) {}

template <typename Request, typename Response, typename Call>
absl::Status CitizenDriver::Rpc(Call call, const Request& request, Response* response,
                                bool internal) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (internal) internal_.Attach(context);
  return FromGrpcStatus(((*stub_).*call)(&context, request, response));
}

// The latest code among the first `count` SMS to `phone`, waiting up to 30 s
// (delivery is asynchronous; a code whose SMS raced ahead of its commit is
// looked at again 100 ms later by the fake clock, so let that time pass).
std::string CitizenDriver::LatestOtp(const std::string& phone, size_t count) {
  const std::vector<std::string> texts = outbox_.AwaitTexts(
      phone, count, absl::Seconds(30), [this] {
        if (clock_ != nullptr) clock_->Advance(absl::Milliseconds(100));
      });
  if (texts.size() < count) return "";
  // The queue's partitions may deliver the approval notice after the code:
  // take the newest text that holds one.
  for (auto it = texts.rbegin(); it != texts.rend(); ++it) {
    const std::string code = CodeIn(*it);
    if (!code.empty()) return code;
  }
  return "";
}

std::string CitizenDriver::Activate(const v1::PersonalDetails& person, int level,
                                    const TestDevice& device, std::string* account_id) {
  absl::Status s;
  if (level == 2) {
    v1::RegisterLevel2Request reg;
    reg.set_request_id(absl::StrCat("reg-", person.phone()));
    *reg.mutable_person() = person;
    reg.mutable_intake()->set_card_number(person.id_number());
    reg.mutable_intake()->mutable_intake_office()->set_kind(v1::ORG_UNIT_KIND_POLICE_OFFICE);
    reg.mutable_intake()->mutable_intake_office()->set_code("CA-HN-001");
    reg.mutable_intake()->set_officer_id("CB-0042");
    v1::RegisterLevel2Response registered;
    s = Rpc(&v1::ActivationService::Stub::RegisterLevel2, reg, &registered, true);
    *account_id = registered.account().account_id();
  } else {
    v1::RegisterLevel1Request reg;
    reg.set_request_id(absl::StrCat("reg-", person.phone()));
    *reg.mutable_person() = person;
    v1::RegisterLevel1Response registered;
    s = Rpc(&v1::ActivationService::Stub::RegisterLevel1, reg, &registered, false);
    *account_id = registered.account().account_id();
  }
  EXPECT_TRUE(s.ok()) << s;
  v1::ApproveRegistrationRequest approve;
  approve.set_account_id(*account_id);
  v1::ApproveRegistrationResponse approved;
  s = Rpc(&v1::ActivationService::Stub::ApproveRegistration, approve, &approved, true);
  EXPECT_TRUE(s.ok()) << s;

  const std::string normalised = "+84" + person.phone().substr(1);
  v1::StartActivationRequest start;
  start.set_request_id("start-" + person.phone());
  start.set_id_number(person.id_number());
  start.set_phone(person.phone());
  v1::StartActivationResponse started;
  s = Rpc(&v1::ActivationService::Stub::StartActivation, start, &started, false);
  EXPECT_TRUE(s.ok()) << s;
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started.activation_id());
  verify.set_code(LatestOtp(normalised, 2));  // The approval SMS, then the code.
  v1::VerifyActivationOtpResponse session;
  s = Rpc(&v1::ActivationService::Stub::VerifyActivationOtp, verify, &session, false);
  EXPECT_TRUE(s.ok()) << s;
  v1::SetPasscodeRequest passcode;
  passcode.set_activation_session_token(session.activation_session_token());
  passcode.set_passcode(kTestPasscode);
  v1::SetPasscodeResponse passcode_set;
  s = Rpc(&v1::ActivationService::Stub::SetPasscode, passcode, &passcode_set, false);
  EXPECT_TRUE(s.ok()) << s;
  v1::SetSecurityAnswersRequest answers;
  answers.set_activation_session_token(session.activation_session_token());
  for (const char* q : {"q_first_school", "q_favourite_dish", "q_home_village"}) {
    v1::SecurityAnswer& a = *answers.add_answers();
    a.set_question_id(q);
    a.set_answer("Hoa");
  }
  v1::SetSecurityAnswersResponse answered;
  s = Rpc(&v1::ActivationService::Stub::SetSecurityAnswers, answers, &answered, false);
  EXPECT_TRUE(s.ok()) << s;
  v1::ActivateDeviceRequest activate;
  activate.set_activation_session_token(session.activation_session_token());
  activate.set_device_id(device.device_id());
  activate.set_public_key(device.public_der());
  *activate.mutable_proof() =
      device.SignRequest("/eid.v1.ActivationService/ActivateDevice", activate);
  v1::ActivateDeviceResponse activated;
  s = Rpc(&v1::ActivationService::Stub::ActivateDevice, activate, &activated, false);
  EXPECT_TRUE(s.ok()) << s;
  return LogIn(*account_id, device);
}

std::string CitizenDriver::LogIn(const std::string& account_id, const TestDevice& device) {
  v1::CreateLoginChallengeRequest challenge_request;
  challenge_request.set_account_id(account_id);
  challenge_request.set_device_id(device.device_id());
  v1::CreateLoginChallengeResponse challenge;
  absl::Status s = Rpc(&v1::ActivationService::Stub::CreateLoginChallenge,
                       challenge_request, &challenge, false);
  EXPECT_TRUE(s.ok()) << s;
  v1::LoginRequest login;
  login.set_account_id(account_id);
  login.set_challenge_id(challenge.challenge_id());
  *login.mutable_device_signature() =
      device.Sign("/eid.v1.ActivationService/Login", challenge.challenge());
  login.set_passcode(kTestPasscode);
  v1::LoginResponse logged_in;
  s = Rpc(&v1::ActivationService::Stub::Login, login, &logged_in, false);
  EXPECT_TRUE(s.ok()) << s;
  return logged_in.session_token();
}

absl::Status CitizenDriver::GrantVerifierRole(const std::string& account_id) {
  v1::SetAccountRolesRequest r;
  r.set_account_id(account_id);
  r.add_roles()->set_role(v1::ROLE_VERIFIER);
  v1::SetAccountRolesResponse out;
  return Rpc(&v1::ActivationService::Stub::SetAccountRoles, r, &out, true);
}

absl::Status CitizenDriver::EnableQrVerification(const std::string& session,
                                                 const TestDevice& device) {
  v1::SetQrVerificationRequest r;
  r.set_enabled(true);
  *r.mutable_credentials() =
      Signed(session, device, "/eid.v1.ActivationService/SetQrVerification", r);
  v1::SetQrVerificationResponse out;
  return Rpc(&v1::ActivationService::Stub::SetQrVerification, r, &out, false);
}

absl::Status CitizenDriver::Revoke(const std::string& account_id) {
  v1::RevokeAccountRequest r;
  r.set_account_id(account_id);
  r.set_note("device reported stolen");
  v1::RevokeAccountResponse out;
  return Rpc(&v1::ActivationService::Stub::RevokeAccount, r, &out, true);
}

}  // namespace eid::testing
