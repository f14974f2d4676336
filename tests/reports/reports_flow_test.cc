// The report test: eidd with every role (a fake clock, SMS to the
// outbox file) and the real eidctl. `eidctl accounts import` registers a
// file with some bad rows; the test approves and activates a few accounts
// over gRPC; `eidctl reports counts` must show the exact figures and
// `eidctl reports not-activated --csv` the exact call list.

#include <fstream>

#include "absl/strings/str_cat.h"
#include "eid/v1/activation.grpc.pb.h"
#include "eid/v1/reports.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/activation/test_device.h"
#include "services/common/clock.h"
#include "services/common/internal_auth.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/eidd/eidd.h"
#include "tests/util/sms_outbox.h"
#include "tests/util/subprocess.h"

namespace eid {
namespace {

using activation::TestDevice;

// 9 data lines: 6 good rows (3 to approve), 2 the server refuses, 1 the file format does.
// Lâm Đồng (68): district 672 has An (approved), Bình (to approve), Cường
// (approved, to activate), Dũng (registered only); 673 has Em (approved).
// Hà Nội (01) 001 has Giang (registered).
constexpr char kFile[] =
    "level,id_number,full_name,date_of_birth,sex,phone,province,district,commune,"
    "org_units,approve\n"
    "1,068090000001,Nguyễn Văn An,17/05/1990,M,0910000001,68,672,24820,,1\n"
    "1,068190000002,Trần Thị Bình,02/03/1990,F,0910000002,68,672,24823,,0\n"
    "1,068090000003,Lê Văn Cường,17/05/1990,M,0910000003,68,672,24820,,1\n"
    "1,068090000004,Phạm Văn Dũng,17/05/1990,M,0910000004,68,672,24820,,\n"
    "1,099090000009,Võ Văn Sai,17/05/1990,M,0910000009,68,672,24820,,1\n"
    "1,068090000010,Đỗ Văn Số,17/05/1990,M,12345,68,672,24820,,1\n"
    "1,068090000005,Hoàng Văn Em,17/05/1990,M,0910000005,68,673,24900,,1\n"
    "1,068090000011,Bùi Văn Ngày,1990-05-17,M,0910000011,68,672,24820,,1\n"
    "1,001090000006,Vũ Văn Giang,17/05/1990,M,0910000006,01,001,00001,,0\n";

// `text` with each run of spaces made one space (the table's columns).
std::string Squeeze(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

class ReportsFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/reports-" + std::to_string(::getpid());
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
    server_ = absl::StrCat("127.0.0.1:", eidd_->grpc_port());
    channel_ = grpc::CreateChannel(server_, grpc::InsecureChannelCredentials());
    stub_ = v1::ActivationService::NewStub(channel_);
    internal_ = std::make_unique<InternalAuth>(*ReadSecretFile(dir_ + "/keys/internal_token"));
    outbox_ = std::make_unique<testing::SmsOutbox>(dir_ + "/sms-outbox.jsonl");
  }
  void TearDown() override { eidd_.reset(); }

  // Runs eidctl against the server with the operator's token; its stdout.
  int Eidctl(std::vector<std::string> args, std::string* out) {
    std::vector<std::string> argv = {testing::RunfilePath("tools/eidctl/eidctl"),
                                     "--server=" + server_,
                                     "--internal_token_file=" + dir_ + "/keys/internal_token"};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<int> code = testing::Run(argv, out, absl::Seconds(60));
    EXPECT_TRUE(code.ok()) << code.status();
    return code.ok() ? *code : -1;
  }

  template <typename Request, typename Response, typename Call>
  absl::Status Rpc(Call call, const Request& request, Response* response, bool internal) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (internal) internal_->Attach(context);
    return FromGrpcStatus(((*stub_).*call)(&context, request, response));
  }

  // The latest 6-digit code among the first `count` SMS to `phone` in the
  // outbox (delivery is asynchronous: waits up to 10 s).
  std::string LatestOtp(const std::string& phone, size_t count) {
    const std::vector<std::string> texts = outbox_->AwaitTexts(
        phone, count, absl::Seconds(10),
        [this] { clock_.Advance(absl::Milliseconds(100)); });  // A raced SMS retries later.
    return texts.size() < count ? "" : testing::CodeIn(texts.back());
  }

  std::string AccountIdOf(const std::string& id_number) {
    v1::GetAccountRequest get;
    get.set_id_number(id_number);
    v1::GetAccountResponse got;
    absl::Status s = Rpc(&v1::ActivationService::Stub::GetAccount, get, &got, true);
    EXPECT_TRUE(s.ok()) << s;
    return got.account().account_id();
  }

  // The five steps and a login for an approved account; the session token.
  std::string ActivateAndLogIn(const std::string& id_number, const std::string& phone,
                               const std::string& account_id) {
    TestDevice device("phone-" + id_number);
    v1::StartActivationRequest start;
    start.set_request_id("start-" + id_number);
    start.set_id_number(id_number);
    start.set_phone(phone);
    v1::StartActivationResponse started;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::StartActivation, start, &started, false).ok());
    v1::VerifyActivationOtpRequest verify;
    verify.set_activation_id(started.activation_id());
    verify.set_code(LatestOtp("+84" + phone.substr(1), 2));  // Approval, then OTP.
    v1::VerifyActivationOtpResponse session;
    EXPECT_TRUE(
        Rpc(&v1::ActivationService::Stub::VerifyActivationOtp, verify, &session, false).ok());
    v1::SetPasscodeRequest passcode;
    passcode.set_activation_session_token(session.activation_session_token());
    passcode.set_passcode("482913");
    v1::SetPasscodeResponse passcode_set;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::SetPasscode, passcode, &passcode_set, false).ok());
    v1::SetSecurityAnswersRequest answers;
    answers.set_activation_session_token(session.activation_session_token());
    for (const char* q : {"q_first_school", "q_favourite_dish", "q_home_village"}) {
      v1::SecurityAnswer& a = *answers.add_answers();
      a.set_question_id(q);
      a.set_answer("Hoa");
    }
    v1::SetSecurityAnswersResponse answered;
    EXPECT_TRUE(
        Rpc(&v1::ActivationService::Stub::SetSecurityAnswers, answers, &answered, false).ok());
    v1::ActivateDeviceRequest activate;
    activate.set_activation_session_token(session.activation_session_token());
    activate.set_device_id(device.device_id());
    activate.set_public_key(device.public_der());
    *activate.mutable_proof() =
        device.SignRequest("/eid.v1.ActivationService/ActivateDevice", activate);
    v1::ActivateDeviceResponse activated;
    absl::Status s = Rpc(&v1::ActivationService::Stub::ActivateDevice, activate, &activated, false);
    EXPECT_TRUE(s.ok()) << s;
    v1::CreateLoginChallengeRequest challenge_request;
    challenge_request.set_account_id(account_id);
    challenge_request.set_device_id(device.device_id());
    v1::CreateLoginChallengeResponse challenge;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::CreateLoginChallenge, challenge_request,
                    &challenge, false)
                    .ok());
    v1::LoginRequest login;
    login.set_account_id(account_id);
    login.set_challenge_id(challenge.challenge_id());
    *login.mutable_device_signature() =
        device.Sign("/eid.v1.ActivationService/Login", challenge.challenge());
    login.set_passcode("482913");
    v1::LoginResponse logged_in;
    EXPECT_TRUE(Rpc(&v1::ActivationService::Stub::Login, login, &logged_in, false).ok());
    return logged_in.session_token();
  }

  FakeClock clock_{absl::FromUnixSeconds(1772355600)};  // 2026-03-01 16:00 +07.
  std::string dir_;
  std::string server_;
  std::unique_ptr<Eidd> eidd_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ActivationService::Stub> stub_;
  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<testing::SmsOutbox> outbox_;
};

TEST_F(ReportsFlowTest, ImportActivateAndReport) {
  const std::string file = dir_ + "/registrations.csv";
  std::ofstream(file) << kFile;

  std::string out;
  EXPECT_EQ(Eidctl({"accounts", "import", file}, &out), 1) << out;  // Some rows failed.
  // Run() holds stdout and stderr: the progress line (not a terminal), then
  // the failures by line, then the summary.
  EXPECT_EQ(out.rfind("progress: 9/9 rows (100%), 3 failed\n"
                      "registrations.csv:6: ID_NUMBER_INVALID_PROVINCE: ",
                      0),
            0u)
      << out;
  EXPECT_NE(out.find("registrations.csv:7: PHONE_INVALID: "), std::string::npos) << out;
  EXPECT_NE(out.find("registrations.csv:9: FILE_FORMAT: date_of_birth must be DD/MM/YYYY, "
                     "not \"1990-05-17\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("9 rows: 6 created, 0 already registered, 3 approved, 3 failed\n"),
            std::string::npos)
      << out;

  // A rerun of the same file changes nothing (and says so, in JSON).
  EXPECT_EQ(Eidctl({"--json", "accounts", "import", file}, &out), 1);
  EXPECT_NE(out.find("\"rows\":9,\"received\":8,\"created\":0,\"already_registered\":6,"
                     "\"approved\":0,\"failed\":3,\"failures\":[{\"line\":6,"),
            std::string::npos)
      << out;

  // Rows naming Bình's and Dũng's ID numbers with other phones, one asking
  // to approve, one a level-2 intake that would upgrade: refused, and
  // neither account changes (the counts below).
  const std::string mismatch = dir_ + "/mismatch.csv";
  std::ofstream(mismatch) << "level,id_number,full_name,date_of_birth,sex,phone,province,"
                          "district,commune,org_units,approve,card_number,intake_office,"
                          "officer_id\n"
                          "1,068190000002,Trần Thị Bình,02/03/1990,F,0919999999,68,672,"
                          "24823,,1,,,\n"
                          "2,068090000004,Phạm Văn Dũng,17/05/1990,M,0919999998,68,672,"
                          "24820,,,068090000004,PC68,officer-1\n";
  EXPECT_EQ(Eidctl({"accounts", "import", mismatch}, &out), 1) << out;
  EXPECT_NE(out.find("mismatch.csv:2: ACCOUNT_DETAILS_MISMATCH: "), std::string::npos) << out;
  EXPECT_NE(out.find("mismatch.csv:3: ACCOUNT_DETAILS_MISMATCH: "), std::string::npos) << out;
  EXPECT_NE(out.find("2 rows: 0 created, 0 already registered, 0 approved, 2 failed\n"),
            std::string::npos)
      << out;

  // Bình is approved a minute later; Cường activates.
  clock_.Advance(absl::Minutes(1));
  v1::ApproveRegistrationRequest approve;
  approve.set_account_id(AccountIdOf("068190000002"));
  v1::ApproveRegistrationResponse approved;
  ASSERT_TRUE(
      Rpc(&v1::ActivationService::Stub::ApproveRegistration, approve, &approved, true).ok());
  const std::string cuong = AccountIdOf("068090000003");
  const std::string session = ActivateAndLogIn("068090000003", "0910000003", cuong);
  ASSERT_FALSE(session.empty());

  ASSERT_EQ(Eidctl({"--json", "reports", "counts", "--province=68"}, &out), 0) << out;
  const size_t rows = out.find(",\"rows\":");
  ASSERT_NE(rows, std::string::npos) << out;
  EXPECT_EQ(out.substr(rows),
            ",\"rows\":["
            "{\"label\":\"68/672\",\"registered\":4,\"approved\":3,\"activated\":1,"
            "\"awaiting_activation\":2,\"locked\":0,\"revoked\":0,"
            "\"activation_rate\":0.250000},"
            "{\"label\":\"68/673\",\"registered\":1,\"approved\":1,\"activated\":0,"
            "\"awaiting_activation\":1,\"locked\":0,\"revoked\":0,"
            "\"activation_rate\":0.000000}],"
            "\"total\":{\"label\":\"total\",\"registered\":5,\"approved\":4,\"activated\":1,"
            "\"awaiting_activation\":3,\"locked\":0,\"revoked\":0,"
            "\"activation_rate\":0.200000}}\n");

  ASSERT_EQ(Eidctl({"reports", "counts"}, &out), 0) << out;
  const std::string table = Squeeze(out);
  EXPECT_NE(table.find("\n01 Hà Nội 1 0 0 0 0 0 0.0%\n68 Lâm Đồng 5 4 1 3 0 0 20.0%\n"
                       "TOTAL 6 4 1 3 0 0 16.7%\n"),
            std::string::npos)
      << out;

  ASSERT_EQ(Eidctl({"reports", "not-activated", "--province=68", "--district=672", "--csv"},
                   &out),
            0);
  EXPECT_EQ(out,
            "\xEF\xBB\xBF"
            "stt,masked_id_number,full_name,date_of_birth,phone,level,province,district,"
            "commune,approved_at\r\n"
            "1,068******001,Nguyễn Văn An,17/05/1990,+84910000001,1,68,672,24820,"
            "2026-03-01T16:00:00+07:00\r\n"
            "2,068******002,Trần Thị Bình,02/03/1990,+84910000002,1,68,672,24823,"
            "2026-03-01T16:01:00+07:00\r\n");

  // Officials come through their session: a bad one is refused, and a
  // citizen's session holds no ROLE_REPORT_VIEWER.
  auto reports = v1::ReportsService::NewStub(channel_);
  v1::CountAccountsRequest count;
  count.mutable_credentials()->set_session_token("not-a-session");
  v1::CountAccountsResponse counted;
  grpc::ClientContext bad_session;
  absl::Status s = FromGrpcStatus(reports->CountAccounts(&bad_session, count, &counted));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
  EXPECT_EQ(ReasonOf(s), "SESSION_INVALID");
  count.mutable_credentials()->set_session_token(session);
  grpc::ClientContext citizen;
  s = FromGrpcStatus(reports->CountAccounts(&citizen, count, &counted));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_EQ(ReasonOf(s), "ROLE_REQUIRED");

  // Cường becomes the report viewer of district 672: his session now reads
  // that district (narrowed to it when he asks for the country), not 673.
  v1::SetAccountRolesRequest grant;
  grant.set_account_id(cuong);
  v1::RoleGrant& viewer = *grant.add_roles();
  viewer.set_role(v1::ROLE_REPORT_VIEWER);
  viewer.mutable_locality_scope()->set_province_code("68");
  viewer.mutable_locality_scope()->set_district_code("672");
  v1::SetAccountRolesResponse granted;
  ASSERT_TRUE(Rpc(&v1::ActivationService::Stub::SetAccountRoles, grant, &granted, true).ok());
  grpc::ClientContext official;
  s = FromGrpcStatus(reports->CountAccounts(&official, count, &counted));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(counted.total().registered(), 4u);
  EXPECT_EQ(counted.total().activated(), 1u);
  v1::ListNotActivatedRequest other;
  *other.mutable_credentials() = count.credentials();
  other.mutable_locality()->set_province_code("68");
  other.mutable_locality()->set_district_code("673");
  v1::ListNotActivatedResponse listed;
  grpc::ClientContext outside;
  s = FromGrpcStatus(reports->ListNotActivated(&outside, other, &listed));
  EXPECT_EQ(ReasonOf(s), "SCOPE_EXCEEDED") << s;
}

}  // namespace
}  // namespace eid
