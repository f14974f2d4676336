#include "services/verification/wallet.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/activation/account_store.h"
#include "services/common/keyed_hash.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"
#include "services/validation/id_number.h"

namespace eid::verification {
namespace {

constexpr char kPrefix[] = "/eid.v1.VerificationService/";
constexpr size_t kRandomIdBytes = 16;
constexpr size_t kMaxFieldChars = 256;

std::string Method(absl::string_view name) { return absl::StrCat(kPrefix, name); }

bool SameDocument(const v1::WalletDocument& a, const v1::WalletDocument& b) {
  return a.issuer().code() == b.issuer().code() && a.kind() == b.kind() &&
         a.number() == b.number();
}

std::string KindsOf(const std::vector<v1::WalletDocument>& docs) {
  std::set<std::string> kinds;
  for (const v1::WalletDocument& d : docs) kinds.insert(v1::DocumentKind_Name(d.kind()));
  return absl::StrJoin(kinds, ",");
}

}  // namespace

Wallet::Wallet(activation::SessionChecker& sessions, VerificationStore& store,
               AccountLookup accounts, audit::AuditSink& audit, Clock& clock,
               RandomSource& random, Secrets secrets, const WalletOptions& options)
    : sessions_(sessions),
      store_(store),
      accounts_(std::move(accounts)),
      audit_(audit),
      clock_(clock),
      random_(random),
      secrets_(std::move(secrets)),
      options_(options) {}

absl::Status Wallet::ValidateDocument(const v1::WalletDocument& d) const {
  if (d.kind() == v1::DOCUMENT_KIND_UNSPECIFIED || !v1::DocumentKind_IsValid(d.kind())) {
    return InvalidArgument(v1::FIELD_REQUIRED, "document.kind is required");
  }
  if (d.number().empty() || d.title().empty() || d.issuer().code().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED,
                           "document.number, title and issuer.code are required");
  }
  if (d.number().size() > kMaxFieldChars || d.title().size() > kMaxFieldChars ||
      d.issuer().code().size() > kMaxFieldChars || d.issuer().name().size() > kMaxFieldChars) {
    return InvalidArgument(v1::FIELD_INVALID, "a document field is over 256 characters");
  }
  if (d.issuer().kind() != v1::ORG_UNIT_KIND_AGENCY &&
      d.issuer().kind() != v1::ORG_UNIT_KIND_POLICE_OFFICE) {
    return PermissionDenied(v1::ISSUER_NOT_AUTHORISED,
                            "documents are issued by agencies and police offices");
  }
  if (d.payload().size() > options_.max_payload_bytes) {
    return InvalidArgument(v1::DOCUMENT_TOO_LARGE,
                           absl::StrCat("payload over ", options_.max_payload_bytes, " bytes"));
  }
  return absl::OkStatus();
}

std::string Wallet::SubjectOf(const std::string& account_id) {
  absl::StatusOr<internal::AccountRecord> account = accounts_(account_id);
  if (!account.ok()) return "";
  return KeyedHash(secrets_.audit_subject_key, {account->id_number()});
}

absl::StatusOr<v1::IntegrateDocumentResponse> Wallet::IntegrateDocument(
    bool internal, const v1::IntegrateDocumentRequest& r) {
  if (!internal) {
    return PermissionDenied(v1::INTERNAL_CALLER_ONLY,
                            "documents are integrated by the issuing agencies' backends");
  }
  if (absl::Status s = validation::ValidateIdNumberForLookup(r.id_number(), clock_.Now());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateDocument(r.document()); !s.ok()) return s;
  const std::string account_id = activation::AccountIdOf(secrets_.id_hash_key, r.id_number());
  const std::string subject = KeyedHash(secrets_.audit_subject_key, {r.id_number()});
  const std::string actor = absl::StrCat("agency:", r.document().issuer().code());
  absl::StatusOr<internal::AccountRecord> account = accounts_(account_id);
  if (!account.ok()) return account.status();
  if (account->account().state() == v1::ACCOUNT_STATE_REVOKED) {
    absl::Status refused = FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
    Audit("document.integrated", refused, actor, subject, r.request_id(), {}).IgnoreError();
    return refused;
  }
  const absl::Time now = clock_.Now();
  // A retry gets the first answer; the same request_id for another request
  // of this agency for this citizen is a conflict.
  const std::string answer_id = absl::StrCat(r.document().issuer().code(), ":", r.request_id());
  std::string request_bytes;
  {
    google::protobuf::io::StringOutputStream stream(&request_bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    r.SerializeToCodedStream(&coded);
  }
  const std::string request_hash = Sha256(request_bytes);
  if (!r.request_id().empty()) {
    absl::StatusOr<std::optional<internal::RequestRecord>> earlier =
        store_.GetAnswer(account_id, "dreq", answer_id, now);
    if (!earlier.ok()) return earlier.status();
    if (earlier->has_value()) {
      if (!ConstantTimeEquals((*earlier)->request_hash(), request_hash)) {
        return InvalidArgument(v1::REQUEST_ID_CONFLICT,
                               "request_id was used for another document");
      }
      v1::IntegrateDocumentResponse first;
      if (!first.ParseFromString((*earlier)->response())) {
        return absl::DataLossError("request record unreadable");
      }
      return first;
    }
  }
  absl::StatusOr<std::vector<v1::WalletDocument>> existing = store_.ListDocuments(account_id);
  if (!existing.ok()) return existing.status();

  v1::WalletDocument document = r.document();
  document.clear_integrated_at();
  document.clear_updated_at();
  v1::IntegrateDocumentResponse out;
  auto same = std::find_if(existing->begin(), existing->end(),
                           [&](const v1::WalletDocument& d) { return SameDocument(d, document); });
  if (same != existing->end()) {
    document.set_document_id(same->document_id());
    *document.mutable_integrated_at() = same->integrated_at();
  } else {
    document.set_document_id(VerificationStore::NewId(account_id, random_.Bytes(kRandomIdBytes)));
    *document.mutable_integrated_at() = ToProtoTime(now);
    out.set_created(true);
  }
  *document.mutable_updated_at() = ToProtoTime(now);
  out.set_document_id(document.document_id());
  absl::Status stored = store_.PutDocument(document);
  absl::Status recorded =
      Audit("document.integrated", stored, actor, subject, r.request_id(),
            {{"account_id", account_id},
             {"document_ids", document.document_id()},
             {"document_kinds", v1::DocumentKind_Name(document.kind())}});
  if (!stored.ok()) return stored;
  if (!recorded.ok()) return recorded;
  if (!r.request_id().empty()) {
    internal::RequestRecord answer;
    answer.set_request_hash(request_hash);
    answer.set_response(out.SerializeAsString());
    // Best effort: without it a retry replaces the document again, harmlessly.
    store_.PutAnswer(account_id, "dreq", answer_id, answer, now + options_.request_memory)
        .IgnoreError();
  }
  return out;
}

absl::StatusOr<v1::WithdrawDocumentResponse> Wallet::WithdrawDocument(
    bool internal, const v1::WithdrawDocumentRequest& r) {
  if (!internal) {
    return PermissionDenied(v1::INTERNAL_CALLER_ONLY,
                            "documents are withdrawn by the issuing agencies' backends");
  }
  const std::string account_id = VerificationStore::AccountOfId(r.document_id());
  if (account_id.empty()) {
    return NotFound(v1::DOCUMENT_NOT_FOUND, "not a document id");
  }
  absl::StatusOr<std::optional<v1::WalletDocument>> found = store_.GetDocument(r.document_id());
  if (!found.ok()) return found.status();
  // Withdrawing a withdrawn document succeeds (a retry after a lost answer).
  if (!found->has_value()) return v1::WithdrawDocumentResponse();
  absl::StatusOr<bool> deleted = store_.DeleteDocument(r.document_id());
  absl::Status recorded =
      Audit("document.withdrawn", deleted.status(),
            absl::StrCat("agency:", (*found)->issuer().code()), SubjectOf(account_id), "",
            {{"account_id", account_id},
             {"document_ids", r.document_id()},
             {"document_kinds", v1::DocumentKind_Name((*found)->kind())}});
  if (!deleted.ok()) return deleted.status();
  if (!recorded.ok()) return recorded;
  return v1::WithdrawDocumentResponse();
}

absl::StatusOr<v1::ListMyDocumentsResponse> Wallet::ListMyDocuments(
    const v1::ListMyDocumentsRequest& r) {
  absl::StatusOr<v1::AuthenticateSessionResponse> caller =
      sessions_.Check(r.credentials(), Method("ListMyDocuments"), &r);
  if (!caller.ok()) return caller.status();
  absl::StatusOr<std::vector<v1::WalletDocument>> docs =
      store_.ListDocuments(caller->account().account_id());
  if (!docs.ok()) return docs.status();
  const std::set<int> kinds(r.kinds().begin(), r.kinds().end());
  v1::ListMyDocumentsResponse out;
  for (v1::WalletDocument& d : *docs) {
    if (!kinds.empty() && kinds.count(d.kind()) == 0) continue;
    if (!r.include_payload()) d.clear_payload();
    *out.add_documents() = std::move(d);
  }
  std::sort(out.mutable_documents()->begin(), out.mutable_documents()->end(),
            [](const v1::WalletDocument& a, const v1::WalletDocument& b) {
              auto key = [](const v1::WalletDocument& d) {
                return std::make_tuple(d.kind(), d.issued_on().year(), d.issued_on().month(),
                                       d.issued_on().day());
              };
              return key(a) < key(b);
            });
  return out;
}

absl::StatusOr<v1::ListShareableVerificationsResponse> Wallet::ListShareableVerifications(
    const v1::ListShareableVerificationsRequest& r) {
  absl::StatusOr<v1::AuthenticateSessionResponse> caller =
      sessions_.Check(r.credentials(), Method("ListShareableVerifications"), nullptr);
  if (!caller.ok()) return caller.status();
  const absl::Time now = clock_.Now();
  auto found = store_.ListVerifications(caller->account().account_id(), now);
  if (!found.ok()) return found.status();
  v1::ListShareableVerificationsResponse out;
  for (auto& [id, record] : *found) {
    if (now >= FromProtoTime(record.share_deadline())) continue;
    v1::VerificationSummary& s = *out.add_verifications();
    s.set_verification_id(id);
    *s.mutable_verified_at() = record.verified_at();
    *s.mutable_verifier() = record.verifier();
    *s.mutable_share_deadline() = record.share_deadline();
    *s.mutable_shared_document_ids() = record.shared_document_ids();
  }
  std::sort(out.mutable_verifications()->begin(), out.mutable_verifications()->end(),
            [](const v1::VerificationSummary& a, const v1::VerificationSummary& b) {
              return FromProtoTime(a.verified_at()) > FromProtoTime(b.verified_at());
            });
  return out;
}

absl::StatusOr<v1::ShareDocumentsResponse> Wallet::ShareDocuments(
    const v1::ShareDocumentsRequest& r) {
  absl::StatusOr<v1::AuthenticateSessionResponse> caller =
      sessions_.Check(r.credentials(), Method("ShareDocuments"), &r);
  if (!caller.ok()) return caller.status();
  const std::string& account_id = caller->account().account_id();
  const std::string actor = absl::StrCat("account:", account_id);
  const absl::Time now = clock_.Now();
  auto refuse = [&](absl::Status s) {
    Audit("documents.shared", s, actor, caller->audit_subject(), "",
          {{"verification_id", r.verification_id()}})
        .IgnoreError();
    return s;
  };
  // Only the citizen's own verifications: the id names its account.
  if (VerificationStore::AccountOfId(r.verification_id()) != account_id) {
    return refuse(NotFound(v1::VERIFICATION_NOT_FOUND, "no such verification"));
  }
  auto found = store_.GetVerification(r.verification_id(), now);
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return refuse(NotFound(v1::VERIFICATION_NOT_FOUND, "no such verification"));
  }
  Versioned<internal::VerificationRecord>& v = **found;
  if (now >= FromProtoTime(v.record.share_deadline())) {
    return refuse(FailedPrecondition(v1::SHARE_EXPIRED,
                                     "the time to share with this verification is over"));
  }
  absl::StatusOr<std::vector<v1::WalletDocument>> docs = store_.ListDocuments(account_id);
  if (!docs.ok()) return docs.status();
  std::vector<std::string> shared;
  std::vector<v1::WalletDocument> chosen;
  for (const std::string& id : r.document_ids()) {
    auto it = std::find_if(docs->begin(), docs->end(),
                           [&](const v1::WalletDocument& d) { return d.document_id() == id; });
    if (it == docs->end()) {
      return refuse(NotFound(v1::DOCUMENT_NOT_FOUND, "a document is not in the wallet"));
    }
    if (std::find(shared.begin(), shared.end(), id) == shared.end()) {
      shared.push_back(id);
      chosen.push_back(*it);
    }
  }
  for (int kind : r.kinds()) {
    for (const v1::WalletDocument& d : *docs) {
      if (d.kind() == kind &&
          std::find(shared.begin(), shared.end(), d.document_id()) == shared.end()) {
        shared.push_back(d.document_id());
        chosen.push_back(d);
      }
    }
  }
  v.record.clear_shared_document_ids();
  for (const std::string& id : shared) v.record.add_shared_document_ids(id);
  const absl::Time share_expires = now + options_.share_ttl;
  if (shared.empty()) {
    v.record.clear_share_expires_at();  // Withdrawn.
  } else {
    *v.record.mutable_share_expires_at() = ToProtoTime(share_expires);
    v.expires_at = std::max(v.expires_at, share_expires);
  }
  absl::Status updated = store_.UpdateVerification(r.verification_id(), v);
  absl::Status recorded =
      Audit("documents.shared", updated, actor, caller->audit_subject(), "",
            {{"verification_id", r.verification_id()},
             {"document_ids", absl::StrJoin(shared, ",")},
             {"document_kinds", KindsOf(chosen)},
             {"verifier_name", v.record.verifier().full_name()}});
  if (!updated.ok()) return updated;
  if (!recorded.ok()) return recorded;
  v1::ShareDocumentsResponse out;
  for (const std::string& id : shared) out.add_shared_document_ids(id);
  if (!shared.empty()) *out.mutable_share_expires_at() = ToProtoTime(share_expires);
  return out;
}

absl::StatusOr<v1::FetchSharedDocumentsResponse> Wallet::FetchSharedDocuments(
    const v1::FetchSharedDocumentsRequest& r) {
  absl::StatusOr<v1::AuthenticateSessionResponse> caller =
      sessions_.Check(r.credentials(), Method("FetchSharedDocuments"), &r);
  if (!caller.ok()) return caller.status();
  const std::string actor = absl::StrCat("account:", caller->account().account_id());
  const std::string citizen = VerificationStore::AccountOfId(r.verification_id());
  auto refuse = [&](absl::Status s) {
    Audit("documents.fetched", s, actor, citizen.empty() ? "" : SubjectOf(citizen), "",
          {{"verification_id", r.verification_id()}})
        .IgnoreError();
    return s;
  };
  if (absl::Status allowed = CheckVerifier(caller->account()); !allowed.ok()) {
    return refuse(allowed);
  }
  const absl::Time now = clock_.Now();
  auto found = store_.GetVerification(r.verification_id(), now);
  if (!found.ok()) return found.status();
  // Someone else's verification looks like no verification at all.
  if (!found->has_value() ||
      !ConstantTimeEquals((**found).record.verifier_account_id(),
                          caller->account().account_id())) {
    return refuse(NotFound(v1::VERIFICATION_NOT_FOUND, "no such verification"));
  }
  const internal::VerificationRecord& record = (**found).record;
  if (!record.has_share_expires_at()) {
    return refuse(FailedPrecondition(v1::DOCUMENTS_NOT_SHARED,
                                     "the citizen has not shared documents"));
  }
  if (now >= FromProtoTime(record.share_expires_at())) {
    return refuse(FailedPrecondition(v1::SHARE_EXPIRED, "the share has expired"));
  }
  v1::FetchSharedDocumentsResponse out;
  std::vector<v1::WalletDocument> docs;
  for (const std::string& id : record.shared_document_ids()) {
    absl::StatusOr<std::optional<v1::WalletDocument>> d = store_.GetDocument(id);
    if (!d.ok()) return d.status();
    if (d->has_value()) {  // Withdrawn since: no longer shown.
      docs.push_back(**d);
      *out.add_documents() = std::move(**d);
    }
  }
  *out.mutable_share_expires_at() = record.share_expires_at();
  std::vector<std::string> ids;
  for (const v1::WalletDocument& d : docs) ids.push_back(d.document_id());
  absl::Status recorded =
      Audit("documents.fetched", absl::OkStatus(), actor, SubjectOf(citizen), "",
            {{"verification_id", r.verification_id()},
             {"document_ids", absl::StrJoin(ids, ",")},
             {"document_kinds", KindsOf(docs)}});
  if (!recorded.ok()) return recorded;
  return out;
}

absl::Status Wallet::Audit(absl::string_view action, const absl::Status& outcome,
                           std::string actor, std::string subject,
                           absl::string_view request_id,
                           std::map<std::string, std::string> attributes) {
  v1::AuditEvent event;
  *event.mutable_time() = ToProtoTime(clock_.Now());
  event.set_service("verification");
  event.set_action(std::string(action));
  if (outcome.ok()) {
    event.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  } else {
    const bool failed = outcome.code() == absl::StatusCode::kUnavailable ||
                        outcome.code() == absl::StatusCode::kInternal ||
                        outcome.code() == absl::StatusCode::kDataLoss;
    event.set_outcome(failed ? v1::AUDIT_OUTCOME_ERROR : v1::AUDIT_OUTCOME_REJECTED);
    event.set_reason(ReasonOf(outcome));
  }
  event.set_actor(std::move(actor));
  event.set_subject(std::move(subject));
  event.set_request_id(std::string(request_id));
  for (auto& [k, v] : attributes) (*event.mutable_attributes())[k] = std::move(v);
  return audit_.Record(std::move(event));
}

}  // namespace eid::verification
