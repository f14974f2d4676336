#include "services/common/method_policy.h"

#include "eid/v1/activation.grpc.pb.h"
#include "eid/v1/audit.grpc.pb.h"
#include "eid/v1/otp.grpc.pb.h"
#include "eid/v1/qr.grpc.pb.h"
#include "eid/v1/reports.grpc.pb.h"
#include "eid/v1/storage.grpc.pb.h"
#include "eid/v1/verification.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eid {
namespace {

const MethodPolicy& Policy() { return MethodPolicy::Default(); }

bool Allowed(const std::string& identity, const std::string& method) {
  return Policy().Check({identity}, method).ok();
}

TEST(MethodPolicyTest, EveryMethodOfEveryEidServiceHasARule) {
  for (const char* name : {"eid.v1.ShardService", "eid.v1.AuditService", "eid.v1.OtpService",
                           "eid.v1.ActivationService", "eid.v1.QrService",
                           "eid.v1.VerificationService", "eid.v1.ReportsService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method = "/" + service->full_name() + "/" + service->method(i)->name();
      EXPECT_TRUE(Policy().Names(method)) << method;
    }
  }
}

TEST(MethodPolicyTest, OnlyVerificationMayUseTheReplayGuard) {
  for (const char* method : {"/eid.v1.ShardService/CheckAndRecord",
                             "/eid.v1.ShardService/CheckAndRecordBatch"}) {
    EXPECT_TRUE(Allowed("verification", method));
    for (const char* other : {"otp", "activation", "qr", "reports", "client", "operator"}) {
      EXPECT_FALSE(Allowed(other, method)) << other << " " << method;
    }
  }
  EXPECT_TRUE(Allowed("otp", "/eid.v1.ShardService/Batch"));
  EXPECT_TRUE(Allowed("operator", "/eid.v1.ShardService/GetShardInfo"));
  EXPECT_FALSE(Allowed("operator", "/eid.v1.ShardService/Put"));
}

TEST(MethodPolicyTest, OnlyActivationMayAskOtpToSend) {
  for (const char* method : {"/eid.v1.OtpService/SendOtp", "/eid.v1.OtpService/CheckOtp",
                             "/eid.v1.OtpService/SendNotice"}) {
    EXPECT_TRUE(Allowed("activation", method));
    for (const char* other : {"verification", "qr", "client", "operator", "audit"}) {
      EXPECT_FALSE(Allowed(other, method)) << other << " " << method;
    }
  }
}

TEST(MethodPolicyTest, ClientsReachCitizenFacingMethodsOnly) {
  EXPECT_TRUE(Allowed("client", "/eid.v1.ActivationService/StartActivation"));
  EXPECT_TRUE(Allowed("client", "/eid.v1.QrService/IssueQr"));
  EXPECT_TRUE(Allowed("client", "/eid.v1.VerificationService/VerifyQr"));
  EXPECT_TRUE(Allowed("client", "/eid.v1.AuditService/GetCitizenHistory"));
  EXPECT_TRUE(Allowed("client", "/grpc.health.v1.Health/Check"));
  EXPECT_FALSE(Allowed("client", "/eid.v1.ActivationService/AuthenticateSession"));
  EXPECT_FALSE(Allowed("client", "/eid.v1.AuditService/Append"));
  EXPECT_FALSE(Allowed("client", "/eid.v1.VerificationService/IntegrateDocument"));
  EXPECT_TRUE(Allowed("agency", "/eid.v1.VerificationService/IntegrateDocument"));
}

TEST(MethodPolicyTest, AnUnlistedMethodIsClosedToEveryone) {
  absl::Status s = Policy().Check({"operator"}, "/eid.v1.NewService/Anything");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ReasonOf(s), "CALLER_NOT_ALLOWED");
  EXPECT_FALSE(Policy().Names("/eid.v1.NewService/Anything"));
  EXPECT_FALSE(Allowed("operator", ""));
}

TEST(MethodPolicyTest, NoIdentityIsUnauthenticated) {
  absl::Status s = Policy().Check({}, "/grpc.health.v1.Health/Check");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ReasonOf(s), "CALLER_IDENTITY_MISSING");
}

TEST(MethodPolicyTest, AnyOfSeveralIdentitiesSuffices) {
  EXPECT_TRUE(Policy().Check({"otp", "verification"}, "/eid.v1.ShardService/CheckAndRecord").ok());
  EXPECT_FALSE(Policy().Check({"otp", "qr"}, "/eid.v1.ShardService/CheckAndRecord").ok());
}

TEST(MethodPolicyTest, ExactRuleWinsOverTheServiceRule) {
  MethodPolicy policy({{"/s.S/*", {"a"}}, {"/s.S/M", {"b"}}});
  EXPECT_TRUE(policy.Check({"b"}, "/s.S/M").ok());
  EXPECT_FALSE(policy.Check({"a"}, "/s.S/M").ok());
  EXPECT_TRUE(policy.Check({"a"}, "/s.S/Other").ok());
}

}  // namespace
}  // namespace eid
