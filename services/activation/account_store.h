// AccountStore: accounts on the storage shards, changed only by
// read-modify-write batches that also carry the report counters
// (ReportIndex) and whatever else must change with the account (flow,
// session, device records) — all under the account's routing key, so one
// atomic batch on one shard.
//
// Thread-safe; concurrent changes of one account are serialised by the
// record version: a batch that lost the race is retried from a fresh read.
#ifndef EID_SERVICES_ACTIVATION_ACCOUNT_STORE_H_
#define EID_SERVICES_ACTIVATION_ACCOUNT_STORE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eid/internal/records.pb.h"
#include "services/activation/report_index.h"
#include "storage/shard/kv_store.h"

namespace eid::activation {

inline constexpr char kAccountsNamespace[] = "accounts";

// The account id an ID number maps to: "a" + 24 hex digits of a keyed hash
// under `id_hash_key` (stable; reveals nothing of the number without it).
std::string AccountIdOf(absl::string_view id_hash_key, absl::string_view id_number);

struct StoredAccount {
  internal::AccountRecord record;
  uint64_t version = 0;
};

class AccountStore {
 public:
  AccountStore(storage::KvStore& kv, const ReportIndex& index)
      : kv_(kv), index_(index) {}

  static std::string KeyOf(absl::string_view account_id);

  // The account. NOT_FOUND (ACCOUNT_NOT_FOUND) if there is none.
  absl::StatusOr<StoredAccount> Get(absl::string_view account_id);

  // Stores a new account with `extra` mutations. ALREADY_EXISTS
  // (ACCOUNT_ALREADY_EXISTS) if the account exists.
  absl::Status Create(const internal::AccountRecord& record,
                      std::vector<v1::Mutation> extra = {});

  // Reads the account, lets `change` edit a copy (`after`) and name extra
  // mutations, and commits it all in one batch; retried from a fresh read
  // when another writer got there first (up to a few times, then ABORTED
  // CONCURRENT_MODIFICATION). An error from `change` ends it with nothing
  // written. Returns the account as written.
  using Change = std::function<absl::StatusOr<std::vector<v1::Mutation>>(
      const internal::AccountRecord& before, internal::AccountRecord& after)>;
  absl::StatusOr<internal::AccountRecord> Update(absl::string_view account_id,
                                                 const Change& change);

  storage::KvStore& kv() { return kv_; }
  const ReportIndex& index() const { return index_; }

 private:
  storage::KvStore& kv_;
  const ReportIndex& index_;
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_ACCOUNT_STORE_H_
