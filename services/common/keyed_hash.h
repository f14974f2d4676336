// KeyedHash: HMAC-SHA256 under a secret key over length-prefixed parts, so
// ("ab","c") and ("a","bc") never collide. Used for account ids, security
// answers, the passcode pepper and audit subjects.
#ifndef EID_SERVICES_COMMON_KEYED_HASH_H_
#define EID_SERVICES_COMMON_KEYED_HASH_H_

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace eid {

// 32 raw bytes.
std::string KeyedHash(absl::string_view key,
                      std::initializer_list<absl::string_view> parts);

// SHA-256 of `data`, 32 raw bytes.
std::string Sha256(absl::string_view data);

// Constant-time equality of two byte strings (false if lengths differ).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace eid

#endif  // EID_SERVICES_COMMON_KEYED_HASH_H_
