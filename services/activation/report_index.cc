#include "services/activation/report_index.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eid/v1/reports.pb.h"
#include "services/common/proto_time.h"

namespace eid::activation {
namespace {

// A mutation of the index's own list entries (no expected version: each
// belongs to one account, whose own record's version guards the batch).
void DeleteEntry(std::vector<v1::Mutation>& out, const std::string& key) {
  v1::Mutation& m = out.emplace_back();
  m.set_namespace_(kIndexNamespace);
  m.set_key(key);
  m.set_delete_record(true);
}
void PutEntry(std::vector<v1::Mutation>& out, const std::string& key, std::string value) {
  v1::Mutation& m = out.emplace_back();
  m.set_namespace_(kIndexNamespace);
  m.set_key(key);
  m.set_put_value(std::move(value));
}

void Add(internal::ReportCounts& to, const internal::ReportCounts& c, int sign) {
  to.set_registered(to.registered() + sign * c.registered());
  to.set_approved(to.approved() + sign * c.approved());
  to.set_activated(to.activated() + sign * c.activated());
  to.set_awaiting_activation(to.awaiting_activation() +
                             sign * c.awaiting_activation());
  to.set_locked(to.locked() + sign * c.locked());
  to.set_revoked(to.revoked() + sign * c.revoked());
}

bool IsZero(const internal::ReportCounts& c) {
  return c.registered() == 0 && c.approved() == 0 && c.activated() == 0 &&
         c.awaiting_activation() == 0 && c.locked() == 0 && c.revoked() == 0;
}

}  // namespace

ReportIndex::ReportIndex(uint32_t shard_count,
                         std::function<uint32_t(absl::string_view)> shard_of)
    : routing_keys_(shard_count), shard_of_(std::move(shard_of)) {
  uint32_t found = 0;
  for (uint64_t n = 0; found < shard_count; ++n) {
    std::string key = absl::StrCat("rpt", n);
    std::string& slot = routing_keys_[shard_of_(key)];
    if (slot.empty()) {
      slot = std::move(key);
      ++found;
    }
  }
}

const std::string& ReportIndex::RoutingKeyFor(absl::string_view account_id) const {
  return routing_keys_[shard_of_(account_id)];
}

internal::ReportCounts ReportIndex::CountsOf(const internal::AccountRecord& r) {
  internal::ReportCounts c;
  const v1::AccountState state = r.account().state();
  c.set_registered(1);
  c.set_approved(r.ever_approved() ? 1 : 0);
  c.set_activated(r.ever_activated() ? 1 : 0);
  c.set_awaiting_activation(state == v1::ACCOUNT_STATE_APPROVED ? 1 : 0);
  c.set_locked(state == v1::ACCOUNT_STATE_LOCKED ? 1 : 0);
  c.set_revoked(state == v1::ACCOUNT_STATE_REVOKED ? 1 : 0);
  return c;
}

std::string ReportIndex::LocalityCellPrefix(const std::string& rk) {
  return absl::StrCat(rk, "|cell|L|");
}

std::string ReportIndex::OrgCellPrefix(const std::string& rk) {
  return absl::StrCat(rk, "|cell|O|");
}

std::string ReportIndex::NotActivatedPrefix(const std::string& rk,
                                            absl::string_view province,
                                            absl::string_view district) {
  std::string prefix = absl::StrCat(rk, "|na|", province, "|");
  if (!district.empty()) absl::StrAppend(&prefix, district, "|");
  return prefix;
}

std::string ReportIndex::LockExpiryPrefix(const std::string& rk) {
  return absl::StrCat(rk, "|lockexp|");
}

std::string ReportIndex::LockExpiryKey(const std::string& rk, absl::Time until,
                                       absl::string_view account_id) {
  return absl::StrCat(LockExpiryPrefix(rk),
                      absl::StrFormat("%016d", absl::ToUnixMicros(until)), "|", account_id);
}

std::string ReportIndex::LockExpiryKeyOf(const internal::AccountRecord& r) const {
  const v1::Account& a = r.account();
  if (a.state() != v1::ACCOUNT_STATE_LOCKED || !a.lock().has_locked_until()) return "";
  return LockExpiryKey(RoutingKeyFor(a.account_id()), FromProtoTime(a.lock().locked_until()),
                       a.account_id());
}

std::vector<std::string> ReportIndex::CellsOf(
    const internal::AccountRecord& r) const {
  const v1::Account& a = r.account();
  const std::string& rk = RoutingKeyFor(a.account_id());
  const std::string place =
      absl::StrCat(a.locality().province_code(), "|", a.locality().district_code(),
                   "|", a.locality().commune_code(), "|", a.level(), "|", a.state());
  std::vector<std::string> cells = {LocalityCellPrefix(rk) + place};
  for (const v1::OrgUnit& unit : a.org_units()) {
    cells.push_back(absl::StrCat(OrgCellPrefix(rk), unit.kind(), "|", unit.code(),
                                 "|", place));
  }
  return cells;
}

std::string ReportIndex::NotActivatedKey(const internal::AccountRecord& r) const {
  const v1::Account& a = r.account();
  return absl::StrCat(
      NotActivatedPrefix(RoutingKeyFor(a.account_id()), a.locality().province_code(),
                         a.locality().district_code()),
      absl::StrFormat("%016d", absl::ToUnixMicros(FromProtoTime(a.approved_at()))), "|",
      a.account_id());
}

absl::StatusOr<std::vector<v1::Mutation>> ReportIndex::Mutations(
    storage::KvStore& kv, const internal::AccountRecord* before,
    const internal::AccountRecord& after) const {
  // The net change of every cell touched.
  absl::flat_hash_map<std::string, internal::ReportCounts> deltas;
  std::vector<std::string> order;
  auto apply = [&](const internal::AccountRecord& r, int sign) {
    const internal::ReportCounts counts = CountsOf(r);
    for (std::string& cell : CellsOf(r)) {
      auto [it, inserted] = deltas.try_emplace(cell);
      if (inserted) order.push_back(cell);
      Add(it->second, counts, sign);
    }
  };
  if (before != nullptr) apply(*before, -1);
  apply(after, +1);

  std::vector<v1::Mutation> out;
  for (const std::string& cell : order) {
    const internal::ReportCounts& delta = deltas[cell];
    if (IsZero(delta)) continue;
    v1::GetRequest get;
    get.set_namespace_(kIndexNamespace);
    get.set_key(cell);
    absl::StatusOr<v1::GetResponse> current = kv.Get(get);
    if (!current.ok()) return current.status();
    internal::ReportCounts counts;
    if (current->found() && !counts.ParseFromString(current->record().value())) {
      return absl::DataLossError(absl::StrCat("report cell unreadable: ", cell));
    }
    Add(counts, delta, +1);
    v1::Mutation& m = out.emplace_back();
    m.set_namespace_(kIndexNamespace);
    m.set_key(cell);
    m.set_expected_version(current->found() ? current->record().version() : 0);
    if (IsZero(counts)) {
      m.set_delete_record(true);
    } else {
      m.set_put_value(counts.SerializeAsString());
    }
  }

  // The not-activated list holds exactly the accounts now APPROVED.
  const bool was_listed =
      before != nullptr && before->account().state() == v1::ACCOUNT_STATE_APPROVED;
  const bool is_listed = after.account().state() == v1::ACCOUNT_STATE_APPROVED;
  const std::string old_key = was_listed ? NotActivatedKey(*before) : "";
  const std::string new_key = is_listed ? NotActivatedKey(after) : "";
  if (was_listed && old_key != new_key) DeleteEntry(out, old_key);
  if (is_listed) {
    const v1::Account& a = after.account();
    v1::NotActivatedRow row;
    row.set_account_id(a.account_id());
    row.set_masked_id_number(a.masked_id_number());
    row.set_full_name(a.full_name());
    *row.mutable_date_of_birth() = a.date_of_birth();
    row.set_phone(a.phone());
    row.set_level(a.level());
    *row.mutable_locality() = a.locality();
    *row.mutable_approved_at() = a.approved_at();
    *row.mutable_org_units() = a.org_units();
    PutEntry(out, new_key, row.SerializeAsString());
  }

  // The lock-expiry list holds exactly the accounts now LOCKED until a time.
  const std::string old_lock = before != nullptr ? LockExpiryKeyOf(*before) : "";
  const std::string new_lock = LockExpiryKeyOf(after);
  if (!old_lock.empty() && old_lock != new_lock) DeleteEntry(out, old_lock);
  if (!new_lock.empty() && new_lock != old_lock) {
    PutEntry(out, new_lock, after.account().account_id());  // A value may not be empty.
  }
  return out;
}

}  // namespace eid::activation
