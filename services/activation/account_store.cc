#include "services/activation/account_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/keyed_hash.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

constexpr int kMaxAttempts = 8;

v1::Mutation AccountPut(const internal::AccountRecord& record,
                        uint64_t expected_version) {
  v1::Mutation m;
  m.set_namespace_(kAccountsNamespace);
  m.set_key(AccountStore::KeyOf(record.account().account_id()));
  m.set_put_value(record.SerializeAsString());
  m.set_expected_version(expected_version);
  return m;
}

}  // namespace

std::string AccountIdOf(absl::string_view id_hash_key, absl::string_view id_number) {
  const std::string mac = KeyedHash(id_hash_key, {"account-id", id_number});
  return absl::StrCat("a", absl::BytesToHexString(mac.substr(0, 12)));
}

std::string AccountStore::KeyOf(absl::string_view account_id) {
  return absl::StrCat(account_id, "|account");
}

absl::StatusOr<StoredAccount> AccountStore::Get(absl::string_view account_id) {
  v1::GetRequest get;
  get.set_namespace_(kAccountsNamespace);
  get.set_key(KeyOf(account_id));
  absl::StatusOr<v1::GetResponse> got = kv_.Get(get);
  if (!got.ok()) return got.status();
  if (!got->found()) {
    return NotFound(v1::ACCOUNT_NOT_FOUND, "no such account");
  }
  StoredAccount out;
  if (!out.record.ParseFromString(got->record().value())) {
    return absl::DataLossError("account record unreadable");
  }
  out.version = got->record().version();
  return out;
}

absl::Status AccountStore::Create(const internal::AccountRecord& record,
                                  std::vector<v1::Mutation> extra) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    absl::StatusOr<std::vector<v1::Mutation>> counters =
        index_.Mutations(kv_, nullptr, record);
    if (!counters.ok()) return counters.status();
    v1::BatchRequest batch;
    *batch.add_mutations() = AccountPut(record, 0);
    for (v1::Mutation& m : *counters) *batch.add_mutations() = std::move(m);
    for (const v1::Mutation& m : extra) *batch.add_mutations() = m;
    absl::StatusOr<v1::BatchResponse> done = kv_.Batch(batch);
    if (done.ok()) return absl::OkStatus();
    if (!LostVersionRace(done.status())) return done.status();
    // Lost to a creator of the same account, or to a counter update.
    if (Get(record.account().account_id()).ok()) {
      return AlreadyExists(v1::ACCOUNT_ALREADY_EXISTS,
                           "an account exists for this ID number");
    }
  }
  return Aborted(v1::CONCURRENT_MODIFICATION, "too many concurrent writers");
}

absl::StatusOr<internal::AccountRecord> AccountStore::Update(
    absl::string_view account_id, const Change& change) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    absl::StatusOr<StoredAccount> current = Get(account_id);
    if (!current.ok()) return current.status();
    internal::AccountRecord after = current->record;
    absl::StatusOr<std::vector<v1::Mutation>> extra =
        change(current->record, after);
    if (!extra.ok()) return extra.status();
    absl::StatusOr<std::vector<v1::Mutation>> counters =
        index_.Mutations(kv_, &current->record, after);
    if (!counters.ok()) return counters.status();
    v1::BatchRequest batch;
    *batch.add_mutations() = AccountPut(after, current->version);
    for (v1::Mutation& m : *counters) *batch.add_mutations() = std::move(m);
    for (v1::Mutation& m : *extra) *batch.add_mutations() = std::move(m);
    absl::StatusOr<v1::BatchResponse> done = kv_.Batch(batch);
    if (done.ok()) return after;
    if (!LostVersionRace(done.status())) return done.status();
  }
  return Aborted(v1::CONCURRENT_MODIFICATION, "too many concurrent writers");
}

}  // namespace eid::activation
