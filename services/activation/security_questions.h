// The catalogue of security questions the citizen picks from at activation
// (step 4), in Vietnamese and English.
#ifndef EID_SERVICES_ACTIVATION_SECURITY_QUESTIONS_H_
#define EID_SERVICES_ACTIVATION_SECURITY_QUESTIONS_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "eid/v1/activation.pb.h"

namespace eid::activation {

// How many distinct questions a citizen must answer.
inline constexpr int kRequiredSecurityAnswers = 3;

// The catalogue in `language` ("vi", the default, or "en").
std::vector<v1::SecurityQuestion> SecurityQuestions(absl::string_view language);

// Whether `question_id` is in the catalogue.
bool IsKnownQuestion(absl::string_view question_id);

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_SECURITY_QUESTIONS_H_
