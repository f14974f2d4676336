// Verifier: the core of VerificationService.VerifyQr. An official (level 2,
// ROLE_VERIFIER, valid session, device-signed request) scans a token; the
// checks run in the order of verification.proto, the first failure giving
// the verdict:
//   MALFORMED -> UNKNOWN_KEY -> FORGED -> EXPIRED / NOT_YET_VALID (skew)
//   -> REPLAYED (replay guard on the shard owning the nonce)
//   -> REVOKED / LOCKED / DEVICE_REPLACED (the account on the shards)
//   -> GENUINE, with the identity summary and a verification the citizen
//      may share wallet documents with until the share deadline.
// Never GENUINE without FIRST from the replay guard; a guard that cannot be
// reached fails the call (UNAVAILABLE). A token the guard FENCED (its shard
// restarted during the token's life) is EXPIRED: the citizen makes a new one.
//
// Every verdict is audited ("verification.verdict", verifier as actor, the
// citizen as subject once the signature proved whose token it is) and
// counted:
//   eid_verification_verdicts_total{verdict="genuine"|"replayed"|...}
//   eid_verification_replay_fenced_total
//
// Thread-safe.
#ifndef EID_SERVICES_VERIFICATION_VERIFIER_H_
#define EID_SERVICES_VERIFICATION_VERIFIER_H_

#include <array>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "eid/internal/records.pb.h"
#include "eid/v1/verification.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/activation/session_client.h"
#include "services/audit/audit_client.h"
#include "services/common/clock.h"
#include "services/common/random.h"
#include "services/qr/token/qr_token.h"
#include "services/verification/verification_key_cache.h"
#include "services/verification/verification_store.h"
#include "storage/replay/replay_guard.h"

namespace eid::verification {

inline constexpr char kVerifyQrMethod[] = "/eid.v1.VerificationService/VerifyQr";

// The account a token names, as stored by activation. NOT_FOUND
// (ACCOUNT_NOT_FOUND) if there is none.
using AccountLookup =
    std::function<absl::StatusOr<internal::AccountRecord>(const std::string& account_id)>;

struct VerifierOptions {
  // Clock difference tolerated between the QR service's clock (which
  // signed the times) and this one's: both are servers kept by NTP, so one
  // second; a token is EXPIRED from expires_at + skew (61 s after issue).
  // The replay guard keeps entries longer (5 s), so nothing is forgotten
  // while it is still accepted here.
  absl::Duration skew = absl::Seconds(1);
  // How long after a GENUINE verdict the citizen may share documents.
  absl::Duration share_window = absl::Minutes(5);
  // How long the first answer to a request_id is remembered (a retry after
  // a lost answer comes within the token's minute).
  absl::Duration request_memory = absl::Minutes(10);
};

// Whether `account` is an official allowed to verify: OK, or
// PERMISSION_DENIED (VERIFIER_NOT_LEVEL_2, ROLE_REQUIRED).
absl::Status CheckVerifier(const v1::Account& account);

class Verifier {
 public:
  // Collaborators must outlive the verifier. `audit_subject_key` keys the
  // citizens' audit subjects (HMAC of the ID number).
  Verifier(activation::SessionChecker& sessions, VerificationKeyCache& keys,
           storage::ReplayGuard& replay, AccountLookup accounts,
           VerificationStore& store, audit::AuditSink& audit, Clock& clock,
           RandomSource& random, std::string audit_subject_key,
           prometheus::Registry& metrics, const VerifierOptions& options);

  // VerifyQr (verification.proto lists the errors). A verdict other than
  // GENUINE is an answer, not an error.
  absl::StatusOr<v1::VerifyQrResponse> VerifyQr(const v1::VerifyQrRequest& request);

 private:
  struct Outcome {
    v1::Verdict verdict = v1::VERDICT_MALFORMED;
    std::optional<qr::ParsedToken> token;  // Once the signature held.
    std::optional<internal::AccountRecord> subject;  // Once read.
    std::string detail;  // For the audit: a defect, FENCED, ...
  };
  // The checks, in order; an error only when a dependency fails.
  absl::StatusOr<Outcome> Check(absl::string_view text, absl::Time now);
  // The account's standing: GENUINE, REVOKED, LOCKED or DEVICE_REPLACED.
  v1::Verdict Standing(const internal::AccountRecord& record,
                       const qr::ParsedToken& token, absl::Time now) const;
  absl::Status Audit(const v1::AuthenticateSessionResponse& verifier,
                     const Outcome* outcome, const absl::Status& error,
                     const v1::VerifyQrResponse* response,
                     absl::string_view request_id);

  activation::SessionChecker& sessions_;
  VerificationKeyCache& keys_;
  storage::ReplayGuard& replay_;
  const AccountLookup accounts_;
  VerificationStore& store_;
  audit::AuditSink& audit_;
  Clock& clock_;
  RandomSource& random_;
  const std::string audit_subject_key_;
  const VerifierOptions options_;
  // By Verdict number; label handles made once (a lookup costs ~200 ns).
  std::array<prometheus::Counter*, v1::Verdict_ARRAYSIZE> verdicts_{};
  prometheus::Counter& fenced_;
};

}  // namespace eid::verification

#endif  // EID_SERVICES_VERIFICATION_VERIFIER_H_
