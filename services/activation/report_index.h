// ReportIndex: the counters and lists the reports read, kept by the account
// writes themselves. Each shard holds the counters of the accounts stored on
// it, under a routing key chosen to land on that same shard ("rpt<n>"), so an
// account's state change and its counter updates commit in one atomic batch
// and the reports never scan accounts: they sum a few thousand counter cells
// per shard.
//
// Keys (namespace "indexes"):
//   <rk>|cell|L|<province>|<district>|<commune>|<level>|<state>  ReportCounts
//   <rk>|cell|O|<kind>|<code>|<province>|<district>|<commune>|<level>|<state>
//   <rk>|na|<province>|<district>|<approved_at us, 16 digits>|<account_id>
//                                  -> v1::NotActivatedRow (state APPROVED)
//   <rk>|lockexp|<locked_until us, 16 digits>|<account_id> -> account_id
//                                  (LOCKED until a time: the locks that end
//                                  by themselves, for the sweep that lifts
//                                  them in storage, Activation::LiftExpiredLocks)
// A cell's counts are the sum, over the accounts in it, of what each has
// reached (registered, approved, activated, ...; see CountsOf).
//
// Thread-safe (immutable after construction).
#ifndef EID_SERVICES_ACTIVATION_REPORT_INDEX_H_
#define EID_SERVICES_ACTIVATION_REPORT_INDEX_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eid/internal/records.pb.h"
#include "eid/v1/storage.pb.h"
#include "storage/shard/kv_store.h"

namespace eid::activation {

inline constexpr char kIndexNamespace[] = "indexes";

class ReportIndex {
 public:
  // `shard_count` shards; `shard_of(routing key)` names the shard a routing
  // key lands on (ShardRouter's hash; constant 0 for one local store).
  ReportIndex(uint32_t shard_count,
              std::function<uint32_t(absl::string_view)> shard_of);

  // The routing key of shard `shard`'s report records.
  const std::string& RoutingKeyOfShard(uint32_t shard) const {
    return routing_keys_[shard];
  }
  // The report routing key of the shard holding `account_id`'s records.
  const std::string& RoutingKeyFor(absl::string_view account_id) const;
  uint32_t shard_count() const { return routing_keys_.size(); }

  // What one account contributes to its cells.
  static internal::ReportCounts CountsOf(const internal::AccountRecord& r);

  // The mutations that move `before`'s contribution (null: a new account)
  // to `after`'s, reading the current counters from `kv` to set their
  // expected versions (so a concurrent update of a counter aborts the whole
  // batch, which the caller retries).
  absl::StatusOr<std::vector<v1::Mutation>> Mutations(
      storage::KvStore& kv, const internal::AccountRecord* before,
      const internal::AccountRecord& after) const;

  // Cell key prefixes, for the reports' scans.
  static std::string LocalityCellPrefix(const std::string& rk);
  static std::string OrgCellPrefix(const std::string& rk);
  static std::string NotActivatedPrefix(const std::string& rk,
                                        absl::string_view province,
                                        absl::string_view district);
  static std::string LockExpiryPrefix(const std::string& rk);
  // The lock-expiry key of a lock ending at `until`, in that prefix.
  static std::string LockExpiryKey(const std::string& rk, absl::Time until,
                                   absl::string_view account_id);

 private:
  // Every cell key `r` counts in.
  std::vector<std::string> CellsOf(const internal::AccountRecord& r) const;
  std::string NotActivatedKey(const internal::AccountRecord& r) const;
  // "" unless `r` is LOCKED until a time.
  std::string LockExpiryKeyOf(const internal::AccountRecord& r) const;

  std::vector<std::string> routing_keys_;
  std::function<uint32_t(absl::string_view)> shard_of_;
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_REPORT_INDEX_H_
