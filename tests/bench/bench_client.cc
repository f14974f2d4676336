#include "tests/bench/bench_client.h"

#include <chrono>
#include <functional>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "services/common/status.h"

namespace eid::bench {
namespace {

constexpr char kActivateMethod[] = "/eid.v1.ActivationService/ActivateDevice";
constexpr char kLoginMethod[] = "/eid.v1.ActivationService/Login";

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

// Wraps a failed call with what was being done.
absl::Status Named(absl::string_view what, const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  const absl::Status status = FromGrpcStatus(s);
  absl::Status named(status.code(), absl::StrCat(what, ": ", status.message()));
  // Keeps the ErrorInfo (its reason) the server sent.
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    named.SetPayload(url, payload);
  });
  return named;
}

// Runs `call` again while it answers ABORTED (a compare-and-swap lost to a
// concurrent writer: retry the transaction), a few times.
absl::Status RetryAborted(const std::function<absl::Status()>& call) {
  absl::Status s;
  for (int attempt = 0; attempt < 8; ++attempt) {
    s = call();
    if (s.code() != absl::StatusCode::kAborted) return s;
  }
  return s;
}

}  // namespace

Citizen::Citizen(int serial)
    // 001 Hà Nội, 0 = 1900s male, born (19)90, then the serial.
    : id_number(absl::StrFormat("001090%06d", serial)),
      phone(absl::StrFormat("091%07d", serial)),
      normalised_phone(absl::StrFormat("+8491%07d", serial)) {}

BenchClient::BenchClient(const std::string& address, const std::string& internal_token,
                         testing::SmsOutbox& outbox)
    : internal_(internal_token), outbox_(outbox) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // A connection of its own.
  channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  activation_ = v1::ActivationService::NewStub(channel_);
  otp_ = v1::OtpService::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(channel_);
}

absl::Status BenchClient::Connect(absl::Duration timeout) {
  if (channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout))) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("no connection to eidd within ", absl::FormatDuration(timeout)));
}

absl::Status BenchClient::RegisterAndApprove(Citizen& citizen) {
  v1::RegisterLevel2Request reg;
  reg.set_request_id(absl::StrCat("reg-", citizen.phone));
  v1::PersonalDetails& p = *reg.mutable_person();
  p.set_id_number(citizen.id_number);
  p.set_phone(citizen.phone);
  p.set_full_name("Nguyễn Văn An");
  p.mutable_date_of_birth()->set_year(1990);
  p.mutable_date_of_birth()->set_month(5);
  p.mutable_date_of_birth()->set_day(17);
  p.set_sex(v1::SEX_MALE);
  p.mutable_locality()->set_province_code("01");
  p.mutable_locality()->set_district_code("001");
  reg.mutable_intake()->set_card_number(citizen.id_number);
  reg.mutable_intake()->mutable_intake_office()->set_kind(v1::ORG_UNIT_KIND_POLICE_OFFICE);
  reg.mutable_intake()->mutable_intake_office()->set_code("CA-HN-001");
  reg.mutable_intake()->set_officer_id("CB-0042");
  v1::RegisterLevel2Response registered;
  absl::Status s = RetryAborted([&] {
    grpc::ClientContext context;
    SetDeadline(context);
    internal_.Attach(context);
    return Named("RegisterLevel2", activation_->RegisterLevel2(&context, reg, &registered));
  });
  if (!s.ok()) return s;
  citizen.account_id = registered.account().account_id();
  v1::ApproveRegistrationRequest approve;
  approve.set_account_id(citizen.account_id);
  v1::ApproveRegistrationResponse approved;
  return RetryAborted([&] {
    grpc::ClientContext context;
    SetDeadline(context);
    internal_.Attach(context);
    return Named("ApproveRegistration",
                 activation_->ApproveRegistration(&context, approve, &approved));
  });
}

absl::Status BenchClient::Activate(Citizen& citizen) {
  v1::StartActivationRequest start;
  start.set_request_id("start-" + citizen.phone);
  start.set_id_number(citizen.id_number);
  start.set_phone(citizen.phone);
  v1::StartActivationResponse started;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    absl::Status s = Named("StartActivation",
                           activation_->StartActivation(&context, start, &started));
    if (!s.ok()) return s;
  }
  absl::StatusOr<std::string> code =
      outbox_.WaitForCode(citizen.normalised_phone, 1, absl::Seconds(30));
  if (!code.ok()) return code.status();
  v1::VerifyActivationOtpRequest verify;
  verify.set_activation_id(started.activation_id());
  verify.set_code(*code);
  v1::VerifyActivationOtpResponse session;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    absl::Status s = Named("VerifyActivationOtp",
                           activation_->VerifyActivationOtp(&context, verify, &session));
    if (!s.ok()) return s;
  }
  v1::SetPasscodeRequest passcode;
  passcode.set_activation_session_token(session.activation_session_token());
  passcode.set_passcode(kPasscode);
  v1::SetPasscodeResponse passcode_set;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    absl::Status s =
        Named("SetPasscode", activation_->SetPasscode(&context, passcode, &passcode_set));
    if (!s.ok()) return s;
  }
  v1::SetSecurityAnswersRequest answers;
  answers.set_activation_session_token(session.activation_session_token());
  for (const char* q : {"q_first_school", "q_favourite_dish", "q_home_village"}) {
    v1::SecurityAnswer& a = *answers.add_answers();
    a.set_question_id(q);
    a.set_answer("Hoa");
  }
  v1::SetSecurityAnswersResponse answered;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    absl::Status s = Named("SetSecurityAnswers",
                           activation_->SetSecurityAnswers(&context, answers, &answered));
    if (!s.ok()) return s;
  }
  citizen.device = std::make_unique<activation::TestDevice>("phone-" + citizen.phone);
  v1::ActivateDeviceRequest activate;
  activate.set_activation_session_token(session.activation_session_token());
  activate.set_device_id(citizen.device->device_id());
  activate.set_public_key(citizen.device->public_der());
  *activate.mutable_proof() = citizen.device->SignRequest(kActivateMethod, activate);
  v1::ActivateDeviceResponse activated;
  grpc::ClientContext context;
  SetDeadline(context);
  return Named("ActivateDevice", activation_->ActivateDevice(&context, activate, &activated));
}

absl::Status BenchClient::LogIn(const Citizen& citizen, absl::string_view passcode) {
  v1::CreateLoginChallengeRequest challenge_request;
  challenge_request.set_account_id(citizen.account_id);
  challenge_request.set_device_id(citizen.device->device_id());
  v1::CreateLoginChallengeResponse challenge;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    absl::Status s =
        Named("CreateLoginChallenge",
              activation_->CreateLoginChallenge(&context, challenge_request, &challenge));
    if (!s.ok()) return s;
  }
  v1::LoginRequest login;
  login.set_account_id(citizen.account_id);
  login.set_challenge_id(challenge.challenge_id());
  *login.mutable_device_signature() = citizen.device->Sign(kLoginMethod, challenge.challenge());
  login.set_passcode(std::string(passcode));
  v1::LoginResponse logged_in;
  grpc::ClientContext context;
  SetDeadline(context);
  return Named("Login", activation_->Login(&context, login, &logged_in));
}

absl::StatusOr<std::string> BenchClient::SendOtp(const Citizen& citizen,
                                                 const std::string& request_id) {
  v1::SendOtpRequest request;
  request.set_request_id(request_id);
  request.set_account_id(citizen.account_id);
  request.set_phone(citizen.phone);
  request.set_purpose(v1::OTP_PURPOSE_ACTIVATION);
  v1::SendOtpResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  internal_.Attach(context);
  absl::Status s = Named("SendOtp", otp_->SendOtp(&context, request, &response));
  if (!s.ok()) return s;
  return response.otp_id();
}

absl::Status BenchClient::CheckOtp(const std::string& otp_id, const std::string& code) {
  v1::CheckOtpRequest request;
  request.set_otp_id(otp_id);
  request.set_code(code);
  v1::CheckOtpResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  internal_.Attach(context);
  return Named("CheckOtp", otp_->CheckOtp(&context, request, &response));
}

absl::Status BenchClient::HealthCheck() {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  return Named("Health.Check", health_->Check(&context, request, &response));
}

}  // namespace eid::bench
