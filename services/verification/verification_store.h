// VerificationStore: the verification service's records on the storage
// shards (namespace "documents", layout in
// protos/eid/internal/verification_records.proto): GENUINE verifications
// with what was shared (expiring records) and the citizens' wallet
// documents. Everything of one citizen is under "<account_id>|", so on one
// shard; ids start with "<account_id>." so an id alone finds its shard.
//
// Thread-safe (the shards serialise writers by record version).
#ifndef EID_SERVICES_VERIFICATION_VERIFICATION_STORE_H_
#define EID_SERVICES_VERIFICATION_VERIFICATION_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eid/internal/records.pb.h"
#include "eid/internal/verification_records.pb.h"
#include "eid/v1/verification.pb.h"
#include "storage/shard/kv_store.h"

namespace eid::verification {

inline constexpr char kDocumentsNamespace[] = "documents";

template <typename Record>
struct Versioned {
  Record record;
  uint64_t version = 0;
  absl::Time expires_at = absl::InfiniteFuture();
};

class VerificationStore {
 public:
  explicit VerificationStore(storage::KvStore& kv) : kv_(kv) {}

  // The account an id made by NewId belongs to; empty if `id` is not one.
  static std::string AccountOfId(absl::string_view id);
  // "<account_id>." + 32 hex digits of `random16`.
  static std::string NewId(absl::string_view account_id, absl::string_view random16);

  // Verifications.
  absl::Status PutVerification(absl::string_view verification_id,
                               const internal::VerificationRecord& record,
                               absl::Time expires_at);
  // nullopt if there is none (or it expired by `now`).
  absl::StatusOr<std::optional<Versioned<internal::VerificationRecord>>> GetVerification(
      absl::string_view verification_id, absl::Time now);
  // Replaces it if still at `version`; ABORTED (CONCURRENT_MODIFICATION)
  // if someone else changed it first.
  absl::Status UpdateVerification(absl::string_view verification_id,
                                  const Versioned<internal::VerificationRecord>& v);
  // The account's live verifications, with their ids.
  absl::StatusOr<std::vector<std::pair<std::string, internal::VerificationRecord>>>
  ListVerifications(absl::string_view account_id, absl::Time now);

  // The first answer to a request_id, under "<account_id>|<kind>|<request_id>"
  // (kind "vreq": a verifier's VerifyQr; "dreq": an agency's
  // IntegrateDocument for that citizen), kept until `expires_at`.
  absl::Status PutAnswer(absl::string_view account_id, absl::string_view kind,
                         absl::string_view request_id,
                         const internal::RequestRecord& answer, absl::Time expires_at);
  absl::StatusOr<std::optional<internal::RequestRecord>> GetAnswer(
      absl::string_view account_id, absl::string_view kind, absl::string_view request_id,
      absl::Time now);

  // Wallet documents.
  absl::StatusOr<std::optional<v1::WalletDocument>> GetDocument(
      absl::string_view document_id);
  absl::Status PutDocument(const v1::WalletDocument& document);
  // True if it existed.
  absl::StatusOr<bool> DeleteDocument(absl::string_view document_id);
  absl::StatusOr<std::vector<v1::WalletDocument>> ListDocuments(
      absl::string_view account_id);

 private:
  storage::KvStore& kv_;
};

}  // namespace eid::verification

#endif  // EID_SERVICES_VERIFICATION_VERIFICATION_STORE_H_
