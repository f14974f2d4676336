#include "services/common/status.h"

#include "gtest/gtest.h"

namespace eid {
namespace {

TEST(StatusTest, ErrorCarriesCodeReasonAndMessage) {
  const absl::Status s = InvalidArgument(v1::PHONE_INVALID, "bad phone");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad phone");
  EXPECT_EQ(ReasonOf(s), "PHONE_INVALID");
}

TEST(StatusTest, PlainStatusHasNoReason) {
  EXPECT_EQ(ReasonOf(absl::InternalError("x")), "");
  EXPECT_EQ(ReasonOf(absl::OkStatus()), "");
}

TEST(StatusTest, ToGrpcPutsTheReasonInTheDetails) {
  const grpc::Status g =
      ToGrpcStatus(FailedPrecondition(v1::OTP_EXPIRED, "code expired"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(g.error_message(), "code expired");
  v1::StatusDetails details;
  ASSERT_TRUE(details.ParseFromString(g.error_details()));
  EXPECT_EQ(details.code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(details.details_size(), 1);
  v1::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "OTP_EXPIRED");
  EXPECT_EQ(info.domain(), "eid.v1");
}

TEST(StatusTest, RoundTripKeepsCodeMessageAndReason) {
  const absl::Status original =
      ResourceExhausted(v1::OTP_DAILY_CAP, "too many codes today");
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), original.code());
  EXPECT_EQ(back.message(), original.message());
  EXPECT_EQ(ReasonOf(back), "OTP_DAILY_CAP");
}

TEST(StatusTest, OkAndReasonlessErrorsMapByCode) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  const grpc::Status g = ToGrpcStatus(absl::UnavailableError("down"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(g.error_details().empty());
  EXPECT_EQ(FromGrpcStatus(g).code(), absl::StatusCode::kUnavailable);
}

TEST(StatusTest, WithContextKeepsCodeAndReason) {
  const absl::Status s =
      WithContext(InvalidArgument(v1::NONCE_INVALID, "16 bytes"), "checks[3]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "checks[3]: 16 bytes");
  EXPECT_EQ(ReasonOf(s), "NONCE_INVALID");
}

TEST(StatusTest, MetadataTravelsToTheClient) {
  const absl::Status s = WithMetadata(
      Aborted(v1::VERSION_MISMATCH, "stale version"), "actual_version", "7");
  const grpc::Status g = ToGrpcStatus(s);
  v1::StatusDetails details;
  ASSERT_TRUE(details.ParseFromString(g.error_details()));
  v1::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.metadata().at("actual_version"), "7");
  EXPECT_EQ(ReasonOf(FromGrpcStatus(g)), "VERSION_MISMATCH");
}

TEST(StatusTest, StatusDetailsRoundTripKeepsEverything) {
  const absl::Status s =
      WithMetadata(Unauthenticated(v1::SESSION_EXPIRED, "session expired"), "index", "3");
  const v1::StatusDetails details = ToStatusDetails(s);
  EXPECT_EQ(details.code(), static_cast<int>(absl::StatusCode::kUnauthenticated));
  const absl::Status back = FromStatusDetails(details);
  EXPECT_EQ(back.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(back.message(), "session expired");
  EXPECT_EQ(ReasonOf(back), "SESSION_EXPIRED");
  EXPECT_EQ(back, s);
  EXPECT_TRUE(FromStatusDetails(ToStatusDetails(absl::OkStatus())).ok());
  EXPECT_EQ(FromStatusDetails(ToStatusDetails(absl::InternalError("x"))),
            absl::InternalError("x"));
}

TEST(StatusTest, GarbageDetailsAreIgnored) {
  const absl::Status s = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::INTERNAL, "x", "\xff\xff not a proto"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ReasonOf(s), "");
}

}  // namespace
}  // namespace eid
