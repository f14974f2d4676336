// Fault tests on the local cluster (tools/cluster/cluster.sh: every role its
// own process, three shards, two verification replicas, a real Prometheus
// scraping them): under an activation, audit and QR verification load, kill
// -9 and restart a shard, the audit service and a verification replica.
// Afterwards every request got an answer (OK, UNAVAILABLE or
// DEADLINE_EXCEEDED; every VerifyQr answer a verdict), every acknowledged
// activation and audit event is there, none twice, no QR nonce was GENUINE
// twice — also when the same token was shown again to both replicas before,
// during and after the restarts — and Prometheus saw each target go down and
// come back.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "eid/v1/activation.grpc.pb.h"
#include "eid/v1/audit.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/activation/test_device.h"
#include "services/common/internal_auth.h"
#include "services/common/proto_time.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/common/tls.h"
#include "tests/cluster/cluster_harness.h"
#include "tests/cluster/prometheus_query.h"
#include "tests/cluster/qr_load.h"
#include "tests/util/sms_outbox.h"

namespace eid {
namespace {

using testing::LocalCluster;
using testing::QrLoad;

constexpr char kPasscode[] = "482913";
constexpr int kActivationClients = 4;
constexpr int kQrCitizens = 3;  // One QR load thread each.
// Tokens shown again around each fault: the newest GENUINE ones, at most.
constexpr size_t kRepresented = 20;

// Every answer a client got, by kind. Anything but OK, UNAVAILABLE and
// DEADLINE_EXCEEDED is a failure of the test (kept as examples).
class Tally {
 public:
  absl::Status Record(const std::string& method, absl::Status s) {
    absl::MutexLock lock(&mu_);
    ++total_;
    switch (s.code()) {
      case absl::StatusCode::kOk: ++ok_; break;
      case absl::StatusCode::kUnavailable: ++unavailable_; ++by_method_[method]; break;
      case absl::StatusCode::kDeadlineExceeded: ++deadline_; ++by_method_[method]; break;
      default:
        if (other_.size() < 10) other_.push_back(absl::StrCat(method, ": ", s.ToString()));
        ++others_;
    }
    return s;
  }
  std::string Summary() const {
    absl::MutexLock lock(&mu_);
    std::string failed;
    for (const auto& [method, n] : by_method_) absl::StrAppend(&failed, " ", method, "=", n);
    return absl::StrCat(total_, " requests: OK ", ok_, ", UNAVAILABLE ", unavailable_,
                        ", DEADLINE_EXCEEDED ", deadline_, ", other ", others_,
                        "; failed by method:", failed.empty() ? " none" : failed);
  }
  int64_t others() const { absl::MutexLock lock(&mu_); return others_; }
  // UNAVAILABLE and DEADLINE_EXCEEDED answers of methods other than `methods`.
  int64_t FailedExcept(const std::set<std::string>& methods) const {
    absl::MutexLock lock(&mu_);
    int64_t n = 0;
    for (const auto& [m, count] : by_method_) n += methods.count(m) > 0 ? 0 : count;
    return n;
  }
  std::vector<std::string> other_examples() const {
    absl::MutexLock lock(&mu_);
    return other_;
  }

 private:
  mutable absl::Mutex mu_;
  int64_t total_ = 0, ok_ = 0, unavailable_ = 0, deadline_ = 0, others_ = 0;
  std::map<std::string, int64_t> by_method_;
  std::vector<std::string> other_;
};

// The code of the newest OTP text the otp process sent to `phone`, waiting
// up to `timeout` for one; "" if none came.
std::string AwaitOtp(testing::SmsOutbox& outbox, const std::string& phone,
                     absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  static const std::regex kCode("Ma OTP[^0-9]*([0-9]{6})");
  for (;;) {
    const std::vector<std::string> texts = outbox.Texts(phone);
    std::smatch m;
    for (auto t = texts.rbegin(); t != texts.rend(); ++t) {
      if (std::regex_search(*t, m, kCode)) return m[1];
    }
    if (absl::Now() > deadline) return "";
    absl::SleepFor(absl::Milliseconds(50));  // Delivery is a real queue's.
  }
}

// A mutual-TLS channel to `process`, presenting `identity`'s certificate
// (the method policy decides by it: "client" for the app's methods,
// "operator" for reading the audit log, "verification" to append to it).
std::shared_ptr<grpc::Channel> Channel(const LocalCluster& cluster,
                                       const std::string& process,
                                       const std::string& identity) {
  absl::StatusOr<std::optional<TlsConfig>> tls = LoadTlsFiles(
      {cluster.ca_file(), cluster.cert_file(identity), cluster.key_file(identity)});
  EXPECT_TRUE(tls.ok() && tls->has_value()) << identity << ": " << tls.status();
  if (!tls.ok() || !tls->has_value()) return nullptr;
  grpc::ChannelArguments args;
  // Back to a restarted server within a second, not after minutes of backoff.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  return grpc::CreateCustomChannel(cluster.GrpcAddress(process),
                                   MtlsChannelCredentials(**tls), args);
}

class ClusterFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = LocalCluster::Start(std::string(getenv("TEST_TMPDIR")) + "/cluster");
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    auto token = ReadSecretFile(cluster_->keys_dir() + "/internal_token");
    ASSERT_TRUE(token.ok()) << token.status();
    internal_ = std::make_unique<InternalAuth>(*token);
    // Over mutual TLS, like every caller of the cluster: the intake and the
    // app through the gateway ("client"), the audit log read by an
    // operator, appends as the verification service would make them.
    activation_ = v1::ActivationService::NewStub(Channel(*cluster_, "activation", "client"));
    audit_ = v1::AuditService::NewStub(Channel(*cluster_, "audit", "verification"));
    audit_reader_ = v1::AuditService::NewStub(Channel(*cluster_, "audit", "operator"));
    outbox_ = std::make_unique<testing::SmsOutbox>(cluster_->sms_outbox());
    QrLoad::Endpoints endpoints;
    endpoints.activation = Channel(*cluster_, "activation", "client");
    endpoints.qr = Channel(*cluster_, "qr", "client");
    for (const char* replica : {"verification-0", "verification-1"}) {
      endpoints.verifiers.push_back(Channel(*cluster_, replica, "client"));
    }
    qr_ = std::make_unique<QrLoad>(
        endpoints, *internal_, cluster_->sms_outbox(),
        [this](const std::string& method, absl::Status s) { return tally_.Record(method, s); });
  }

  void TearDown() override {
    StopLoad();
    cluster_.reset();
  }

  template <typename Stub, typename Request, typename Response, typename Call>
  absl::Status Rpc(const char* method, Stub& stub, Call call, const Request& request,
                   Response* response, bool internal = false) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (internal) internal_->Attach(context);
    return tally_.Record(method, FromGrpcStatus((stub.*call)(&context, request, response)));
  }

  // One citizen from registration to a bound device; the account id and ID
  // number once ActivateDevice is acknowledged, empty if any step was refused
  // (the citizen would try again later; this load moves on).
  struct Activated {
    std::string account_id;
    std::string id_number;
  };
  std::optional<Activated> ActivateOne(int n) {
    using S = v1::ActivationService::Stub;
    S& stub = *activation_;
    const std::string id_number = absl::StrFormat("001090%06d", n);
    const std::string phone = absl::StrFormat("091%07d", n);
    v1::RegisterLevel2Request reg;
    reg.set_request_id(absl::StrCat("reg-", n));
    v1::PersonalDetails& p = *reg.mutable_person();
    p.set_id_number(id_number);
    p.set_phone(phone);
    p.set_full_name("Nguyễn Văn An");
    p.mutable_date_of_birth()->set_year(1990);
    p.mutable_date_of_birth()->set_month(5);
    p.mutable_date_of_birth()->set_day(17);
    p.set_sex(v1::SEX_MALE);
    p.mutable_locality()->set_province_code("01");
    p.mutable_locality()->set_district_code("001");
    reg.mutable_intake()->set_card_number(id_number);
    reg.mutable_intake()->mutable_intake_office()->set_kind(v1::ORG_UNIT_KIND_POLICE_OFFICE);
    reg.mutable_intake()->mutable_intake_office()->set_code("CA-HN-001");
    reg.mutable_intake()->set_officer_id("CB-0042");
    v1::RegisterLevel2Response registered;
    if (!Rpc("RegisterLevel2", stub, &S::RegisterLevel2, reg, &registered, true).ok()) return std::nullopt;
    const std::string account_id = registered.account().account_id();
    v1::ApproveRegistrationRequest approve;
    approve.set_account_id(account_id);
    v1::ApproveRegistrationResponse approved;
    if (!Rpc("ApproveRegistration", stub, &S::ApproveRegistration, approve, &approved, true)
             .ok()) {
      return std::nullopt;
    }
    v1::StartActivationRequest start;
    start.set_request_id(absl::StrCat("start-", n));
    start.set_id_number(id_number);
    start.set_phone(phone);
    v1::StartActivationResponse started;
    if (!Rpc("StartActivation", stub, &S::StartActivation, start, &started).ok()) return std::nullopt;
    const std::string code = AwaitOtp(*outbox_, "+84" + phone.substr(1), absl::Seconds(20));
    if (code.empty()) {  // Looked for again at the end: late, or never sent?
      absl::MutexLock lock(&mu_);
      otp_not_seen_.push_back("+84" + phone.substr(1));
      return std::nullopt;
    }
    v1::VerifyActivationOtpRequest verify;
    verify.set_activation_id(started.activation_id());
    verify.set_code(code);
    v1::VerifyActivationOtpResponse session;
    if (!Rpc("VerifyActivationOtp", stub, &S::VerifyActivationOtp, verify, &session).ok()) {
      return std::nullopt;
    }
    v1::SetPasscodeRequest passcode;
    passcode.set_activation_session_token(session.activation_session_token());
    passcode.set_passcode(kPasscode);
    v1::SetPasscodeResponse passcode_set;
    if (!Rpc("SetPasscode", stub, &S::SetPasscode, passcode, &passcode_set).ok()) return std::nullopt;
    v1::SetSecurityAnswersRequest answers;
    answers.set_activation_session_token(session.activation_session_token());
    for (const char* q : {"q_first_school", "q_favourite_dish", "q_home_village"}) {
      v1::SecurityAnswer& a = *answers.add_answers();
      a.set_question_id(q);
      a.set_answer("Hoa");
    }
    v1::SetSecurityAnswersResponse answered;
    if (!Rpc("SetSecurityAnswers", stub, &S::SetSecurityAnswers, answers, &answered).ok()) {
      return std::nullopt;
    }
    activation::TestDevice device(absl::StrCat("phone-", n));
    v1::ActivateDeviceRequest activate;
    activate.set_activation_session_token(session.activation_session_token());
    activate.set_device_id(device.device_id());
    activate.set_public_key(device.public_der());
    *activate.mutable_proof() =
        device.SignRequest("/eid.v1.ActivationService/ActivateDevice", activate);
    v1::ActivateDeviceResponse activated;
    if (!Rpc("ActivateDevice", stub, &S::ActivateDevice, activate, &activated).ok()) return std::nullopt;
    return Activated{account_id, id_number};
  }

  // Ten events a call, each with its own id; the acknowledged ones kept.
  void AppendBatch(int batch) {
    v1::AppendRequest request;
    for (int k = 0; k < 10; ++k) {
      v1::AuditEvent& e = *request.add_events();
      e.set_event_id(absl::StrCat("fault-", batch, "-", k));
      ToProtoTime(absl::Now(), e.mutable_time());
      e.set_service("verification");
      e.set_action("verification.verdict");
      e.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
      e.set_actor("account:official-1");
      e.set_subject(std::string(32, 'a' + batch % 8));
    }
    v1::AppendResponse response;
    if (!Rpc("Append", *audit_, &v1::AuditService::Stub::Append, request, &response, true)
             .ok()) {
      return;
    }
    absl::MutexLock lock(&mu_);
    acked_events_.insert(acked_events_.end(), response.results().begin(),
                         response.results().end());
  }

  void StartLoad() {
    for (int t = 0; t < kActivationClients; ++t) {
      load_.emplace_back([this] {
        while (!stop_) {
          std::optional<Activated> citizen = ActivateOne(next_citizen_++);
          if (!citizen.has_value()) continue;
          absl::MutexLock lock(&mu_);
          acked_activations_.push_back(*citizen);
        }
      });
    }
    load_.emplace_back([this] {
      for (int batch = 0; !stop_; ++batch) {
        AppendBatch(batch);
        absl::SleepFor(absl::Milliseconds(20));  // A steady trickle, not a flood.
      }
    });
    qr_->Start();
  }

  void StopLoad() {
    if (qr_ != nullptr) qr_->Stop();
    stop_ = true;
    for (std::thread& t : load_) t.join();
    load_.clear();
  }

  size_t Activations() {
    absl::MutexLock lock(&mu_);
    return acked_activations_.size();
  }

  // Waits (up to `timeout`) until `more` activations beyond `from` were
  // acknowledged.
  bool AwaitActivations(size_t from, size_t more, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (Activations() < from + more) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(100));  // The load runs in real time.
    }
    return true;
  }

  // Acknowledged activations that do not read back as activated.
  size_t LostActivations(const std::vector<Activated>& activations) {
    size_t lost = 0;
    for (const Activated& a : activations) {
      v1::GetAccountRequest request;
      request.set_account_id(a.account_id);
      v1::GetAccountResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      internal_->Attach(context);
      if (!activation_->GetAccount(&context, request, &response).ok() ||
          response.account().state() != v1::ACCOUNT_STATE_ACTIVATED) {
        ++lost;
      }
    }
    return lost;
  }

  // How many successful "activation.device_activated" events the audit log
  // holds for `id_number` (-1 if it cannot be read).
  int DeviceActivatedEvents(const std::string& id_number) {
    v1::QueryRequest request;
    request.mutable_filter()->set_subject_id_number(id_number);
    request.mutable_filter()->set_action("activation.device_activated");
    v1::QueryResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    internal_->Attach(context);
    if (!audit_reader_->Query(&context, request, &response).ok()) return -1;
    int n = 0;
    for (const v1::AuditRecord& r : response.records()) {
      n += r.event().outcome() == v1::AUDIT_OUTCOME_SUCCESS;
    }
    return n;
  }

  // The activation service's audit events reach the log through its spool,
  // also those of activations made while audit was down: waits (up to
  // `timeout`) until each acknowledged activation has its event. Returns
  // how many have none (`*twice`: how many have more than one).
  size_t MissingActivationEvents(const std::vector<Activated>& activations,
                                 absl::Duration timeout, size_t* twice) {
    const absl::Time deadline = absl::Now() + timeout;
    std::vector<Activated> missing = activations;
    *twice = 0;
    while (!missing.empty()) {
      std::vector<Activated> still;
      for (const Activated& a : missing) {
        const int n = DeviceActivatedEvents(a.id_number);
        if (n < 1) still.push_back(a);
        if (n > 1) ++*twice;
      }
      missing = std::move(still);
      if (missing.empty() || absl::Now() > deadline) break;
      absl::SleepFor(absl::Milliseconds(500));  // The spools drain in real time.
    }
    return missing.size();
  }

  // Acknowledged appends not at their acknowledged place.
  size_t LostEvents(const std::vector<v1::AppendResult>& events) {
    size_t lost = 0;
    for (const v1::AppendResult& a : events) {
      v1::ReadLeavesRequest read;
      read.set_partition(a.partition());
      read.set_start_index(a.leaf_index());
      read.set_end_index(a.leaf_index() + 1);
      v1::ReadLeavesResponse leaf;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      internal_->Attach(context);
      if (!audit_reader_->ReadLeaves(&context, read, &leaf).ok() || leaf.records_size() != 1 ||
          leaf.records(0).event().event_id() != a.event_id()) {
        ++lost;
      }
    }
    return lost;
  }

  std::string UpOf(const std::string& process) {
    return absl::StrCat("up{process=\"", process, "\"}");
  }

  // Shows `tokens` (already GENUINE once) again on both replicas; one line
  // of figures for what came back.
  std::string Represent(const std::string& when, const std::vector<std::string>& tokens,
                        absl::Duration retry_for = absl::ZeroDuration()) {
    const QrLoad::Figures f = qr_->Represent(tokens, retry_for);
    EXPECT_EQ(f.genuine, 0) << when << ": a token shown again was GENUINE";
    return absl::StrFormat(
        "  %s: %d tokens x 2 replicas: GENUINE %d, REPLAYED %d, FENCED/EXPIRED %d, "
        "other %d, UNAVAILABLE|DEADLINE_EXCEEDED %d\n",
        when, tokens.size(), f.genuine, f.replayed, f.expired, f.other_verdicts,
        f.unavailable);
  }

  // kill -9, Prometheus sees up == 0, a few seconds under load, restart,
  // Prometheus sees up == 1. Tokens already accepted are shown again to
  // both replicas before the kill, in the hole and after the restart.
  void KillAndRestart(const std::string& process) {
    const int prom = cluster_->prometheus_port();
    std::vector<std::string> tokens = qr_->RecentGenuine(absl::Seconds(20));
    if (tokens.size() > kRepresented) tokens.resize(kRepresented);
    represented_ += Represent(process + " before", tokens);
    absl::Status killed = cluster_->Kill(process);
    ASSERT_TRUE(killed.ok()) << killed;
    auto down = testing::AwaitPromSample(prom, UpOf(process) + " == 0", absl::Seconds(20));
    ASSERT_TRUE(down.ok()) << "Prometheus never saw " << process << " down: " << down.status();
    represented_ += Represent(process + " down", tokens);
    absl::SleepFor(absl::Seconds(2));  // The load runs against the hole.
    absl::Status restarted = cluster_->Restart(process);
    ASSERT_TRUE(restarted.ok()) << restarted;
    auto up = testing::AwaitPromSample(prom, UpOf(process) + " == 1", absl::Seconds(20));
    ASSERT_TRUE(up.ok()) << "Prometheus never saw " << process << " back: " << up.status();
    // Once a new token is GENUINE again, the old ones once more (scanned
    // again while their path still reconnects): REPLAYED, or FENCED if
    // their nonce was on a shard that restarted since.
    const absl::Time restarted_at = absl::Now();
    ASSERT_TRUE(qr_->AwaitGenuine(qr_->genuine(), 1, absl::Seconds(30)))
        << "no GENUINE after restarting " << process << ": " << tally_.Summary();
    represented_ += absl::StrCat("  ", process, ": QR GENUINE again ",
                                 absl::FormatDuration(absl::Trunc(
                                     absl::Now() - restarted_at, absl::Milliseconds(100))),
                                 " after Prometheus saw it up\n");
    represented_ += Represent(process + " restarted", tokens, absl::Seconds(10));
    faults_.push_back(process);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<v1::ActivationService::Stub> activation_;
  std::unique_ptr<v1::AuditService::Stub> audit_;         // Appends.
  std::unique_ptr<v1::AuditService::Stub> audit_reader_;  // Query, ReadLeaves.
  std::unique_ptr<testing::SmsOutbox> outbox_;
  Tally tally_;  // Before qr_: it records into it.
  std::unique_ptr<QrLoad> qr_;
  std::string represented_;  // Figures of the tokens shown again.
  std::atomic<bool> stop_{false};
  std::atomic<int> next_citizen_{1};
  std::vector<std::thread> load_;
  std::vector<std::string> faults_;
  absl::Mutex mu_;
  std::vector<Activated> acked_activations_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> otp_not_seen_ ABSL_GUARDED_BY(mu_);  // Phones.
  std::vector<v1::AppendResult> acked_events_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ClusterFaultTest, KillNineUnderLoadLosesNothingAndPrometheusSeesIt) {
  const absl::Time began = absl::Now();
  const int prom = cluster_->prometheus_port();
  // Every target scraped and up before the first fault.
  const std::string targets = absl::StrCat(cluster_->processes().size() - 1);
  auto all_up = testing::AwaitPromSample(prom, "count(up == 1) == " + targets,
                                         absl::Seconds(30));
  ASSERT_TRUE(all_up.ok()) << all_up.status();
  // Mutual TLS everywhere: eidctl (operator certificate) finds every
  // service SERVING, and a plaintext client gets no answer at all.
  std::string status;
  absl::Status serving = cluster_->Status(&status);
  ASSERT_TRUE(serving.ok()) << serving;
  {
    auto plaintext = v1::ActivationService::NewStub(grpc::CreateChannel(
        cluster_->GrpcAddress("activation"), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetAccountRequest request;
    v1::GetAccountResponse response;
    EXPECT_EQ(plaintext->GetAccount(&context, request, &response).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  // The QR citizens and the official, before any fault.
  absl::Status prepared = qr_->Prepare(kQrCitizens);
  ASSERT_TRUE(prepared.ok()) << prepared;

  StartLoad();
  ASSERT_TRUE(AwaitActivations(0, 2, absl::Seconds(60))) << tally_.Summary();
  ASSERT_TRUE(qr_->AwaitGenuine(0, 10, absl::Seconds(30))) << tally_.Summary();

  for (const char* victim : {"shard-1", "audit", "verification-0"}) {
    KillAndRestart(victim);
    if (HasFatalFailure()) return;  // TearDown stops the load and the cluster.
  }
  // Recovery: activations and QR verifications succeed again after the
  // last restart.
  const int64_t genuine_before = qr_->genuine();
  const bool recovered = AwaitActivations(Activations(), 2, absl::Seconds(60));
  const bool qr_recovered = qr_->AwaitGenuine(genuine_before, 10, absl::Seconds(30));
  StopLoad();
  EXPECT_TRUE(recovered) << "no activation after the faults: " << tally_.Summary();
  EXPECT_TRUE(qr_recovered) << "no GENUINE after the faults: " << tally_.Summary();
  const absl::Duration load_time = absl::Now() - began;

  // Every request answered OK, UNAVAILABLE or DEADLINE_EXCEEDED.
  EXPECT_EQ(tally_.others(), 0) << ::testing::PrintToString(tally_.other_examples());
  // No QR nonce accepted twice: not across replicas, not across the shard
  // that remembers it being killed.
  const std::map<std::string, int> twice = qr_->AcceptedTwice();
  EXPECT_TRUE(twice.empty()) << ::testing::PrintToString(twice);
  const QrLoad::Figures qr = qr_->figures();
  EXPECT_EQ(qr.genuine, qr.nonces);
  EXPECT_GT(qr.replayed, 0);

  std::vector<Activated> activations;
  std::vector<v1::AppendResult> events;
  std::vector<std::string> otp_not_seen;
  {
    absl::MutexLock lock(&mu_);
    activations = acked_activations_;
    events = acked_events_;
    otp_not_seen = otp_not_seen_;
  }
  // Every acknowledged activation is there, activated, once.
  const size_t activations_lost = LostActivations(activations);
  EXPECT_EQ(activations_lost, 0u) << "of " << activations.size();
  std::set<std::string> accounts;
  for (const Activated& a : activations) accounts.insert(a.account_id);
  EXPECT_EQ(accounts.size(), activations.size());

  // Its audit event too, spooled while audit was down.
  size_t activation_events_twice = 0;
  const size_t activation_events_missing =
      MissingActivationEvents(activations, absl::Seconds(30), &activation_events_twice);
  EXPECT_EQ(activation_events_missing, 0u) << "of " << activations.size();
  EXPECT_EQ(activation_events_twice, 0u);

  // Every acknowledged append is in its place, each once.
  const size_t events_lost = LostEvents(events);
  EXPECT_EQ(events_lost, 0u) << "of " << events.size();
  std::set<std::string> ids;
  std::set<std::pair<uint32_t, uint64_t>> places;
  for (const v1::AppendResult& a : events) {
    ids.insert(a.event_id());
    places.insert({a.partition(), a.leaf_index()});
  }
  const size_t duplicates = events.size() - ids.size();
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(places.size(), events.size()) << "two events acknowledged in one place";
  EXPECT_GT(events.size(), 0u);

  // OTP texts a citizen gave up waiting for (after an acknowledged
  // StartActivation): looked for once more, to tell late from never sent.
  int otp_late = 0;
  const absl::Time otp_deadline = absl::Now() + absl::Seconds(20);
  for (const std::string& phone : otp_not_seen) {
    otp_late += !AwaitOtp(*outbox_, phone, otp_deadline - absl::Now()).empty();
  }

  // What Prometheus saw: each victim down at some point, up now; and the
  // activation service's own UNAVAILABLE answers while a shard was gone.
  for (const std::string& victim : faults_) {
    auto min = testing::AwaitPromSample(
        prom, absl::StrCat("min_over_time(", UpOf(victim), "[10m])"), absl::Seconds(5));
    ASSERT_TRUE(min.ok()) << min.status();
    EXPECT_EQ(*min, 0) << victim;
  }
  auto unavailable = testing::AwaitPromSample(
      prom,
      "sum(grpc_server_handled_total{job=\"activation\",grpc_code=~\"UNAVAILABLE|"
      "DEADLINE_EXCEEDED\"}) or vector(0)",
      absl::Seconds(5));
  ASSERT_TRUE(unavailable.ok()) << unavailable.status();
  // Every caller presented a certificate its methods allow: the processes
  // each other (their role certificates), the test as client, operator and
  // verification. No call anywhere was refused by the method policy.
  auto denied = testing::AwaitPromSample(
      prom, "sum(grpc_server_auth_denied_total) or vector(0)", absl::Seconds(5));
  ASSERT_TRUE(denied.ok()) << denied.status();
  EXPECT_EQ(*denied, 0);
  // The verification replicas' own count of tokens the restarted shard
  // fenced (counters reset by a restart: increase() spans it).
  auto fenced = testing::AwaitPromSample(
      prom, "sum(increase(eid_verification_replay_fenced_total[10m])) or vector(0)",
      absl::Seconds(5));
  ASSERT_TRUE(fenced.ok()) << fenced.status();
  // The activation calls that failed failed in the activation server (it
  // was never killed): its own counters show them.
  if (tally_.FailedExcept({"Append", "IssueQr", "VerifyQr"}) > 0) {
    EXPECT_GT(*unavailable, 0);
  }

  const std::string figures = absl::StrCat(
      "load: ", kActivationClients, " activation clients + 1 audit appender + ", kQrCitizens,
      " QR clients for ",
      absl::FormatDuration(absl::Trunc(load_time, absl::Seconds(1))),
      "\nfaults: kill -9 and restart of ", absl::StrJoin(faults_, ", "), " (",
      faults_.size(), ")\nanswers: ", tally_.Summary(),
      "\nactivations acknowledged ", activations.size(), ", lost ", activations_lost,
      ", their audit events missing ", activation_events_missing, ", twice ",
      activation_events_twice, "\nOTP SMS not seen within 20 s: ", otp_not_seen.size(),
      " (arrived later ", otp_late, ")",
      "\naudit appends acknowledged ", events.size(), " events, lost ", events_lost,
      ", duplicates ", duplicates,
      "\nprometheus: up 0 then 1 for each fault; activation server UNAVAILABLE|"
      "DEADLINE_EXCEEDED answers counted ", *unavailable,
      "; calls refused by the mTLS method policy ", *denied,
      "; tokens fenced by the restarted shard (replicas' counters) ~",
      absl::StrFormat("%.0f", *fenced),
      absl::StrFormat(
          "\nQR: %d citizens, 1 official; %d tokens issued, %d verifications (%d of them "
          "the same token shown again): GENUINE %d, REPLAYED %d, FENCED/EXPIRED %d, "
          "other verdicts %d %s, UNAVAILABLE|DEADLINE_EXCEEDED %d",
          kQrCitizens, qr.issued, qr.verifications, qr.represented, qr.genuine, qr.replayed,
          qr.expired, qr.other_verdicts, ::testing::PrintToString(qr_->other_verdicts()),
          qr.unavailable),
      "\nQR nonces GENUINE: ", qr.nonces, ", GENUINE twice: ", twice.size(),
      "\ntokens shown again around each fault:\n", represented_);
  std::printf("cluster fault test figures:\n%s\n", figures.c_str());
  RecordProperty("figures", figures);
}

}  // namespace
}  // namespace eid
