// Activation: locks, revocation, reading accounts, roles, the QR setting.
#include "absl/strings/str_cat.h"
#include "services/activation/activation.h"
#include "services/activation/person_checks.h"
#include "services/activation/role_checks.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

bool IsHolder(const Caller& caller, absl::string_view account_id) {
  return !caller.internal && caller.record.account().account_id() == account_id;
}

}  // namespace

absl::StatusOr<v1::LockAccountResponse> Activation::LockAccount(
    const Caller& caller, const v1::LockAccountRequest& r) {
  if (r.account_id().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "account_id is required");
  }
  absl::StatusOr<internal::AccountRecord> locked = accounts_.Update(
      r.account_id(),
      [&](const internal::AccountRecord& before, internal::AccountRecord& after)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        after = before;
        LiftExpiredLock(after);
        const v1::Account& a = after.account();
        v1::LockReason reason = v1::LOCK_REASON_OFFICER;
        if (RequireRole(caller, v1::ROLE_ACCOUNT_OFFICER, &a).ok()) {
          reason = v1::LOCK_REASON_OFFICER;
        } else if (IsHolder(caller, r.account_id())) {
          if (!caller.device_signed) {
            return Unauthenticated(v1::DEVICE_SIGNATURE_INVALID,
                                   "the holder must sign a lock request");
          }
          reason = v1::LOCK_REASON_HOLDER;
        } else {
          return RequireRole(caller, v1::ROLE_ACCOUNT_OFFICER, &a);
        }
        switch (a.state()) {
          case v1::ACCOUNT_STATE_REVOKED:
            return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
          case v1::ACCOUNT_STATE_REGISTERED:
            return FailedPrecondition(v1::ACCOUNT_NOT_APPROVED,
                                      "a registration is revoked, not locked");
          case v1::ACCOUNT_STATE_LOCKED:
            // Already locked: an officer's lock outranks the others.
            if (reason == v1::LOCK_REASON_OFFICER) {
              after.mutable_account()->mutable_lock()->set_reason(reason);
              after.mutable_account()->mutable_lock()->clear_locked_until();
              after.mutable_account()->mutable_lock()->set_note(r.note());
            }
            return std::vector<v1::Mutation>{};
          default:
            break;
        }
        after.set_state_before_lock(a.state());
        v1::Account& out = *after.mutable_account();
        out.set_state(v1::ACCOUNT_STATE_LOCKED);
        out.mutable_lock()->set_reason(reason);
        *out.mutable_lock()->mutable_locked_at() = ToProtoTime(clock_.Now());
        out.mutable_lock()->set_note(r.note());
        return std::vector<v1::Mutation>{};
      });
  Audit("account.locked", locked.status(), ActorOf(caller),
        locked.ok() ? &*locked : nullptr, "",
        {{"account_id", r.account_id()},
         {"lock_reason", locked.ok() ? v1::LockReason_Name(locked->account().lock().reason())
                                     : ""}});
  if (!locked.ok()) return locked.status();
  v1::LockAccountResponse response;
  *response.mutable_account() = locked->account();
  return response;
}

absl::StatusOr<v1::UnlockAccountResponse> Activation::UnlockAccount(
    const Caller* officer, const v1::UnlockAccountRequest& r, absl::Time deadline) {
  if (r.account_id().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "account_id is required");
  }
  auto unlock = [&](internal::AccountRecord& after) {
    if (after.account().state() != v1::ACCOUNT_STATE_LOCKED) return;
    after.mutable_account()->set_state(after.state_before_lock());
    after.mutable_account()->clear_lock();
    after.set_wrong_passcodes(0);
    after.set_wrong_answers(0);
  };
  absl::StatusOr<internal::AccountRecord> done;
  absl::Status refused;
  if (officer != nullptr) {
    done = accounts_.Update(
        r.account_id(),
        [&](const internal::AccountRecord& before, internal::AccountRecord& after)
            -> absl::StatusOr<std::vector<v1::Mutation>> {
          if (absl::Status s =
                  RequireRole(*officer, v1::ROLE_ACCOUNT_OFFICER, &before.account());
              !s.ok()) {
            return s;
          }
          if (before.account().state() == v1::ACCOUNT_STATE_REVOKED) {
            return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
          }
          after = before;
          unlock(after);
          return std::vector<v1::Mutation>{};
        });
  } else {
    const v1::HolderUnlock& holder = r.holder();
    done = ProveHolder(
        r.account_id(), holder.challenge_id(), holder.device_signature(),
        holder.passcode(),
        [](const v1::Account& a) -> absl::Status {
          if (a.state() == v1::ACCOUNT_STATE_REVOKED) {
            return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
          }
          if (a.state() == v1::ACCOUNT_STATE_LOCKED &&
              a.lock().reason() != v1::LOCK_REASON_HOLDER) {
            return PermissionDenied(v1::UNLOCK_REQUIRES_OFFICER,
                                    "only an officer can lift this lock");
          }
          return absl::OkStatus();
        },
        [&](internal::AccountRecord& after, std::vector<v1::Mutation>&) {
          unlock(after);
        },
        &refused, deadline);
  }
  const absl::Status outcome = done.ok() ? refused : done.status();
  Audit("account.unlocked", outcome,
        officer != nullptr ? ActorOf(*officer) : absl::StrCat("account:", r.account_id()),
        done.ok() ? &*done : nullptr, "", {{"account_id", r.account_id()}});
  if (!outcome.ok()) return outcome;
  v1::UnlockAccountResponse response;
  *response.mutable_account() = done->account();
  return response;
}

absl::StatusOr<v1::RevokeAccountResponse> Activation::RevokeAccount(
    const Caller& caller, const v1::RevokeAccountRequest& r) {
  if (r.account_id().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "account_id is required");
  }
  absl::StatusOr<internal::AccountRecord> revoked = accounts_.Update(
      r.account_id(),
      [&](const internal::AccountRecord& before, internal::AccountRecord& after)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        if (absl::Status s =
                RequireRole(caller, v1::ROLE_ACCOUNT_OFFICER, &before.account());
            !s.ok()) {
          return s;
        }
        after = before;
        if (before.account().state() != v1::ACCOUNT_STATE_REVOKED) {
          after.mutable_account()->set_state(v1::ACCOUNT_STATE_REVOKED);
          after.mutable_account()->clear_lock();
          *after.mutable_account()->mutable_revoked_at() = ToProtoTime(clock_.Now());
        }
        return std::vector<v1::Mutation>{};
      });
  Audit("account.revoked", revoked.status(), ActorOf(caller),
        revoked.ok() ? &*revoked : nullptr, "", {{"account_id", r.account_id()}});
  if (!revoked.ok()) return revoked.status();
  v1::RevokeAccountResponse response;
  *response.mutable_account() = revoked->account();
  return response;
}

absl::StatusOr<v1::GetAccountResponse> Activation::GetAccount(
    const Caller& caller, const v1::GetAccountRequest& r) {
  std::string account_id;
  if (r.has_id_number()) {
    if (absl::Status s = CheckIdNumberFormat(r.id_number(), clock_.Now()); !s.ok()) return s;
    account_id = AccountIdFor(r.id_number());
  } else if (!r.account_id().empty()) {
    account_id = r.account_id();
  } else {
    return InvalidArgument(v1::FIELD_REQUIRED, "account_id or id_number is required");
  }
  absl::StatusOr<StoredAccount> found = accounts_.Get(account_id);
  if (!found.ok()) return found.status();
  LiftExpiredLock(found->record);
  const v1::Account& a = found->record.account();
  const bool own = IsHolder(caller, account_id) && !r.has_id_number();
  if (!own) {
    absl::Status allowed = RequireRole(caller, v1::ROLE_ACCOUNT_OFFICER, &a);
    for (v1::Role role : {v1::ROLE_APPROVER, v1::ROLE_REGISTRAR}) {
      if (!allowed.ok() && !r.has_id_number()) allowed = RequireRole(caller, role, &a);
    }
    if (!allowed.ok()) return allowed;
  }
  v1::GetAccountResponse response;
  *response.mutable_account() = a;
  return response;
}

absl::StatusOr<v1::SetAccountRolesResponse> Activation::SetAccountRoles(
    const Caller& caller, const v1::SetAccountRolesRequest& r) {
  if (r.account_id().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "account_id is required");
  }
  if (absl::Status s = RequireRole(caller, v1::ROLE_ADMINISTRATOR, nullptr); !s.ok()) {
    return s;
  }
  if (!caller.internal && !caller.device_signed) {
    return Unauthenticated(v1::DEVICE_SIGNATURE_INVALID,
                           "granting roles needs a device signature");
  }
  for (const v1::RoleGrant& grant : r.roles()) {
    if (grant.role() == v1::ROLE_UNSPECIFIED || !v1::Role_IsValid(grant.role())) {
      return InvalidArgument(v1::FIELD_INVALID, "roles: unknown role");
    }
  }
  absl::StatusOr<internal::AccountRecord> changed = accounts_.Update(
      r.account_id(),
      [&](const internal::AccountRecord& before, internal::AccountRecord& after)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        if (before.account().state() == v1::ACCOUNT_STATE_REVOKED) {
          return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
        }
        after = before;
        *after.mutable_account()->mutable_roles() = r.roles();
        return std::vector<v1::Mutation>{};
      });
  Audit("account.roles_changed", changed.status(), ActorOf(caller),
        changed.ok() ? &*changed : nullptr, "", {{"account_id", r.account_id()}});
  if (!changed.ok()) return changed.status();
  v1::SetAccountRolesResponse response;
  *response.mutable_account() = changed->account();
  return response;
}

absl::StatusOr<v1::SetQrVerificationResponse> Activation::SetQrVerification(
    const Caller& caller, const v1::SetQrVerificationRequest& r) {
  if (caller.internal) {
    return PermissionDenied(v1::ROLE_REQUIRED, "only the holder sets this");
  }
  if (!caller.device_signed) {
    return Unauthenticated(v1::DEVICE_SIGNATURE_INVALID,
                           "this setting needs a device signature");
  }
  const std::string account_id = caller.record.account().account_id();
  absl::StatusOr<internal::AccountRecord> changed = accounts_.Update(
      account_id,
      [&](const internal::AccountRecord& before, internal::AccountRecord& after)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        if (before.account().level() != v1::ACCOUNT_LEVEL_2) {
          return FailedPrecondition(v1::ACCOUNT_NOT_LEVEL_2,
                                    "QR verification needs a level-2 account");
        }
        if (absl::Status s = LoginState(before.account()); !s.ok()) return s;
        after = before;
        after.mutable_account()->set_qr_verification_enabled(r.enabled());
        return std::vector<v1::Mutation>{};
      });
  Audit("account.qr_verification_changed", changed.status(), ActorOf(caller),
        changed.ok() ? &*changed : nullptr, "",
        {{"enabled", r.enabled() ? "true" : "false"}});
  if (!changed.ok()) return changed.status();
  v1::SetQrVerificationResponse response;
  response.set_enabled(changed->account().qr_verification_enabled());
  *response.mutable_changed_at() = ToProtoTime(clock_.Now());
  return response;
}

absl::StatusOr<int> Activation::LiftExpiredLocks(int limit) {
  const absl::Time now = clock_.Now();
  const ReportIndex& index = accounts_.index();
  int lifted = 0;
  absl::Status failed;  // The first store error; the other shards go on.
  for (uint32_t shard = 0; shard < index.shard_count() && lifted < limit; ++shard) {
    const std::string& rk = index.RoutingKeyOfShard(shard);
    v1::ScanRequest scan;
    scan.set_namespace_(kIndexNamespace);
    scan.set_prefix(ReportIndex::LockExpiryPrefix(rk));
    // Locks ended by now: keys before the first one ending after it.
    scan.set_stop_before(ReportIndex::LockExpiryKey(rk, now + absl::Microseconds(1), ""));
    scan.set_keys_only(true);
    scan.set_limit(limit - lifted);
    absl::StatusOr<v1::ScanResponse> due = accounts_.kv().Scan(scan);
    if (!due.ok()) {
      failed.Update(due.status());
      continue;
    }
    for (const v1::Record& entry : due->records()) {
      const std::string account_id = entry.key().substr(entry.key().rfind('|') + 1);
      absl::StatusOr<internal::AccountRecord> after = accounts_.Update(
          account_id,
          [&](const internal::AccountRecord& before, internal::AccountRecord& out)
              -> absl::StatusOr<std::vector<v1::Mutation>> {
            out = before;
            LiftExpiredLock(out);
            // Nothing to lift (lifted by another writer, or not due after
            // all): write nothing.
            if (out.account().state() == before.account().state()) {
              return absl::CancelledError("nothing to lift");
            }
            return std::vector<v1::Mutation>{};
          });
      if (absl::IsNotFound(after.status())) {  // No account: a stale entry.
        v1::BatchRequest drop;
        v1::Mutation& m = *drop.add_mutations();
        m.set_namespace_(kIndexNamespace);
        m.set_key(entry.key());
        m.set_delete_record(true);
        if (absl::Status s = accounts_.kv().Batch(drop).status(); !s.ok()) {
          failed.Update(s);
          break;
        }
        continue;
      }
      if (!after.ok()) {
        // Not due after all, or lifted by another writer first: nothing to
        // do. A busy account (ABORTED, CONCURRENT_MODIFICATION) is tried
        // again next pass, and the others go on. Any other error (a shard
        // that cannot be read or written) ends this shard's part of the
        // pass; the other shards go on.
        if (absl::IsCancelled(after.status())) continue;
        if (!absl::IsAborted(after.status())) {
          failed.Update(after.status());
          break;
        }
        log::Warning("activation.lock_lift_failed")
            .With("account_id", account_id)
            .With(after.status());
        continue;
      }
      Audit("account.unlocked", absl::OkStatus(), "service:activation", &*after, "",
            {{"account_id", account_id}, {"unlock_reason", "lock_expired"}});
      ++lifted;
    }
  }
  if (!failed.ok()) return failed;
  return lifted;
}

}  // namespace eid::activation
