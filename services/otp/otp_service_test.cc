#include "services/otp/otp_service.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "grpcpp/create_channel.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/status.h"
#include "services/otp/otp_testing.h"
#include "tests/util/metric_value.h"

namespace eid::otp {
namespace {

using ::eid::testing::MetricValue;

// The service made by Create (outbox transport, sender thread running),
// served over loopback gRPC.
class OtpServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kv_ = testing::OpenStore("svc", clock_);
    OtpServiceImpl::Options options;
    options.engine.pepper_file = testing::PepperFile("pepper");
    outbox_ = testing::FreshDir("outbox") + "/sms.jsonl";
    options.outbox_path = outbox_;
    options.queue.poll_interval = absl::Milliseconds(20);
    auto service = OtpServiceImpl::Create(
        options, *kv_, clock_, SystemRandom::Get(),
        [](const std::string& account) -> absl::StatusOr<v1::AccountState> {
          return account == "revoked" ? v1::ACCOUNT_STATE_REVOKED
                                      : v1::ACCOUNT_STATE_APPROVED;
        },
        metrics_);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::OtpService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::string Outbox() {
    std::ifstream in(outbox_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  FakeClock clock_{absl::FromUnixSeconds(1735700000)};
  std::unique_ptr<storage::RocksDbKvStore> kv_;
  prometheus::Registry metrics_;
  std::string outbox_;
  std::unique_ptr<OtpServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::OtpService::Stub> stub_;
};

TEST_F(OtpServiceTest, ACodeTravelsThroughTheOutboxAndIsCheckedOverGrpc) {
  v1::SendOtpRequest send;
  send.set_request_id("r1");
  send.set_account_id("acc1");
  send.set_phone("0912345678");
  send.set_purpose(v1::OTP_PURPOSE_ACTIVATION);
  v1::SendOtpResponse sent;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->SendOtp(&c1, send, &sent).ok());
  EXPECT_FALSE(sent.replayed());
  {
    v1::SendOtpResponse again;  // A retry: the same answer, nothing sent.
    grpc::ClientContext retry;
    ASSERT_TRUE(stub_->SendOtp(&retry, send, &again).ok());
    EXPECT_TRUE(again.replayed());
    EXPECT_EQ(again.otp_id(), sent.otp_id());
  }

  // The sender thread writes the SMS to the outbox (real time: the thread).
  std::string outbox;
  for (int i = 0;
       i < 500 && outbox.find(sent.message_id()) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    clock_.Advance(absl::Milliseconds(100));  // The queue's rechecks are timed.
    outbox = Outbox();
  }
  const size_t at = outbox.find("cua ban la ");
  ASSERT_NE(at, std::string::npos) << outbox;
  EXPECT_NE(outbox.find("\"to\":\"+84912345678\""), std::string::npos);
  const std::string code = outbox.substr(at + 11, 6);

  v1::CheckOtpRequest check;
  check.set_otp_id(sent.otp_id());
  check.set_code(code == "000000" ? "111111" : "000000");
  v1::CheckOtpResponse checked;
  grpc::ClientContext c2;
  const absl::Status wrong =
      FromGrpcStatus(stub_->CheckOtp(&c2, check, &checked));
  EXPECT_EQ(wrong.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ReasonOf(wrong), "OTP_MISMATCH");
  EXPECT_EQ(MetadataOf(wrong, "remaining_attempts"), "4");

  check.set_code(code);
  grpc::ClientContext c3;
  ASSERT_TRUE(stub_->CheckOtp(&c3, check, &checked).ok());
  EXPECT_EQ(checked.account_id(), "acc1");

  v1::GetDeliveryStatusRequest status;
  status.set_message_id(sent.message_id());
  v1::GetDeliveryStatusResponse delivery;
  // The queue's thread records SENT just after the outbox line is written.
  for (int i = 0; i < 500 && delivery.state() != v1::DELIVERY_STATE_SENT; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    grpc::ClientContext c4;
    ASSERT_TRUE(stub_->GetDeliveryStatus(&c4, status, &delivery).ok());
  }
  EXPECT_EQ(delivery.state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(delivery.transport(), "outbox");
  EXPECT_EQ(delivery.masked_phone(), "+84******678");

  EXPECT_EQ(MetricValue(metrics_, "otp_sent_total", "activation"), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_checks_total", "mismatch"), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_checks_total", "ok"), 1);
  EXPECT_EQ(MetricValue(metrics_, "otp_sms_sent_total", "outbox"), 1);
}

TEST_F(OtpServiceTest, ErrorsCarryTheirReasonToTheClient) {
  v1::SendOtpRequest send;
  send.set_request_id("r1");
  send.set_account_id("revoked");
  send.set_phone("0912345678");
  send.set_purpose(v1::OTP_PURPOSE_ACTIVATION);
  v1::SendOtpResponse sent;
  grpc::ClientContext c1;
  absl::Status s = FromGrpcStatus(stub_->SendOtp(&c1, send, &sent));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(s), "ACCOUNT_REVOKED");

  send.set_phone("+1 555 0100");
  grpc::ClientContext c2;
  s = FromGrpcStatus(stub_->SendOtp(&c2, send, &sent));
  EXPECT_EQ(ReasonOf(s), "PHONE_INVALID");
  EXPECT_EQ(MetadataOf(s, "field"), "phone");

  v1::GetDeliveryStatusRequest status;
  status.set_message_id("m0-00000000000000000000000000000000");
  v1::GetDeliveryStatusResponse delivery;
  grpc::ClientContext c3;
  s = FromGrpcStatus(stub_->GetDeliveryStatus(&c3, status, &delivery));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReasonOf(s), "MESSAGE_NOT_FOUND");
}

TEST(OtpServiceCreateTest, AnUnknownTransportIsRefused) {
  FakeClock clock;
  auto kv = testing::OpenStore("create", clock);
  prometheus::Registry metrics;
  OtpServiceImpl::Options options;
  options.engine.pepper_file = testing::PepperFile("pepper");
  options.transport = "pigeon";
  auto service = OtpServiceImpl::Create(
      options, *kv, clock, SystemRandom::Get(),
      [](const std::string&) { return v1::ACCOUNT_STATE_APPROVED; }, metrics);
  EXPECT_EQ(service.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace eid::otp
