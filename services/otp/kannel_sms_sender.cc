#include "services/otp/kannel_sms_sender.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/secrets.h"
#include "services/otp/http_client.h"

namespace eid::otp {

absl::StatusOr<std::unique_ptr<KannelSmsSender>> KannelSmsSender::Create(
    const Options& options) {
  absl::StatusOr<std::string> secret =
      ReadSecretFile(options.credentials_file, 3);
  if (!secret.ok()) return secret.status();
  absl::string_view line = absl::StripAsciiWhitespace(*secret);
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos || colon == 0 ||
      colon + 1 == line.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("kannel credentials file ", options.credentials_file,
                     " does not hold \"username:password\""));
  }
  std::optional<DlrAuthenticator> dlr;
  if (!options.dlr_url.empty()) {
    absl::StatusOr<DlrAuthenticator> auth =
        DlrAuthenticator::FromFile(options.dlr_key_file, options.dlr_key_accepted_file);
    if (!auth.ok()) return auth.status();
    dlr = *std::move(auth);
  }
  return std::unique_ptr<KannelSmsSender>(new KannelSmsSender(
      options, std::string(line.substr(0, colon)),
      std::string(line.substr(colon + 1)), std::move(dlr)));
}

std::string KannelSmsSender::TargetFor(const Sms& sms) const {
  std::string target = absl::StrCat(
      "/cgi-bin/sendsms?username=", UrlEncode(username_),
      "&password=", UrlEncode(password_), "&from=", UrlEncode(options_.from),
      "&to=", UrlEncode(sms.to), "&text=", UrlEncode(sms.text),
      "&charset=UTF-8&coding=0");
  if (!options_.smsc.empty())
    absl::StrAppend(&target, "&smsc=", UrlEncode(options_.smsc));
  if (dlr_.has_value()) {
    absl::StrAppend(
        &target, "&dlr-mask=", kDlrMask, "&dlr-url=",
        UrlEncode(DlrUrl(options_.dlr_url, sms.message_id, sms.attempt, *dlr_)));
  }
  return target;
}

absl::Status KannelSmsSender::Send(const Sms& sms) {
  absl::StatusOr<HttpResponse> response =
      HttpGet(options_.host, options_.port, TargetFor(sms), options_.deadline);
  if (!response.ok()) {
    // The status message names the socket error, never the URL (it holds the
    // password and the text).
    return absl::Status(response.status().code(),
                        absl::StrCat("kannel: ", response.status().message()));
  }
  if (response->status == 202 || response->status == 200)
    return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("kannel: HTTP ", response->status));
}

}  // namespace eid::otp
