// KannelSmsSender: sends each SMS through a Kannel smsbox's HTTP sendsms
// interface:
//   GET /cgi-bin/sendsms?username=U&password=P&from=VNeID&to=+84...&text=...
// (every value URL-encoded). HTTP 202 or 200 means Kannel accepted the
// message; anything else is an error naming the status ("kannel: HTTP 403").
// Each call has a deadline. Thread-safe.
//
// With a dlr_url, each request also asks for delivery reports:
//   &dlr-mask=19&dlr-url=<dlr_url>?id=..&n=..&auth=..&type=%d
// (kannel_dlr.h); smsbox calls that URL back, and DlrReceiver records the
// outcome in the queue.
//
// The credentials file (mode 0600) holds "username:password" on one line.
// For messages longer than one SMS, the sendsms-user group needs
// `max-messages` > 1 (and `concatenation = true`).
#ifndef EID_SERVICES_OTP_KANNEL_SMS_SENDER_H_
#define EID_SERVICES_OTP_KANNEL_SMS_SENDER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/otp/kannel_dlr.h"
#include "services/otp/sms_sender.h"

namespace eid::otp {

class KannelSmsSender : public SmsSender {
 public:
  struct Options {
    std::string host = "127.0.0.1";  // The smsbox.
    int port = 13013;                // Its sendsms-port.
    std::string credentials_file;    // "username:password".
    std::string from = "VNeID";      // The sender shown on the phone.
    std::string smsc;                // Kannel smsc-id to route to; "" = any.
    absl::Duration deadline = absl::Seconds(5);  // Of each request.
    // Where smsbox sends delivery reports, as smsbox reaches it (e.g.
    // "http://otp.eid.svc:8082/kannel/dlr"); "" = none asked for.
    std::string dlr_url;
    // The key of the dlr-url tokens (needed with dlr_url), and a second
    // key reports may be signed with while it is rotated (optional: empty
    // or absent file = none).
    std::string dlr_key_file;
    std::string dlr_key_accepted_file;
  };

  // Reads the credentials (and the DLR key). FAILED_PRECONDITION if a file
  // is missing, open to others, or (credentials) not "username:password".
  static absl::StatusOr<std::unique_ptr<KannelSmsSender>> Create(
      const Options& options);

  absl::Status Send(const Sms& sms) override;
  std::string name() const override { return "kannel"; }

  // The request target for `sms` (tests).
  std::string TargetFor(const Sms& sms) const;

 private:
  KannelSmsSender(const Options& options, std::string username,
                  std::string password, std::optional<DlrAuthenticator> dlr)
      : options_(options),
        username_(std::move(username)),
        password_(std::move(password)),
        dlr_(std::move(dlr)) {}
  const Options options_;
  const std::string username_;
  const std::string password_;
  const std::optional<DlrAuthenticator> dlr_;  // Set with dlr_url.
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_KANNEL_SMS_SENDER_H_
