#include "services/verification/verification_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::verification {
namespace {

constexpr size_t kMaxAccountIdChars = 64;

std::string VerificationKey(absl::string_view id) {
  return absl::StrCat(VerificationStore::AccountOfId(id), "|ver|", id);
}
std::string DocumentKey(absl::string_view id) {
  return absl::StrCat(VerificationStore::AccountOfId(id), "|doc|", id);
}

// Every record of a scan of `prefix` (all pages).
absl::StatusOr<std::vector<v1::Record>> ScanAll(storage::KvStore& kv,
                                                const std::string& prefix) {
  std::vector<v1::Record> out;
  v1::ScanRequest scan;
  scan.set_namespace_(kDocumentsNamespace);
  scan.set_prefix(prefix);
  do {
    absl::StatusOr<v1::ScanResponse> page = kv.Scan(scan);
    if (!page.ok()) return page.status();
    for (v1::Record& r : *page->mutable_records()) out.push_back(std::move(r));
    scan.set_page_token(page->next_page_token());
  } while (!scan.page_token().empty());
  return out;
}

}  // namespace

std::string VerificationStore::AccountOfId(absl::string_view id) {
  const size_t dot = id.find('.');
  if (dot == absl::string_view::npos || dot == 0 || dot > kMaxAccountIdChars ||
      id.find('|') != absl::string_view::npos) {
    return "";
  }
  return std::string(id.substr(0, dot));
}

std::string VerificationStore::NewId(absl::string_view account_id,
                                     absl::string_view random16) {
  return absl::StrCat(account_id, ".", absl::BytesToHexString(random16));
}

absl::Status VerificationStore::PutVerification(absl::string_view verification_id,
                                                const internal::VerificationRecord& record,
                                                absl::Time expires_at) {
  v1::PutRequest put;
  put.set_namespace_(kDocumentsNamespace);
  put.set_key(VerificationKey(verification_id));
  put.set_value(record.SerializeAsString());
  *put.mutable_expires_at() = ToProtoTime(expires_at);
  return kv_.Put(put).status();
}

absl::StatusOr<std::optional<Versioned<internal::VerificationRecord>>>
VerificationStore::GetVerification(absl::string_view verification_id, absl::Time now) {
  if (AccountOfId(verification_id).empty()) return std::nullopt;
  v1::GetRequest get;
  get.set_namespace_(kDocumentsNamespace);
  get.set_key(VerificationKey(verification_id));
  absl::StatusOr<v1::GetResponse> got = kv_.Get(get);
  if (!got.ok()) return got.status();
  if (!got->found()) return std::nullopt;
  Versioned<internal::VerificationRecord> out;
  if (!out.record.ParseFromString(got->record().value())) {
    return absl::DataLossError("verification record unreadable");
  }
  out.version = got->record().version();
  if (got->record().has_expires_at()) {
    out.expires_at = FromProtoTime(got->record().expires_at());
    // The shard drops it by its own clock; ours decides too.
    if (now >= out.expires_at) return std::nullopt;
  }
  return out;
}

absl::Status VerificationStore::UpdateVerification(
    absl::string_view verification_id, const Versioned<internal::VerificationRecord>& v) {
  v1::CompareAndSwapRequest cas;
  cas.set_namespace_(kDocumentsNamespace);
  cas.set_key(VerificationKey(verification_id));
  cas.set_expected_version(v.version);
  cas.set_value(v.record.SerializeAsString());
  if (v.expires_at != absl::InfiniteFuture()) {
    *cas.mutable_expires_at() = ToProtoTime(v.expires_at);
  }
  return kv_.CompareAndSwap(cas).status();
}

absl::StatusOr<std::vector<std::pair<std::string, internal::VerificationRecord>>>
VerificationStore::ListVerifications(absl::string_view account_id, absl::Time now) {
  absl::StatusOr<std::vector<v1::Record>> records =
      ScanAll(kv_, absl::StrCat(account_id, "|ver|"));
  if (!records.ok()) return records.status();
  std::vector<std::pair<std::string, internal::VerificationRecord>> out;
  const size_t prefix = account_id.size() + 5;
  for (const v1::Record& r : *records) {
    if (r.has_expires_at() && now >= FromProtoTime(r.expires_at())) continue;
    internal::VerificationRecord record;
    if (!record.ParseFromString(r.value())) continue;
    out.emplace_back(r.key().substr(prefix), std::move(record));
  }
  return out;
}

absl::Status VerificationStore::PutAnswer(absl::string_view account_id,
                                          absl::string_view kind,
                                          absl::string_view request_id,
                                          const internal::RequestRecord& answer,
                                          absl::Time expires_at) {
  v1::PutRequest put;
  put.set_namespace_(kDocumentsNamespace);
  put.set_key(absl::StrCat(account_id, "|", kind, "|", request_id));
  put.set_value(answer.SerializeAsString());
  *put.mutable_expires_at() = ToProtoTime(expires_at);
  return kv_.Put(put).status();
}

absl::StatusOr<std::optional<internal::RequestRecord>> VerificationStore::GetAnswer(
    absl::string_view account_id, absl::string_view kind, absl::string_view request_id,
    absl::Time now) {
  v1::GetRequest get;
  get.set_namespace_(kDocumentsNamespace);
  get.set_key(absl::StrCat(account_id, "|", kind, "|", request_id));
  absl::StatusOr<v1::GetResponse> got = kv_.Get(get);
  if (!got.ok()) return got.status();
  if (!got->found()) return std::nullopt;
  if (got->record().has_expires_at() && now >= FromProtoTime(got->record().expires_at())) {
    return std::nullopt;
  }
  internal::RequestRecord answer;
  if (!answer.ParseFromString(got->record().value())) {
    return absl::DataLossError("request record unreadable");
  }
  return answer;
}

absl::StatusOr<std::optional<v1::WalletDocument>> VerificationStore::GetDocument(
    absl::string_view document_id) {
  if (AccountOfId(document_id).empty()) return std::nullopt;
  v1::GetRequest get;
  get.set_namespace_(kDocumentsNamespace);
  get.set_key(DocumentKey(document_id));
  absl::StatusOr<v1::GetResponse> got = kv_.Get(get);
  if (!got.ok()) return got.status();
  if (!got->found()) return std::nullopt;
  v1::WalletDocument document;
  if (!document.ParseFromString(got->record().value())) {
    return absl::DataLossError("wallet document unreadable");
  }
  return document;
}

absl::Status VerificationStore::PutDocument(const v1::WalletDocument& document) {
  v1::PutRequest put;
  put.set_namespace_(kDocumentsNamespace);
  put.set_key(DocumentKey(document.document_id()));
  put.set_value(document.SerializeAsString());
  return kv_.Put(put).status();
}

absl::StatusOr<bool> VerificationStore::DeleteDocument(absl::string_view document_id) {
  if (AccountOfId(document_id).empty()) return false;
  v1::DeleteRequest del;
  del.set_namespace_(kDocumentsNamespace);
  del.set_key(DocumentKey(document_id));
  absl::StatusOr<v1::DeleteResponse> done = kv_.Delete(del);
  if (!done.ok()) return done.status();
  return done->existed();
}

absl::StatusOr<std::vector<v1::WalletDocument>> VerificationStore::ListDocuments(
    absl::string_view account_id) {
  absl::StatusOr<std::vector<v1::Record>> records =
      ScanAll(kv_, absl::StrCat(account_id, "|doc|"));
  if (!records.ok()) return records.status();
  std::vector<v1::WalletDocument> out;
  for (const v1::Record& r : *records) {
    v1::WalletDocument document;
    if (document.ParseFromString(r.value())) out.push_back(std::move(document));
  }
  return out;
}

}  // namespace eid::verification
