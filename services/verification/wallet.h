// Wallet: the citizens' wallet documents and what they share after a
// GENUINE verification — the document RPCs of VerificationService.
//
// Issuing agencies' backends (internal callers) put and withdraw documents;
// the citizen lists them; after a GENUINE verification (Verifier) the
// citizen picks documents for it (ShareDocuments, until the share
// deadline); only that verification's official can fetch them, and only for
// `share_ttl` after sharing (the record's shard TTL). Every change and
// every fetch is audited.
//
// Thread-safe.
#ifndef EID_SERVICES_VERIFICATION_WALLET_H_
#define EID_SERVICES_VERIFICATION_WALLET_H_

#include <string>

#include "absl/status/statusor.h"
#include "eid/v1/verification.pb.h"
#include "services/activation/session_client.h"
#include "services/audit/audit_client.h"
#include "services/common/clock.h"
#include "services/common/random.h"
#include "services/verification/verification_store.h"
#include "services/verification/verifier.h"

namespace eid::verification {

struct WalletOptions {
  // How long the verifier may fetch what was shared.
  absl::Duration share_ttl = absl::Minutes(5);
  // Largest payload an agency may put.
  size_t max_payload_bytes = 512 * 1024;
  // How long IntegrateDocument remembers a request_id's first answer.
  absl::Duration request_memory = absl::Hours(24);
};

class Wallet {
 public:
  struct Secrets {
    std::string id_hash_key;        // ID number -> account id.
    std::string audit_subject_key;  // ID number -> audit subject.
  };
  // Collaborators must outlive the wallet.
  Wallet(activation::SessionChecker& sessions, VerificationStore& store,
         AccountLookup accounts, audit::AuditSink& audit, Clock& clock,
         RandomSource& random, Secrets secrets, const WalletOptions& options);

  // `internal`: the call carries the internal token (an agency backend).
  absl::StatusOr<v1::IntegrateDocumentResponse> IntegrateDocument(
      bool internal, const v1::IntegrateDocumentRequest& r);
  absl::StatusOr<v1::WithdrawDocumentResponse> WithdrawDocument(
      bool internal, const v1::WithdrawDocumentRequest& r);
  absl::StatusOr<v1::ListMyDocumentsResponse> ListMyDocuments(
      const v1::ListMyDocumentsRequest& r);
  absl::StatusOr<v1::ListShareableVerificationsResponse> ListShareableVerifications(
      const v1::ListShareableVerificationsRequest& r);
  absl::StatusOr<v1::ShareDocumentsResponse> ShareDocuments(
      const v1::ShareDocumentsRequest& r);
  absl::StatusOr<v1::FetchSharedDocumentsResponse> FetchSharedDocuments(
      const v1::FetchSharedDocumentsRequest& r);

 private:
  absl::Status ValidateDocument(const v1::WalletDocument& d) const;
  std::string SubjectOf(const std::string& account_id);
  absl::Status Audit(absl::string_view action, const absl::Status& outcome,
                     std::string actor, std::string subject, absl::string_view request_id,
                     std::map<std::string, std::string> attributes);

  activation::SessionChecker& sessions_;
  VerificationStore& store_;
  const AccountLookup accounts_;
  audit::AuditSink& audit_;
  Clock& clock_;
  RandomSource& random_;
  const Secrets secrets_;
  const WalletOptions options_;
};

}  // namespace eid::verification

#endif  // EID_SERVICES_VERIFICATION_WALLET_H_
