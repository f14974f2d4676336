// The passcode policy: what a citizen may choose as the 6-digit passcode that
// confirms their actions (activation step 3, recovery).
//
// Rules, checked in this order; each failure is INVALID_ARGUMENT:
//   PASSCODE_NOT_SIX_DIGITS  not exactly six ASCII digits '0'..'9' (no
//                            spaces, no other digits such as full-width ones);
//   PASSCODE_TOO_SIMPLE      all one digit ("000000" .. "999999"), or a run
//                            where each digit is one more than the one before
//                            ("012345" .. "456789") or one less ("987654" ..
//                            "543210"); there is no wrap-around, so "890123"
//                            is allowed;
//   PASSCODE_IS_BIRTH_DATE   one of these six-digit forms of the date of birth
//                            (D, M unpadded day and month, DD MM zero-padded,
//                            YYYY the year, YY its last two digits, CC its
//                            first two):
//                              full date:   DDMMYY  MMDDYY  YYMMDD
//                                           DDMMCC (the start of DDMMYYYY)
//                                           MMYYYY  YYYYMM
//                                           DMYYYY  YYYYMD  (when D, M < 10)
//                              year+month:  MMYYYY  YYYYMM
//                              year only:   none
//                            A birth date with year 0 (unknown) is not checked.
// Messages never contain the passcode or the date.
//
// Pure and thread-safe.
#ifndef EID_SERVICES_VALIDATION_PASSCODE_H_
#define EID_SERVICES_VALIDATION_PASSCODE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eid/v1/common.pb.h"

namespace eid::validation {

// OK if `passcode` may be chosen by a citizen born on `birth_date`, else the
// first rule it breaks (above).
absl::Status ValidatePasscode(absl::string_view passcode,
                              const v1::Date& birth_date);

// The six-digit forms of `birth_date` that PASSCODE_IS_BIRTH_DATE rejects,
// without duplicates (for tests and for telling the user what to avoid).
std::vector<std::string> BirthDatePasscodes(const v1::Date& birth_date);

}  // namespace eid::validation

#endif  // EID_SERVICES_VALIDATION_PASSCODE_H_
