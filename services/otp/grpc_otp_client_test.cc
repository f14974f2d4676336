#include "services/otp/grpc_otp_client.h"

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid::otp {
namespace {

// Answers CheckOtp from a script, recording whether the call was internal.
class FakeOtpService : public v1::OtpService::Service {
 public:
  explicit FakeOtpService(const InternalAuth& internal) : internal_(internal) {}
  grpc::Status CheckOtp(grpc::ServerContext* context, const v1::CheckOtpRequest* r,
                        v1::CheckOtpResponse* out) override {
    internal_call_ = internal_.IsInternal(*context);
    if (r->code() != "123456") {
      return ToGrpcStatus(Unauthenticated(v1::OTP_MISMATCH, "wrong code"));
    }
    out->set_account_id("acct");
    return grpc::Status::OK;
  }
  bool internal_call() const { return internal_call_; }

 private:
  const InternalAuth& internal_;
  bool internal_call_ = false;  // Calls are made one at a time here.
};

class GrpcOtpClientTest : public ::testing::Test {
 protected:
  GrpcOtpClientTest() : internal_(std::string(32, 't')), service_(internal_) {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~GrpcOtpClientTest() override { server_->Shutdown(); }

  InternalAuth internal_;
  FakeOtpService service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(GrpcOtpClientTest, CallsWithTheInternalTokenAndKeepsTheServersReason) {
  GrpcOtpClient client(
      [this] { return server_->InProcessChannel(grpc::ChannelArguments()); }, internal_);
  v1::CheckOtpRequest request;
  request.set_otp_id("otp-1");
  request.set_code("123456");
  absl::StatusOr<v1::CheckOtpResponse> ok = client.CheckOtp(request);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->account_id(), "acct");
  EXPECT_TRUE(service_.internal_call());

  request.set_code("654321");
  absl::StatusOr<v1::CheckOtpResponse> wrong = client.CheckOtp(request);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ReasonOf(wrong.status()), "OTP_MISMATCH");
}

TEST_F(GrpcOtpClientTest, NoChannelYetIsUnavailableAndRetriedOnTheNextCall) {
  bool up = false;
  GrpcOtpClient client(
      [&]() -> std::shared_ptr<grpc::Channel> {
        return up ? server_->InProcessChannel(grpc::ChannelArguments()) : nullptr;
      },
      internal_);
  v1::CheckOtpRequest request;
  request.set_otp_id("otp-1");
  request.set_code("123456");
  absl::StatusOr<v1::CheckOtpResponse> down = client.CheckOtp(request);
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(down.status()), "DEPENDENCY_UNAVAILABLE");
  up = true;
  EXPECT_TRUE(client.CheckOtp(request).ok());
}

}  // namespace
}  // namespace eid::otp
