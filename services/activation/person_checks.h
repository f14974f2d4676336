// The validation rules as the activation service applies them to its
// requests (services/validation holds the rules themselves).
#ifndef EID_SERVICES_ACTIVATION_PERSON_CHECKS_H_
#define EID_SERVICES_ACTIVATION_PERSON_CHECKS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eid/v1/activation.pb.h"

namespace eid::activation {

// Validates `person` and normalises it in place (phone to "+84…", name to
// NFC with single spaces). INVALID_ARGUMENT with the reason of the first
// rule broken (FIELD_REQUIRED, ID_NUMBER_*, PHONE_INVALID, FULL_NAME_INVALID,
// BIRTH_DATE_INVALID, LOCALITY_UNKNOWN, ORG_UNIT_INVALID).
absl::Status CheckPerson(v1::PersonalDetails& person, absl::Time now);

// The ID number's own format (12 digits, known province, century digit),
// as of `now` (the service's clock).
absl::Status CheckIdNumberFormat(absl::string_view id_number, absl::Time now);

// "+84" + 9 digits, or INVALID_ARGUMENT (PHONE_INVALID).
absl::StatusOr<std::string> NormalizePhone(absl::string_view phone);

// The passcode policy (PASSCODE_NOT_SIX_DIGITS, PASSCODE_TOO_SIMPLE,
// PASSCODE_IS_BIRTH_DATE).
absl::Status CheckPasscode(absl::string_view passcode,
                           const v1::Date& date_of_birth);

// A security answer folded for hashing (SECURITY_ANSWER_INVALID).
absl::StatusOr<std::string> NormalizeAnswer(absl::string_view answer);

// Masks for responses and logs: "001******345", "+84******789".
std::string MaskIdNumber(absl::string_view id_number);
std::string MaskPhone(absl::string_view phone);

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_PERSON_CHECKS_H_
