#include "services/otp/kannel_dlr.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/keyed_hash.h"
#include "services/common/secrets.h"

namespace eid::otp {

DlrOutcome DlrOutcomeOf(int type) {
  switch (type) {
    case kDlrDelivered:
      return DlrOutcome::kDelivered;
    case kDlrFailed:
    case kDlrSmscRejected:
      return DlrOutcome::kFailed;
    case kDlrBuffered:
    case kDlrSmscAccepted:
      return DlrOutcome::kInterim;
    default:
      return DlrOutcome::kUnknown;
  }
}

absl::StatusOr<DlrAuthenticator> DlrAuthenticator::FromFile(
    const std::string& path) {
  absl::StatusOr<std::string> key = ReadSecretFile(path, 32);
  if (!key.ok()) return key.status();
  return DlrAuthenticator(*std::move(key));
}

std::string DlrAuthenticator::Token(absl::string_view message_id,
                                    int attempt) const {
  const std::string n = absl::StrCat(attempt);
  return absl::BytesToHexString(
      KeyedHash(key_, {"kannel-dlr", message_id, n}));
}

bool DlrAuthenticator::Verify(absl::string_view message_id, int attempt,
                              absl::string_view token) const {
  return ConstantTimeEquals(Token(message_id, attempt), token);
}

std::string DlrUrl(absl::string_view base, absl::string_view message_id,
                   int attempt, const DlrAuthenticator& auth) {
  return absl::StrCat(base, "?id=", message_id, "&n=", attempt,
                      "&auth=", auth.Token(message_id, attempt), "&type=%d");
}

}  // namespace eid::otp
