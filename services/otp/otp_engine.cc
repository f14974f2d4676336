#include "services/otp/otp_engine.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/otp/otp_keys.h"
#include "services/otp/phone.h"
#include "services/otp/record_io.h"
#include "services/otp/sms_text.h"

namespace eid::otp {
namespace {

constexpr size_t kMaxRequestIdBytes = 128;
constexpr int kCodeDigits = 6;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Status WithField(absl::Status s, absl::string_view field) {
  return WithMetadata(std::move(s), "field", field);
}

absl::Status RetryAfter(absl::Status s, absl::Time t) {
  return WithMetadata(std::move(s), "retry_after", Rfc3339(t));
}

absl::Status Locked(absl::Time until) {
  absl::Status s = ResourceExhausted(v1::OTP_LOCKED,
                                     "too many wrong codes for this account");
  s = WithMetadata(std::move(s), "locked_until", Rfc3339(until));
  s = WithMetadata(std::move(s), "remaining_attempts", "0");
  return RetryAfter(std::move(s), until);
}

absl::Status ValidateRequestId(const std::string& request_id) {
  if (request_id.empty()) {
    return WithField(
        InvalidArgument(v1::FIELD_REQUIRED, "request_id is required"),
        "request_id");
  }
  if (request_id.size() > kMaxRequestIdBytes) {
    return WithMetadata(
        WithField(InvalidArgument(v1::FIELD_INVALID, "request_id is too long"),
                  "request_id"),
        "limit", absl::StrCat(kMaxRequestIdBytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateAccountId(const std::string& account_id) {
  if (account_id.empty()) {
    return WithField(
        InvalidArgument(v1::FIELD_REQUIRED, "account_id is required"),
        "account_id");
  }
  if (!IsValidAccountId(account_id)) {
    return WithField(
        InvalidArgument(v1::FIELD_INVALID, "account_id is malformed"),
        "account_id");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ValidatePhone(const std::string& phone) {
  if (phone.empty()) {
    return WithField(InvalidArgument(v1::FIELD_REQUIRED, "phone is required"),
                     "phone");
  }
  std::optional<std::string> normalized = NormalizePhone(phone);
  if (!normalized.has_value()) {
    return WithField(
        InvalidArgument(v1::PHONE_INVALID,
                        "phone must be \"0\" or \"+84\" followed by 9 digits"),
        "phone");
  }
  return *normalized;
}

bool IsSixDigits(absl::string_view code) {
  if (code.size() != kCodeDigits) return false;
  for (char c : code) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::Status OtpEngine::CheckLimits(const Options& o) {
  const auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("otp: ", what));
  };
  // Bounds that keep a 6-digit code a defence: short-lived, few guesses, a
  // lockout that slows guessing down.
  if (o.code_lifetime < absl::Seconds(30) || o.code_lifetime > absl::Minutes(15)) {
    return bad("the code lifetime must be 30s to 15m");
  }
  if (o.max_wrong_attempts < 1 || o.max_wrong_attempts > 10) {
    return bad("the wrong attempts allowed must be 1 to 10");
  }
  if (o.lockout < absl::Minutes(1) || o.lockout > absl::Hours(24)) {
    return bad("the lockout must be 1m to 24h");
  }
  if (o.resend_interval < absl::ZeroDuration() || o.resend_interval > o.code_lifetime) {
    return bad("the resend interval must be 0 to the code lifetime");
  }
  if (o.daily_cap_per_account < 1 || o.daily_cap_per_phone < 1 ||
      o.daily_cap_per_account > 100 || o.daily_cap_per_phone > 100) {
    return bad("the daily caps must be 1 to 100");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OtpEngine>> OtpEngine::Create(
    const Options& options, storage::KvStore& kv, SmsQueue& queue, Clock& clock,
    RandomSource& random, AccountStateLookup account_state) {
  if (absl::Status s = CheckLimits(options); !s.ok()) return s;
  absl::StatusOr<std::string> pepper = ReadSecretFile(options.pepper_file, 32);
  if (!pepper.ok()) return pepper.status();
  if (!account_state)
    return absl::InvalidArgumentError("otp: no account state lookup");
  return std::unique_ptr<OtpEngine>(new OtpEngine(options, std::move(*pepper),
                                                  kv, queue, clock, random,
                                                  std::move(account_state)));
}

OtpEngine::OtpEngine(const Options& options, std::string pepper,
                     storage::KvStore& kv, SmsQueue& queue, Clock& clock,
                     RandomSource& random, AccountStateLookup account_state)
    : options_(options),
      pepper_(std::move(pepper)),
      kv_(kv),
      queue_(queue),
      clock_(clock),
      random_(random),
      account_state_(std::move(account_state)) {}

std::string OtpEngine::Mac(absl::string_view otp_id,
                           absl::string_view code) const {
  const std::string input = absl::StrCat(otp_id, code);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), pepper_.data(), static_cast<int>(pepper_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
       &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

int OtpEngine::WrongAttempts(const AttemptsRecord& a, absl::Time now) const {
  if (a.locked_until_us() != 0 && FromMicros(a.locked_until_us()) <= now)
    return 0;
  return a.wrong();
}

// --- SendOtp ---

absl::StatusOr<v1::SendOtpResponse> OtpEngine::SendOtp(
    const v1::SendOtpRequest& request, bool* replayed) {
  if (absl::Status s = ValidateRequestId(request.request_id()); !s.ok())
    return s;
  if (absl::Status s = ValidateAccountId(request.account_id()); !s.ok())
    return s;
  absl::StatusOr<std::string> phone = ValidatePhone(request.phone());
  if (!phone.ok()) return phone.status();
  if (request.purpose() == v1::OTP_PURPOSE_UNSPECIFIED) {
    return WithField(InvalidArgument(v1::FIELD_REQUIRED, "purpose is required"),
                     "purpose");
  }
  if (request.purpose() != v1::OTP_PURPOSE_ACTIVATION &&
      request.purpose() != v1::OTP_PURPOSE_RECOVERY) {
    return WithField(InvalidArgument(v1::FIELD_INVALID, "purpose is unknown"),
                     "purpose");
  }
  bool ignored;
  if (replayed == nullptr) replayed = &ignored;
  *replayed = false;
  bool phone_counted = false;  // Once per call, not once per lost race.
  for (int race = 0; race < options_.max_races; ++race) {
    absl::StatusOr<v1::SendOtpResponse> r =
        TrySendOtp(request, *phone, replayed, phone_counted);
    if (r.ok() || !IsVersionMismatch(r.status())) return r;
  }
  return Aborted(v1::CONCURRENT_MODIFICATION,
                 "too many concurrent sends for this account");
}

absl::StatusOr<v1::SendOtpResponse> OtpEngine::TrySendOtp(
    const v1::SendOtpRequest& request, const std::string& phone,
    bool* replayed, bool& phone_counted) {
  const std::string& account = request.account_id();
  const std::string fingerprint =
      absl::StrCat("otp|", request.purpose(), "|", phone);
  const std::string request_key = RequestKey(account, request.request_id());

  absl::StatusOr<Versioned<RequestRecord>> earlier =
      Read<RequestRecord>(kv_, request_key);
  if (!earlier.ok()) return earlier.status();
  if (earlier->found()) {
    const RequestRecord& r = earlier->value;
    if (r.fingerprint() != fingerprint) {
      return InvalidArgument(v1::REQUEST_ID_CONFLICT,
                             "request_id was used for another request");
    }
    *replayed = true;
    v1::SendOtpResponse out;
    out.set_otp_id(r.otp_id());
    ToProtoTime(FromMicros(r.expires_us()), out.mutable_expires_at());
    ToProtoTime(FromMicros(r.resend_at_us()),
                out.mutable_resend_available_at());
    out.set_message_id(r.message_id());
    out.set_remaining_attempts(r.remaining_attempts());
    return out;
  }

  absl::StatusOr<v1::AccountState> state = account_state_(account);
  if (!state.ok()) return state.status();
  if (*state == v1::ACCOUNT_STATE_LOCKED) {
    return FailedPrecondition(v1::ACCOUNT_LOCKED, "the account is locked");
  }
  if (*state == v1::ACCOUNT_STATE_REVOKED) {
    return FailedPrecondition(v1::ACCOUNT_REVOKED, "the account is revoked");
  }

  const absl::Time now = clock_.Now();
  const int64_t day = VietnamDay(now);
  const std::string otp_key = OtpKey(account, request.purpose());
  const std::string day_key = AccountDayKey(account, day);
  absl::StatusOr<Versioned<OtpRecord>> live = Read<OtpRecord>(kv_, otp_key);
  if (!live.ok()) return live.status();
  absl::StatusOr<Versioned<AttemptsRecord>> attempts =
      Read<AttemptsRecord>(kv_, AttemptsKey(account));
  if (!attempts.ok()) return attempts.status();
  absl::StatusOr<Versioned<DayCounter>> sent_today =
      Read<DayCounter>(kv_, day_key);
  if (!sent_today.ok()) return sent_today.status();

  if (attempts->value.locked_until_us() != 0 &&
      FromMicros(attempts->value.locked_until_us()) > now) {
    return Locked(FromMicros(attempts->value.locked_until_us()));
  }
  if (live->found() && now < FromMicros(live->value.resend_at_us())) {
    return RetryAfter(
        ResourceExhausted(v1::OTP_RESEND_TOO_SOON,
                          "a code was sent too recently; wait before a resend"),
        FromMicros(live->value.resend_at_us()));
  }
  if (sent_today->value.sent() >= options_.daily_cap_per_account) {
    return WithMetadata(
        RetryAfter(ResourceExhausted(
                       v1::OTP_DAILY_CAP,
                       "the daily number of codes for this account is reached"),
                   NextVietnamDayStart(now)),
        "limit", absl::StrCat(options_.daily_cap_per_account));
  }
  if (!phone_counted) {
    if (absl::Status s = CountPhone(phone, now); !s.ok()) return s;
    phone_counted = true;
  }

  // The new code.
  OtpId id;
  id.account_id = account;
  id.purpose = request.purpose();
  id.seq = live->value.seq() + 1;
  id.nonce = absl::BytesToHexString(random_.Bytes(8));
  const std::string otp_id = FormatOtpId(id);
  const std::string code = random_.Digits(kCodeDigits);
  const absl::Time expires = now + options_.code_lifetime;
  const absl::Time resend_at = now + options_.resend_interval;

  SmsQueue::Outgoing sms;
  sms.message_id = queue_.NewMessageId();
  sms.phone = phone;
  sms.text = OtpSmsText(request.purpose(), code, options_.code_lifetime);
  sms.sensitive = true;
  sms.content_expires_at = expires;
  sms.guard_key = otp_key;
  sms.guard_otp_id = otp_id;
  absl::StatusOr<std::string> message_id = queue_.Enqueue(sms);
  if (!message_id.ok()) return message_id.status();

  OtpRecord record;
  record.set_otp_id(otp_id);
  record.set_seq(id.seq);
  record.set_code_mac(Mac(otp_id, code));
  record.set_created_us(ToMicros(now));
  record.set_expires_us(ToMicros(expires));
  record.set_resend_at_us(ToMicros(resend_at));
  record.set_message_id(*message_id);
  const int remaining =
      options_.max_wrong_attempts - WrongAttempts(attempts->value, now);
  RequestRecord answer;
  answer.set_fingerprint(fingerprint);
  answer.set_otp_id(otp_id);
  answer.set_expires_us(ToMicros(expires));
  answer.set_resend_at_us(ToMicros(resend_at));
  answer.set_message_id(*message_id);
  answer.set_remaining_attempts(remaining);
  DayCounter counted;
  counted.set_sent(sent_today->value.sent() + 1);

  v1::BatchRequest batch;
  AddPut(batch, otp_key, record, expires + options_.retention, live->version);
  AddPut(batch, request_key, answer, now + options_.retention, 0);
  AddPut(batch, day_key, counted, now + absl::Hours(48), sent_today->version);
  absl::StatusOr<v1::BatchResponse> stored = kv_.Batch(batch);
  if (!stored.ok()) return stored.status();
  queue_.Wake();  // Its SMS can go now (Enqueue left a guarded SMS asleep).

  log::Info("otp.sent")
      .With("otp_id", otp_id)
      .With("purpose", static_cast<int>(request.purpose()))
      .With("phone", log::MaskPhone(phone))
      .With("message_id", *message_id);
  v1::SendOtpResponse out;
  out.set_otp_id(otp_id);
  ToProtoTime(expires, out.mutable_expires_at());
  ToProtoTime(resend_at, out.mutable_resend_available_at());
  out.set_message_id(*message_id);
  out.set_remaining_attempts(remaining);
  return out;
}

absl::Status OtpEngine::CountPhone(const std::string& phone, absl::Time now) {
  const std::string key = PhoneDayKey(phone, VietnamDay(now));
  for (int race = 0; race < options_.max_races; ++race) {
    absl::StatusOr<Versioned<DayCounter>> c = Read<DayCounter>(kv_, key);
    if (!c.ok()) return c.status();
    if (c->value.sent() >= options_.daily_cap_per_phone) {
      return WithMetadata(
          RetryAfter(ResourceExhausted(
                         v1::OTP_DAILY_CAP,
                         "the daily number of codes for this phone is reached"),
                     NextVietnamDayStart(now)),
          "limit", absl::StrCat(options_.daily_cap_per_phone));
    }
    DayCounter next;
    next.set_sent(c->value.sent() + 1);
    v1::BatchRequest batch;
    AddPut(batch, key, next, now + absl::Hours(48), c->version);
    // Not fsync'd: a rate limit, not an answer anyone holds. A power loss
    // before the next synced write on its shard may forget a few sends of
    // the day (a crash of the process forgets none), and the per-account
    // cap, written with the code, still holds. An fsync here was one in
    // ten of an activation's, each ~0.27 ms of CPU (docs/activation.md).
    batch.set_defer_sync(true);
    absl::Status s = kv_.Batch(batch).status();
    if (s.ok() || !IsVersionMismatch(s)) return s;
  }
  return Aborted(v1::CONCURRENT_MODIFICATION,
                 "too many concurrent sends for this phone");
}

// --- CheckOtp ---

absl::StatusOr<v1::CheckOtpResponse> OtpEngine::CheckOtp(
    const v1::CheckOtpRequest& request) {
  if (request.otp_id().empty()) {
    return WithField(InvalidArgument(v1::FIELD_REQUIRED, "otp_id is required"),
                     "otp_id");
  }
  if (request.code().empty()) {
    return WithField(InvalidArgument(v1::FIELD_REQUIRED, "code is required"),
                     "code");
  }
  if (!IsSixDigits(request.code())) {
    return WithField(
        InvalidArgument(v1::FIELD_INVALID, "code must be 6 digits"), "code");
  }
  std::optional<OtpId> id = ParseOtpId(request.otp_id());
  if (!id.has_value()) return NotFound(v1::OTP_NOT_FOUND, "no such code");
  const std::string otp_key = OtpKey(id->account_id, id->purpose);
  const std::string attempts_key = AttemptsKey(id->account_id);

  for (int race = 0; race < options_.max_races; ++race) {
    absl::StatusOr<Versioned<OtpRecord>> live = Read<OtpRecord>(kv_, otp_key);
    if (!live.ok()) return live.status();
    absl::StatusOr<Versioned<AttemptsRecord>> attempts =
        Read<AttemptsRecord>(kv_, attempts_key);
    if (!attempts.ok()) return attempts.status();
    const absl::Time now = clock_.Now();
    const OtpRecord& r = live->value;

    if (!live->found()) return NotFound(v1::OTP_NOT_FOUND, "no such code");
    if (r.otp_id() != request.otp_id()) {
      if (r.seq() > id->seq) {
        return FailedPrecondition(v1::OTP_SUPERSEDED, "a newer code was sent");
      }
      return NotFound(v1::OTP_NOT_FOUND, "no such code");
    }
    if (r.consumed_us() != 0) {
      return FailedPrecondition(v1::OTP_ALREADY_USED,
                                "the code was already used");
    }
    if (now >= FromMicros(r.expires_us())) {
      return FailedPrecondition(v1::OTP_EXPIRED, "the code has expired");
    }
    const AttemptsRecord& a = attempts->value;
    if (a.locked_until_us() != 0 && FromMicros(a.locked_until_us()) > now) {
      return Locked(FromMicros(a.locked_until_us()));
    }

    const std::string mac = Mac(request.otp_id(), request.code());
    const bool right =
        mac.size() == r.code_mac().size() &&
        CRYPTO_memcmp(mac.data(), r.code_mac().data(), mac.size()) == 0;
    v1::BatchRequest batch;
    if (right) {
      OtpRecord consumed = r;
      consumed.set_consumed_us(ToMicros(now));
      AddPut(batch, otp_key, consumed,
             FromMicros(r.expires_us()) + options_.retention, live->version);
      if (attempts->found()) AddDelete(batch, attempts_key, attempts->version);
      absl::Status s = kv_.Batch(batch).status();
      if (IsVersionMismatch(s)) continue;  // Re-read: consumed, or counted.
      if (!s.ok()) return s;
      log::Info("otp.accepted").With("otp_id", request.otp_id());
      v1::CheckOtpResponse out;
      out.set_account_id(id->account_id);
      out.set_purpose(static_cast<v1::OtpPurpose>(id->purpose));
      ToProtoTime(now, out.mutable_consumed_at());
      return out;
    }

    const int wrong = WrongAttempts(a, now) + 1;
    AttemptsRecord next;
    next.set_wrong(wrong);
    absl::Time keep_until = now + options_.attempts_window;
    if (wrong >= options_.max_wrong_attempts) {
      next.set_locked_until_us(ToMicros(now + options_.lockout));
      keep_until = std::max(keep_until, now + options_.lockout);
    }
    AddPut(batch, attempts_key, next, keep_until, attempts->version);
    absl::Status s = kv_.Batch(batch).status();
    if (IsVersionMismatch(s)) continue;
    if (!s.ok()) return s;
    log::Info("otp.mismatch")
        .With("otp_id", request.otp_id())
        .With("wrong", wrong);
    if (next.locked_until_us() != 0) {
      log::Warning("otp.locked").With("otp_id", request.otp_id());
      return Locked(FromMicros(next.locked_until_us()));
    }
    return WithMetadata(Unauthenticated(v1::OTP_MISMATCH, "the code is wrong"),
                        "remaining_attempts",
                        absl::StrCat(options_.max_wrong_attempts - wrong));
  }
  return Aborted(v1::CONCURRENT_MODIFICATION,
                 "too many concurrent checks of this code");
}

// --- SendNotice ---

absl::StatusOr<v1::SendNoticeResponse> OtpEngine::SendNotice(
    const v1::SendNoticeRequest& request, bool* replayed) {
  if (absl::Status s = ValidateRequestId(request.request_id()); !s.ok())
    return s;
  if (absl::Status s = ValidateAccountId(request.account_id()); !s.ok())
    return s;
  absl::StatusOr<std::string> phone = ValidatePhone(request.phone());
  if (!phone.ok()) return phone.status();
  if (request.kind() == v1::NOTICE_KIND_UNSPECIFIED) {
    return WithField(InvalidArgument(v1::FIELD_REQUIRED, "kind is required"),
                     "kind");
  }
  std::string name;
  if (!request.full_name().empty() ||
      request.kind() == v1::NOTICE_KIND_REGISTRATION_APPROVED) {
    absl::StatusOr<std::string> folded =
        FoldNameToGsm7Upper(request.full_name());
    if (!folded.ok()) return WithField(folded.status(), "full_name");
    name = *std::move(folded);
  }
  absl::StatusOr<std::string> text = NoticeSmsText(request.kind(), name);
  if (!text.ok()) return WithField(text.status(), "kind");
  bool ignored;
  if (replayed == nullptr) replayed = &ignored;
  *replayed = false;

  const std::string& account = request.account_id();
  const std::string fingerprint =
      absl::StrCat("notice|", request.kind(), "|", *phone, "|", name);
  const std::string request_key = RequestKey(account, request.request_id());
  for (int race = 0; race < options_.max_races; ++race) {
    absl::StatusOr<Versioned<RequestRecord>> earlier =
        Read<RequestRecord>(kv_, request_key);
    if (!earlier.ok()) return earlier.status();
    const absl::Time now = clock_.Now();
    std::string message_id;
    if (earlier->found()) {
      if (earlier->value.fingerprint() != fingerprint) {
        return InvalidArgument(v1::REQUEST_ID_CONFLICT,
                               "request_id was used for another request");
      }
      *replayed = true;
      message_id = earlier->value.message_id();
    } else {
      // Claim the request id first, with the message id; the text can be
      // made again from the request, so a crash before the enqueue below is
      // repaired by the caller's retry.
      const std::string day_key =
          absl::StrCat(account, "|nday|", VietnamDay(now));
      absl::StatusOr<Versioned<DayCounter>> today =
          Read<DayCounter>(kv_, day_key);
      if (!today.ok()) return today.status();
      if (today->value.sent() >= options_.daily_notice_cap_per_account) {
        return RetryAfter(
            ResourceExhausted(v1::RATE_LIMITED,
                              "too many notices for this account today"),
            NextVietnamDayStart(now));
      }
      message_id = queue_.NewMessageId();
      RequestRecord claim;
      claim.set_fingerprint(fingerprint);
      claim.set_message_id(message_id);
      DayCounter counted;
      counted.set_sent(today->value.sent() + 1);
      v1::BatchRequest batch;
      AddPut(batch, request_key, claim, now + options_.retention, 0);
      AddPut(batch, day_key, counted, now + absl::Hours(48), today->version);
      absl::Status s = kv_.Batch(batch).status();
      if (IsVersionMismatch(s)) continue;
      if (!s.ok()) return s;
    }
    SmsQueue::Outgoing sms;
    sms.message_id = message_id;
    sms.phone = *phone;
    sms.text = *text;
    absl::StatusOr<std::string> queued = queue_.Enqueue(sms);
    if (!queued.ok()) return queued.status();
    v1::SendNoticeResponse out;
    out.set_message_id(*queued);
    return out;
  }
  return Aborted(v1::CONCURRENT_MODIFICATION,
                 "too many concurrent notices for this account");
}

}  // namespace eid::otp
