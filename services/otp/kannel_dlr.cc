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
    const std::string& path, const std::string& accepted_path) {
  absl::StatusOr<std::string> key = ReadSecretFile(path, 32);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> accepted =
      accepted_path.empty() ? std::string() : ReadOptionalSecretFile(accepted_path, 32);
  if (!accepted.ok()) return accepted.status();
  return DlrAuthenticator(*std::move(key), *std::move(accepted));
}

std::string DlrAuthenticator::TokenUnder(const std::string& key,
                                         absl::string_view message_id,
                                         int attempt) {
  const std::string n = absl::StrCat(attempt);
  return absl::BytesToHexString(KeyedHash(key, {"kannel-dlr", message_id, n}));
}

std::string DlrAuthenticator::Token(absl::string_view message_id,
                                    int attempt) const {
  return TokenUnder(key_, message_id, attempt);
}

bool DlrAuthenticator::Verify(absl::string_view message_id, int attempt,
                              absl::string_view token) const {
  // Both compared, so the time taken does not tell which key matched.
  const bool current = ConstantTimeEquals(Token(message_id, attempt), token);
  const bool accepted =
      !accepted_.empty() &&
      ConstantTimeEquals(TokenUnder(accepted_, message_id, attempt), token);
  return current || accepted;
}

std::string DlrUrl(absl::string_view base, absl::string_view message_id,
                   int attempt, const DlrAuthenticator& auth) {
  return absl::StrCat(base, "?id=", message_id, "&n=", attempt,
                      "&auth=", auth.Token(message_id, attempt), "&type=%d");
}

}  // namespace eid::otp
