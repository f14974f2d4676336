// OtpEngine: the core of OTP dispatch, without gRPC. Sends one-time codes
// (and notices) through the SMS queue, and checks codes once. All state is
// in the storage shards ("otp" namespace, keys in otp_keys.h); the engine
// itself holds none, so any number of processes can serve the same accounts.
//
// Codes: 6 digits from the injected CSPRNG, stored only as
// HMAC-SHA256(pepper, otp_id || code); compared in constant time. One live
// code per account and purpose: a new code supersedes the previous one.
//
// SendOtp, in order: the request record (a retry of a request_id gets the
// first answer and sends nothing; the same id with other parameters is
// REQUEST_ID_CONFLICT); the account's state (LOCKED or REVOKED: no code);
// the OTP lock; the resend interval; the daily caps per account and per
// phone (Vietnam days). Then the SMS is queued, and only then one Batch on
// the account's shard stores the code, the request record and the account's
// daily count. If that Batch fails, or the process dies before it, the queued
// SMS is never sent (its guard finds no such code, see sms_queue.h), and the
// caller, who got no answer, retries. The phone's daily count is a separate
// compare-and-swap made before (it lives on the phone's shard), so a failure
// after it costs that phone one count, never gives it one.
//
// CheckOtp, in order: unknown id -> OTP_NOT_FOUND; a newer code exists ->
// OTP_SUPERSEDED; consumed -> OTP_ALREADY_USED; expired -> OTP_EXPIRED
// (before any comparison); account locked -> OTP_LOCKED; then the HMAC is
// compared. Right: one Batch consumes the code (compare-and-swap on its
// version) and clears the account's wrong-attempt counter, so of concurrent
// checks of a right code exactly one succeeds and the others see
// OTP_ALREADY_USED. Wrong: the account's counter (shared by every purpose
// and flow) goes up by compare-and-swap; the attempt that reaches
// max_wrong_attempts locks checks for `lockout` and answers OTP_LOCKED,
// earlier ones OTP_MISMATCH with "remaining_attempts".
//
// Thread-safe.
#ifndef EID_SERVICES_OTP_OTP_ENGINE_H_
#define EID_SERVICES_OTP_OTP_ENGINE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eid/otp/records.pb.h"
#include "eid/v1/common.pb.h"
#include "eid/v1/otp.pb.h"
#include "services/common/clock.h"
#include "services/common/random.h"
#include "services/otp/sms_queue.h"
#include "storage/shard/kv_store.h"

namespace eid::otp {

// The state of an account, from the accounts service. NOT_FOUND
// (ACCOUNT_NOT_FOUND) or UNAVAILABLE are passed on to the caller.
using AccountStateLookup = std::function<absl::StatusOr<v1::AccountState>(
    const std::string& account_id)>;

class OtpEngine {
 public:
  struct Options {
    // How long a code is accepted.
    absl::Duration code_lifetime = absl::Minutes(5);
    // Wrong codes per account (all purposes and flows together) before
    // checks lock.
    int max_wrong_attempts = 5;
    // How long checks stay locked after the last allowed wrong code.
    absl::Duration lockout = absl::Minutes(30);
    // Wrong codes are forgotten this long after the last one (and after a
    // right code at once).
    absl::Duration attempts_window = absl::Hours(24);
    // Minimum time between two codes for one account and purpose.
    absl::Duration resend_interval = absl::Seconds(60);
    // Codes per account, and per phone, per day (Vietnam time).
    int daily_cap_per_account = 10;
    int daily_cap_per_phone = 10;
    // Notices per account per day (RATE_LIMITED beyond).
    int daily_notice_cap_per_account = 20;
    // A code's record is kept this long after its expiry (checks say
    // OTP_EXPIRED, then OTP_NOT_FOUND); request ids are remembered as long.
    absl::Duration retention = absl::Hours(24);
    // The HMAC pepper: a secret file (services/common/secrets.h), >= 32 bytes.
    std::string pepper_file;
    // Lost compare-and-swap races tolerated in one call before ABORTED
    // (CONCURRENT_MODIFICATION).
    int max_races = 16;
  };

  // INVALID_ARGUMENT naming the first limit of `options` out of bounds: a
  // code lifetime outside 30 s..15 min, wrong attempts outside 1..10, a
  // lockout outside 1 min..24 h, a resend interval below 0 or above the
  // lifetime, a daily cap outside 1..100.
  static absl::Status CheckLimits(const Options& options);

  // Checks the limits (CheckLimits) and reads the pepper.
  // FAILED_PRECONDITION if it cannot be read.
  // `kv`, `queue`, `clock` and `random` must outlive the engine.
  static absl::StatusOr<std::unique_ptr<OtpEngine>> Create(
      const Options& options, storage::KvStore& kv, SmsQueue& queue,
      Clock& clock, RandomSource& random, AccountStateLookup account_state);

  // See otp.proto and above. `replayed` is set when the answer is that of an
  // earlier call with the same request_id (nothing was sent).
  absl::StatusOr<v1::SendOtpResponse> SendOtp(const v1::SendOtpRequest& request,
                                              bool* replayed = nullptr);
  absl::StatusOr<v1::CheckOtpResponse> CheckOtp(
      const v1::CheckOtpRequest& request);
  absl::StatusOr<v1::SendNoticeResponse> SendNotice(
      const v1::SendNoticeRequest& request, bool* replayed = nullptr);

  const Options& options() const { return options_; }

 private:
  OtpEngine(const Options& options, std::string pepper, storage::KvStore& kv,
            SmsQueue& queue, Clock& clock, RandomSource& random,
            AccountStateLookup account_state);
  std::string Mac(absl::string_view otp_id, absl::string_view code) const;
  // Wrong attempts in force at `now` (0 once a lock has ended).
  int WrongAttempts(const AttemptsRecord& a, absl::Time now) const;
  // One try of SendOtp; ABORTED when a race was lost and the call may be
  // tried again.
  // `phone_counted`: the phone's day count was raised by an earlier try of
  // this call (set once this try raises it).
  absl::StatusOr<v1::SendOtpResponse> TrySendOtp(
      const v1::SendOtpRequest& request, const std::string& phone,
      bool* replayed, bool& phone_counted);
  absl::Status CountPhone(const std::string& phone, absl::Time now);

  const Options options_;
  const std::string pepper_;
  storage::KvStore& kv_;
  SmsQueue& queue_;
  Clock& clock_;
  RandomSource& random_;
  const AccountStateLookup account_state_;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_OTP_ENGINE_H_
