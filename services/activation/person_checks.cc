#include "services/activation/person_checks.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/validation/full_name.h"
#include "services/validation/id_number.h"
#include "services/validation/passcode.h"
#include "services/validation/phone.h"
#include "services/validation/provinces.h"
#include "services/validation/security_answer.h"

namespace eid::activation {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status CheckLocality(const v1::Locality& place) {
  if (validation::FindCurrentProvince(place.province_code()) == nullptr) {
    return InvalidArgument(v1::LOCALITY_UNKNOWN,
                           "locality.province_code is not a current province code");
  }
  // District and commune codes are the statistics office's 3 and 5 digits.
  if (!AllDigits(place.district_code()) ||
      (!place.district_code().empty() && place.district_code().size() != 3) ||
      !AllDigits(place.commune_code()) ||
      (!place.commune_code().empty() && place.commune_code().size() != 5) ||
      (place.district_code().empty() && !place.commune_code().empty())) {
    return InvalidArgument(v1::LOCALITY_UNKNOWN,
                           "locality: district is 3 digits, commune 5 digits");
  }
  return absl::OkStatus();
}

absl::Status CheckOrgUnit(const v1::OrgUnit& unit) {
  const auto bad = [](absl::string_view s) {
    return s.size() > 64 || s.find('|') != absl::string_view::npos;
  };
  if (unit.kind() == v1::ORG_UNIT_KIND_UNSPECIFIED || !v1::OrgUnitKind_IsValid(unit.kind()) ||
      unit.code().empty() || bad(unit.code()) || bad(unit.parent_code()) ||
      unit.name().size() > 200) {
    return InvalidArgument(v1::ORG_UNIT_INVALID,
                           "org_units: each needs a kind and a code of at most 64 "
                           "characters without '|'");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckPerson(v1::PersonalDetails& person, absl::Time now) {
  if (person.id_number().empty()) {
    return InvalidArgument(v1::FIELD_REQUIRED, "person.id_number is required");
  }
  if (person.sex() == v1::SEX_UNSPECIFIED || !v1::Sex_IsValid(person.sex())) {
    return InvalidArgument(v1::FIELD_REQUIRED, "person.sex is required");
  }
  if (absl::Status s = validation::ValidateBirthDate(person.date_of_birth(), now);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = validation::ValidateIdNumber(
          person.id_number(), person.date_of_birth(), person.sex());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> phone = validation::NormalizePhone(person.phone());
  if (!phone.ok()) return phone.status();
  person.set_phone(*phone);
  absl::StatusOr<std::string> name = validation::NormalizeFullName(person.full_name());
  if (!name.ok()) return name.status();
  person.set_full_name(*name);
  if (person.face_photo_reference().size() > 256) {
    return InvalidArgument(v1::FIELD_INVALID,
                           "person.face_photo_reference is over 256 characters");
  }
  if (absl::Status s = CheckLocality(person.locality()); !s.ok()) return s;
  if (person.org_units_size() > 16) {
    return InvalidArgument(v1::ORG_UNIT_INVALID, "at most 16 org_units");
  }
  for (const v1::OrgUnit& unit : person.org_units()) {
    if (absl::Status s = CheckOrgUnit(unit); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckIdNumberFormat(absl::string_view id_number, absl::Time now) {
  return validation::ValidateIdNumberForLookup(id_number, now);
}

absl::StatusOr<std::string> NormalizePhone(absl::string_view phone) {
  return validation::NormalizePhone(phone);
}

absl::Status CheckPasscode(absl::string_view passcode,
                           const v1::Date& date_of_birth) {
  return validation::ValidatePasscode(passcode, date_of_birth);
}

absl::StatusOr<std::string> NormalizeAnswer(absl::string_view answer) {
  return validation::NormalizeSecurityAnswer(answer);
}

std::string MaskIdNumber(absl::string_view id_number) {
  return validation::MaskIdNumber(id_number);
}

std::string MaskPhone(absl::string_view phone) {
  return validation::MaskPhone(phone);
}

}  // namespace eid::activation
