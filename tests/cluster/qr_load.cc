#include "tests/cluster/qr_load.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/client_context.h"
#include "services/common/status.h"
#include "services/qr/token/qr_token.h"
#include "tests/verification/citizen_driver.h"

namespace eid::testing {
namespace {

constexpr char kIssueQr[] = "/eid.v1.QrService/IssueQr";
constexpr char kVerifyQr[] = "/eid.v1.VerificationService/VerifyQr";
// Citizens of this load: ID numbers and phones no other load of the test uses.
constexpr int kFirstSerial = 900001;

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
}

// Adds one VerifyQr outcome to `f` (everything but the per-nonce count).
void Count(const absl::Status& s, v1::Verdict verdict, bool represented,
           QrLoad::Figures& f) {
  ++f.verifications;
  f.represented += represented;
  if (!s.ok()) {
    f.unavailable += s.code() == absl::StatusCode::kUnavailable ||
                     s.code() == absl::StatusCode::kDeadlineExceeded;
    return;
  }
  switch (verdict) {
    case v1::VERDICT_GENUINE: ++f.genuine; break;
    case v1::VERDICT_REPLAYED: ++f.replayed; break;
    case v1::VERDICT_EXPIRED: ++f.expired; break;
    default: ++f.other_verdicts;
  }
}

}  // namespace

QrLoad::QrLoad(Endpoints endpoints, const InternalAuth& internal, std::string sms_outbox,
               Recorder record)
    : endpoints_(std::move(endpoints)),
      internal_(internal),
      sms_outbox_(std::move(sms_outbox)),
      record_(std::move(record)),
      qr_(v1::QrService::NewStub(endpoints_.qr)) {
  for (const auto& channel : endpoints_.verifiers) {
    verifiers_.push_back(v1::VerificationService::NewStub(channel));
  }
}

QrLoad::~QrLoad() { Stop(); }

absl::Status QrLoad::Prepare(int citizens) {
  CitizenDriver driver(endpoints_.activation, internal_, sms_outbox_);
  for (int i = 0; i <= citizens; ++i) {
    const int serial = kFirstSerial + i;
    const bool official = i == citizens;
    auto device = std::make_unique<activation::TestDevice>(
        absl::StrCat(official ? "official-phone-" : "qr-phone-", serial));
    std::string account_id;
    const std::string session =
        driver.Activate(Citizen(absl::StrFormat("001090%06d", serial),
                                absl::StrFormat("093%07d", serial)),
                        2, *device, &account_id);
    if (session.empty()) return absl::InternalError(absl::StrCat("activating ", serial));
    if (official) {
      if (absl::Status s = driver.GrantVerifierRole(account_id); !s.ok()) return s;
      official_session_ = session;
      official_device_ = std::move(device);
    } else {
      if (absl::Status s = driver.EnableQrVerification(session, *device); !s.ok()) return s;
      citizens_.push_back(Holder{std::move(device), account_id, session});
    }
  }
  return absl::OkStatus();
}

void QrLoad::Start() {
  for (size_t i = 0; i < citizens_.size(); ++i) {
    threads_.emplace_back([this, i] { Run(i); });
  }
}

void QrLoad::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void QrLoad::Run(size_t citizen) {
  const size_t replicas = verifiers_.size();
  for (size_t n = citizen; !stop_; ++n) {
    absl::StatusOr<std::string> token = Issue(citizens_[citizen]);
    if (!token.ok()) {
      // Not waiting for anything: only not spinning while qr is unreachable.
      absl::SleepFor(absl::Milliseconds(50));
      continue;
    }
    const size_t first = n % replicas;
    Verify(*token, first, false);
    // The same token again: on the other replica, and where it was first.
    Verify(*token, (first + 1) % replicas, true);
    Verify(*token, first, true);
  }
}

absl::StatusOr<std::string> QrLoad::Issue(const Holder& citizen) {
  v1::IssueQrRequest request;
  *request.mutable_credentials() =
      CitizenDriver::Signed(citizen.session, *citizen.device, kIssueQr, request);
  v1::IssueQrResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  absl::Status s = record_("IssueQr", FromGrpcStatus(qr_->IssueQr(&context, request, &response)));
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  ++figures_.issued;
  return response.token();
}

void QrLoad::Verify(const std::string& token, size_t replica, bool represented,
                    Figures* mine) {
  v1::VerifyQrRequest request;
  request.set_token(token);
  {
    absl::MutexLock lock(&sign_mu_);
    *request.mutable_credentials() =
        CitizenDriver::Signed(official_session_, *official_device_, kVerifyQr, request);
  }
  v1::VerifyQrResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  const absl::Status s = record_(
      "VerifyQr", FromGrpcStatus(verifiers_[replica]->VerifyQr(&context, request, &response)));
  absl::MutexLock lock(&mu_);
  Count(s, response.verdict(), represented, figures_);
  if (mine != nullptr) Count(s, response.verdict(), represented, *mine);
  if (!s.ok()) return;
  switch (response.verdict()) {
    case v1::VERDICT_GENUINE: {
      absl::StatusOr<qr::ParsedToken> parsed = qr::Parse(token);
      // A GENUINE token always parses; key it by its text if not, to count it.
      const std::string nonce =
          parsed.ok() ? absl::BytesToHexString(parsed->claims.nonce) : token;
      ++genuine_by_nonce_[nonce];
      accepted_.emplace_back(absl::Now(), token);
      break;
    }
    case v1::VERDICT_REPLAYED:
    case v1::VERDICT_EXPIRED:
      break;
    default:
      ++other_[v1::Verdict_Name(response.verdict())];
  }
}

std::vector<std::string> QrLoad::RecentGenuine(absl::Duration window) {
  const absl::Time since = absl::Now() - window;
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (auto it = accepted_.rbegin(); it != accepted_.rend() && it->first >= since; ++it) {
    out.push_back(it->second);
  }
  return out;
}

QrLoad::Figures QrLoad::Represent(const std::vector<std::string>& tokens,
                                  absl::Duration retry_for) {
  const absl::Time deadline = absl::Now() + retry_for;
  Figures mine;
  for (const std::string& token : tokens) {
    for (size_t r = 0; r < verifiers_.size(); ++r) {
      for (;;) {
        const int64_t unanswered = mine.unavailable;
        Verify(token, r, true, &mine);
        if (mine.unavailable == unanswered || absl::Now() > deadline) break;
        absl::SleepFor(absl::Milliseconds(100));  // The official scans again.
      }
    }
  }
  return mine;
}

int64_t QrLoad::genuine() {
  absl::MutexLock lock(&mu_);
  return figures_.genuine;
}

bool QrLoad::AwaitGenuine(int64_t from, int64_t more, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (genuine() < from + more) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(100));  // The load runs in real time.
  }
  return true;
}

std::map<std::string, int> QrLoad::AcceptedTwice() {
  absl::MutexLock lock(&mu_);
  std::map<std::string, int> out;
  for (const auto& [nonce, n] : genuine_by_nonce_) {
    if (n > 1) out[nonce] = n;
  }
  return out;
}

QrLoad::Figures QrLoad::figures() {
  absl::MutexLock lock(&mu_);
  Figures f = figures_;
  f.nonces = static_cast<int64_t>(genuine_by_nonce_.size());
  return f;
}

std::map<std::string, int64_t> QrLoad::other_verdicts() {
  absl::MutexLock lock(&mu_);
  return other_;
}

}  // namespace eid::testing
