#include "services/common/method_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"

namespace eid {
namespace {

// Roles that keep state in the shards (storage's callers).
#define EID_STORAGE_USERS "otp", "activation", "qr", "verification", "reports"
// Roles that record audit events.
#define EID_AUDITED "otp", "activation", "qr", "verification", "reports"

// The table. Order is for the reader: by service, exact methods first.
const std::vector<MethodPolicy::Rule>& Table() {
  static const auto* const rules = new std::vector<MethodPolicy::Rule>{
      // Probes and tooling: any identity may ask for health; reflection
      // (schema browsing) is for operators.
      {"/grpc.health.v1.Health/*", {"any"}},
      {"/grpc.reflection.v1alpha.ServerReflection/*", {"operator"}},

      // Storage. The replay guard belongs to verification alone: no other
      // caller can burn a citizen's QR nonce.
      {"/eid.v1.ShardService/CheckAndRecord", {"verification"}},
      {"/eid.v1.ShardService/CheckAndRecordBatch", {"verification"}},
      {"/eid.v1.ShardService/GetShardInfo", {EID_STORAGE_USERS, "operator"}},
      {"/eid.v1.ShardService/*", {EID_STORAGE_USERS}},

      // Audit: services append; citizens read their history through the
      // gateway; auditors (sessions with ROLE_AUDITOR, or operators with the
      // internal token) query, export and re-check; proofs are public.
      {"/eid.v1.AuditService/Append", {EID_AUDITED}},
      {"/eid.v1.AuditService/GetCitizenHistory", {"client"}},
      {"/eid.v1.AuditService/Query", {"client", "operator"}},
      {"/eid.v1.AuditService/ExportEvents", {"client", "operator"}},
      {"/eid.v1.AuditService/ReadLeaves", {"client", "operator"}},
      {"/eid.v1.AuditService/*", {"any"}},

      // OTP: only activation asks for codes and notices.
      {"/eid.v1.OtpService/GetDeliveryStatus", {"activation", "operator"}},
      {"/eid.v1.OtpService/*", {"activation"}},

      // Activation: the app's and officials' methods through the gateway;
      // bulk imports from operators; session checks for the other roles.
      {"/eid.v1.ActivationService/AuthenticateSession",
       {"audit", "qr", "verification", "reports"}},
      {"/eid.v1.ActivationService/AuthenticateSessionBatch",
       {"audit", "qr", "verification", "reports"}},
      {"/eid.v1.ActivationService/ImportRegistrations", {"operator"}},
      {"/eid.v1.ActivationService/GetAccount",
       {"client", "operator", "qr", "verification", "reports"}},
      {"/eid.v1.ActivationService/*", {"client", "operator"}},

      // QR: citizens issue; the verification keys are public.
      {"/eid.v1.QrService/GetVerificationKeys", {"any"}},
      {"/eid.v1.QrService/IssueQr", {"client"}},

      // Verification: agencies put documents in wallets; the rest is the
      // app's (citizens and verifying officials).
      {"/eid.v1.VerificationService/IntegrateDocument", {"agency"}},
      {"/eid.v1.VerificationService/WithdrawDocument", {"agency"}},
      {"/eid.v1.VerificationService/*", {"client"}},

      // Reports: officials through the portals, operators.
      {"/eid.v1.ReportsService/*", {"client", "operator"}},
  };
  return *rules;
}

#undef EID_STORAGE_USERS
#undef EID_AUDITED

// "/pkg.Service/Method" -> "/pkg.Service/*".
std::string ServiceWildcard(absl::string_view full_method) {
  const size_t slash = full_method.rfind('/');
  if (slash == absl::string_view::npos || slash == 0) return "";
  return absl::StrCat(full_method.substr(0, slash), "/*");
}

}  // namespace

const MethodPolicy& MethodPolicy::Default() {
  static const auto* const policy = new MethodPolicy(Table());
  return *policy;
}

MethodPolicy::MethodPolicy(const std::vector<Rule>& rules) : rules_(rules) {
  for (const Rule& rule : rules_) {
    auto& callers = allowed_[std::string(rule.method)];
    for (absl::string_view caller : rule.callers) callers.insert(std::string(caller));
  }
}

bool MethodPolicy::Names(absl::string_view full_method) const {
  return allowed_.contains(full_method) || allowed_.contains(ServiceWildcard(full_method));
}

absl::Status MethodPolicy::Check(const std::vector<std::string>& identities,
                                 absl::string_view full_method) const {
  if (identities.empty()) {
    return Unauthenticated(v1::CALLER_IDENTITY_MISSING,
                           "the caller's certificate names no eid identity");
  }
  auto rule = allowed_.find(full_method);
  if (rule == allowed_.end()) rule = allowed_.find(ServiceWildcard(full_method));
  if (rule != allowed_.end()) {
    if (rule->second.contains("any")) return absl::OkStatus();
    for (const std::string& identity : identities) {
      if (rule->second.contains(identity)) return absl::OkStatus();
    }
  }
  return PermissionDenied(
      v1::CALLER_NOT_ALLOWED,
      absl::StrCat(absl::StrJoin(identities, ","), " may not call ", full_method));
}

}  // namespace eid
