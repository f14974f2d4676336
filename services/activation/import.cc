// Activation: bulk import of registration files, row by row.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/activation/activation.h"
#include "services/activation/person_checks.h"
#include "services/validation/full_name.h"
#include "services/validation/id_number.h"
#include "services/activation/role_checks.h"
#include "services/common/keyed_hash.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

constexpr int kMaxFailuresListed = 1000;

// Whether `s` is about the row itself (recorded, the import goes on) rather
// than the system or the caller (the import stops).
bool IsRowError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return true;
    default:
      return false;
  }
}

}  // namespace

namespace {

// A row naming an account already registered counts (and may approve or
// upgrade it) only if it names the same person as the registration: the
// same phone, name and date of birth. An import must not approve or extend
// a registration it does not hold. (Only these are compared: a row once
// valid stays so on a rerun, whatever the place codes have become.)
absl::Status SameRegistration(const v1::PersonalDetails& row, const v1::Account& stored,
                              absl::Time now) {
  // The row's own faults first, in registration's order (CheckPerson).
  if (absl::Status s = validation::ValidateBirthDate(row.date_of_birth(), now); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> phone = NormalizePhone(row.phone());
  if (!phone.ok()) return phone.status();
  absl::StatusOr<std::string> name = validation::NormalizeFullName(row.full_name());
  if (!name.ok()) return name.status();
  if (*phone != stored.phone() || *name != stored.full_name() ||
      row.date_of_birth().SerializeAsString() != stored.date_of_birth().SerializeAsString()) {
    return FailedPrecondition(
        v1::ACCOUNT_DETAILS_MISMATCH,
        "the ID number is registered with another phone, name or date of birth");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Activation::ImportRow(const Caller& caller,
                                   const v1::ImportRegistrationsRequest& row,
                                   v1::ImportRegistrationsResponse& summary) {
  constexpr char kMethod[] = "/eid.v1.ActivationService/ImportRegistrations";
  if (absl::Status s = RequireRole(caller, v1::ROLE_REGISTRAR, nullptr); !s.ok()) {
    return AuditDenied(kMethod, s, ActorOf(caller));
  }
  if (row.approve()) {
    if (absl::Status s = RequireRole(caller, v1::ROLE_APPROVER, nullptr); !s.ok()) {
      return AuditDenied(kMethod, s, ActorOf(caller));
    }
  }
  summary.set_received(summary.received() + 1);
  // The same row imported again is the same request: a rerun is harmless.
  v1::ImportRegistrationsRequest content = row;
  content.clear_credentials();
  content.clear_row_ref();
  const std::string request_id =
      DerivedRequestId("import", content.SerializeAsString());

  absl::Status status;
  std::string account_id;
  bool created = false;
  absl::StatusOr<StoredAccount> existing =
      accounts_.Get(AccountIdFor(row.person().id_number()));
  if (!existing.ok() && ReasonOf(existing.status()) != "ACCOUNT_NOT_FOUND") {
    return existing.status();
  }
  const bool already =
      existing.ok() && (row.level() == v1::ACCOUNT_LEVEL_1 ||
                        existing->record.account().level() == v1::ACCOUNT_LEVEL_2 ||
                        existing->record.account().pending_level() == v1::ACCOUNT_LEVEL_2);
  if (existing.ok()) status = SameRegistration(row.person(), existing->record.account(), clock_.Now());
  if (!status.ok()) {
    // Another person's details under this ID number: the row fails below.
  } else if (already) {
    status = AlreadyExists(v1::ACCOUNT_ALREADY_EXISTS, "already registered");
  } else if (row.level() == v1::ACCOUNT_LEVEL_1) {
    v1::RegisterLevel1Request request;
    request.set_request_id(request_id);
    *request.mutable_person() = row.person();
    absl::StatusOr<v1::RegisterLevel1Response> done = RegisterLevel1(request);
    status = done.status();
    if (done.ok()) account_id = done->account().account_id();
  } else if (row.level() == v1::ACCOUNT_LEVEL_2) {
    v1::RegisterLevel2Request request;
    request.set_request_id(request_id);
    *request.mutable_person() = row.person();
    *request.mutable_intake() = row.intake();
    absl::StatusOr<v1::RegisterLevel2Response> done = RegisterLevel2(caller, request);
    status = done.status();
    if (done.ok()) account_id = done->account().account_id();
  } else {
    status = InvalidArgument(v1::FIELD_INVALID, "level must be 1 or 2");
  }
  if (status.ok()) {
    created = true;
  } else if (ReasonOf(status) == "ACCOUNT_ALREADY_EXISTS") {
    account_id = AccountIdFor(row.person().id_number());
    // Registered meanwhile by another writer, perhaps: compare with it.
    absl::StatusOr<StoredAccount> stored = accounts_.Get(account_id);
    status = stored.ok() ? SameRegistration(row.person(), stored->record.account(), clock_.Now())
                         : stored.status();
    if (status.ok()) summary.set_already_registered(summary.already_registered() + 1);
  }
  if (status.ok() && row.approve()) {
    v1::ApproveRegistrationRequest approve;
    approve.set_account_id(account_id);
    absl::StatusOr<v1::ApproveRegistrationResponse> done =
        ApproveRegistration(caller, approve);
    status = done.status();
    if (done.ok() && !done->notice_message_id().empty()) {
      summary.set_approved(summary.approved() + 1);
    }
  }
  if (created) summary.set_created(summary.created() + 1);
  if (status.ok()) return absl::OkStatus();
  if (!IsRowError(status)) return status;
  summary.set_failed(summary.failed() + 1);
  if (summary.failures_size() < kMaxFailuresListed) {
    v1::ImportFailure& failure = *summary.add_failures();
    failure.set_row_ref(row.row_ref());
    failure.set_reason(ReasonOf(status));
    failure.set_message(std::string(status.message()));
  }
  return absl::OkStatus();
}

}  // namespace eid::activation
