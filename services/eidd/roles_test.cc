#include "services/eidd/roles.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eid {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Names(const std::vector<const Role*>& roles) {
  std::vector<std::string> names;
  for (const Role* r : roles) names.emplace_back(r->name);
  return names;
}

TEST(RolesTest, EveryRoleNeedsOnlyRolesStartedBeforeIt) {
  std::vector<absl::string_view> started;
  for (const Role& role : AllRoles()) {
    for (absl::string_view need : role.needs) {
      EXPECT_NE(std::find(started.begin(), started.end(), need), started.end())
          << role.name << " needs " << need << " which starts later";
    }
    started.push_back(role.name);
  }
}

TEST(RolesTest, AllMeansEveryRoleInStartOrder) {
  auto roles = ParseServices("all");
  ASSERT_TRUE(roles.ok());
  EXPECT_EQ(Names(*roles),
            (std::vector<std::string>{"shard", "audit", "otp", "activation",
                                      "qr", "verification", "reports"}));
}

TEST(RolesTest, AListComesBackInStartOrderWithoutDuplicates) {
  auto roles = ParseServices("verification, shard,verification");
  ASSERT_TRUE(roles.ok());
  EXPECT_EQ(Names(*roles), (std::vector<std::string>{"shard", "verification"}));
}

TEST(RolesTest, UnknownOrEmptyIsAClearError) {
  auto unknown = ParseServices("shard,bogus");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("\"bogus\""));
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("activation"));
  EXPECT_EQ(ParseServices(" , ").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RolesTest, ARoleReadsOnlyTheSecretsItDeclares) {
  RoleContext ctx{"/data", "/keys"};
  ctx.secrets = {"otp_pepper"};
  absl::StatusOr<std::string> declared = SecretPath(ctx, "otp_pepper");
  ASSERT_TRUE(declared.ok()) << declared.status();
  EXPECT_EQ(*declared, "/keys/otp_pepper");
  absl::StatusOr<std::string> undeclared = Secret(ctx, "qr_signing_seed");
  EXPECT_EQ(undeclared.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(undeclared.status().message()), HasSubstr("qr_signing_seed"));
}

}  // namespace
}  // namespace eid
