// Activation: registration (level 1 and 2) and approval.
#include "absl/strings/str_cat.h"
#include "services/activation/activation.h"
#include "services/activation/person_checks.h"
#include "services/activation/role_checks.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

// A new account record from validated details.
internal::AccountRecord NewRecord(const std::string& account_id,
                                  const v1::PersonalDetails& p,
                                  v1::AccountLevel level, absl::Time now) {
  internal::AccountRecord r;
  r.set_id_number(p.id_number());
  v1::Account& a = *r.mutable_account();
  a.set_account_id(account_id);
  a.set_level(level);
  a.set_state(v1::ACCOUNT_STATE_REGISTERED);
  a.set_masked_id_number(MaskIdNumber(p.id_number()));
  a.set_full_name(p.full_name());
  *a.mutable_date_of_birth() = p.date_of_birth();
  a.set_sex(p.sex());
  a.set_phone(p.phone());
  a.set_face_photo_reference(p.face_photo_reference());
  *a.mutable_locality() = p.locality();
  *a.mutable_org_units() = p.org_units();
  *a.mutable_registered_at() = ToProtoTime(now);
  return r;
}

absl::Status CheckIntake(const v1::Level2Intake& intake,
                         absl::string_view id_number) {
  // The chip card's number is the personal identification number itself.
  if (intake.card_number() != id_number) {
    return InvalidArgument(v1::CARD_NUMBER_INVALID,
                           "card_number must be the 12-digit ID number on the chip card");
  }
  if (intake.intake_office().code().empty() ||
      intake.intake_office().kind() != v1::ORG_UNIT_KIND_POLICE_OFFICE) {
    return InvalidArgument(v1::ORG_UNIT_INVALID,
                           "intake_office must be a police office with a code");
  }
  if (intake.officer_id().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "intake.officer_id is required");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::RegisterLevel1Response> Activation::RegisterLevel1(
    const v1::RegisterLevel1Request& r) {
  v1::PersonalDetails person = r.person();
  absl::Status valid = CheckPerson(person, clock_.Now());
  if (!valid.ok()) {
    Audit("account.registered", valid, "anonymous", nullptr, r.request_id());
    return valid;
  }
  const std::string account_id = AccountIdFor(person.id_number());
  v1::RegisterLevel1Response response;
  absl::StatusOr<bool> replayed =
      ReplayedResponse(account_id, r.request_id(), r, &response);
  if (!replayed.ok()) return replayed.status();
  if (*replayed) return response;

  internal::AccountRecord record =
      NewRecord(account_id, person, v1::ACCOUNT_LEVEL_1, clock_.Now());
  absl::Status created = accounts_.Create(record);
  Audit("account.registered", created, "anonymous", &record, r.request_id(),
        {{"level", "1"}});
  if (!created.ok()) return created;
  *response.mutable_account() = record.account();
  if (absl::Status s = RememberResponse(account_id, r.request_id(), r, response);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<v1::RegisterLevel2Response> Activation::RegisterLevel2(
    const Caller& caller, const v1::RegisterLevel2Request& r) {
  v1::PersonalDetails person = r.person();
  absl::Status valid = CheckPerson(person, clock_.Now());
  if (valid.ok()) valid = CheckIntake(r.intake(), person.id_number());
  if (valid.ok()) {
    v1::Account place;
    *place.mutable_locality() = person.locality();
    *place.mutable_org_units() = person.org_units();
    valid = RequireRole(caller, v1::ROLE_REGISTRAR, &place);
  }
  if (!valid.ok()) {
    Audit("account.registered", valid, ActorOf(caller), nullptr, r.request_id());
    return valid;
  }
  const std::string account_id = AccountIdFor(person.id_number());
  v1::RegisterLevel2Response response;
  absl::StatusOr<bool> replayed =
      ReplayedResponse(account_id, r.request_id(), r, &response);
  if (!replayed.ok()) return replayed.status();
  if (*replayed) return response;

  internal::AccountRecord record =
      NewRecord(account_id, person, v1::ACCOUNT_LEVEL_2, clock_.Now());
  record.set_card_number(r.intake().card_number());
  record.mutable_account()->set_masked_card_number(
      MaskIdNumber(r.intake().card_number()));
  *record.mutable_account()->mutable_intake_office() = r.intake().intake_office();
  absl::Status done = accounts_.Create(record);
  if (done.ok()) {
    *response.mutable_account() = record.account();
  } else if (ReasonOf(done) == "ACCOUNT_ALREADY_EXISTS") {
    // A level-1 account is upgraded once this registration is approved.
    absl::StatusOr<internal::AccountRecord> upgraded = accounts_.Update(
        account_id,
        [&](const internal::AccountRecord& before, internal::AccountRecord& after)
            -> absl::StatusOr<std::vector<v1::Mutation>> {
          const v1::Account& a = before.account();
          if (a.state() == v1::ACCOUNT_STATE_REVOKED) {
            return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
          }
          if (a.level() == v1::ACCOUNT_LEVEL_2 ||
              a.pending_level() == v1::ACCOUNT_LEVEL_2) {
            return AlreadyExists(v1::ACCOUNT_ALREADY_EXISTS,
                                 "a level-2 registration exists");
          }
          after.mutable_account()->set_pending_level(v1::ACCOUNT_LEVEL_2);
          *after.mutable_pending_intake() = r.intake();
          return std::vector<v1::Mutation>{};
        });
    done = upgraded.status();
    if (upgraded.ok()) {
      record = *upgraded;
      *response.mutable_account() = upgraded->account();
      response.set_upgraded(true);
    }
  }
  Audit("account.registered", done, ActorOf(caller), &record, r.request_id(),
        {{"level", "2"}});
  if (!done.ok()) return done;
  if (absl::Status s = RememberResponse(account_id, r.request_id(), r, response);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<v1::ApproveRegistrationResponse> Activation::ApproveRegistration(
    const Caller& caller, const v1::ApproveRegistrationRequest& r) {
  if (r.account_id().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "account_id is required");
  }
  bool changed = false;
  absl::StatusOr<internal::AccountRecord> approved = accounts_.Update(
      r.account_id(),
      [&](const internal::AccountRecord& before, internal::AccountRecord& after)
          -> absl::StatusOr<std::vector<v1::Mutation>> {
        changed = false;
        const v1::Account& a = before.account();
        if (absl::Status s = RequireRole(caller, v1::ROLE_APPROVER, &a); !s.ok()) {
          return s;
        }
        if (a.state() == v1::ACCOUNT_STATE_REVOKED) {
          return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
        }
        if (a.state() == v1::ACCOUNT_STATE_LOCKED) {
          return FailedPrecondition(v1::ACCOUNT_LOCKED, "the account is locked");
        }
        v1::Account& out = *after.mutable_account();
        if (a.state() == v1::ACCOUNT_STATE_REGISTERED) {
          out.set_state(v1::ACCOUNT_STATE_APPROVED);
          *out.mutable_approved_at() = ToProtoTime(clock_.Now());
          after.set_ever_approved(true);
          changed = true;
        }
        if (a.pending_level() == v1::ACCOUNT_LEVEL_2) {
          out.set_level(v1::ACCOUNT_LEVEL_2);
          out.clear_pending_level();
          after.set_card_number(before.pending_intake().card_number());
          out.set_masked_card_number(MaskIdNumber(after.card_number()));
          *out.mutable_intake_office() = before.pending_intake().intake_office();
          after.clear_pending_intake();
          changed = true;
        }
        return std::vector<v1::Mutation>{};
      });
  Audit("account.approved", approved.status(), ActorOf(caller),
        approved.ok() ? &*approved : nullptr, "");
  if (!approved.ok()) return approved.status();

  v1::ApproveRegistrationResponse response;
  *response.mutable_account() = approved->account();
  // The approval SMS is keyed by the approval itself, so a retry after a
  // failure here queues it once.
  const std::string notice_id = DerivedRequestId(
      "approval", absl::StrCat(r.account_id(), "@",
                               absl::ToUnixMicros(FromProtoTime(
                                   approved->account().approved_at()))));
  if (changed || clock_.Now() - FromProtoTime(approved->account().approved_at()) <
                     options_.request_memory) {
    absl::StatusOr<std::string> message_id = SendNotice(
        *approved, v1::NOTICE_KIND_REGISTRATION_APPROVED, notice_id);
    if (!message_id.ok()) return message_id.status();
    if (changed) response.set_notice_message_id(*message_id);
  }
  return response;
}

}  // namespace eid::activation
