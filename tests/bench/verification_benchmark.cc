// verification_benchmark: VerifyQr end to end, in verifications per server
// CPU-second and latency percentiles, beside a floor server that only
// decodes the token and checks its Ed25519 signature — both driven by the
// same closed-loop load generator at the same concurrency, in the same run.
//
//   bazel run -c opt //tests/bench:verification_benchmark -- --rounds=5
//
// Processes, as in production (verification is its own workload, the one
// that scales with verification load):
//   backend       eidd --services=shard,audit,otp,activation,qr
//   verification  eidd --services=verification, --shards/--peers to backend
//   floor         tools/loadgen/verify_floor_server (keys from backend's QR)
// Before the rounds: an official with the verifier role and a few citizens
// with QR verification on are activated (OTPs from the SMS outbox).
//
// Per round: the citizens issue --verifications fresh tokens (IssueQr, not
// measured); the official's signed VerifyQr requests are made in advance;
// then, in alternating order, the floor verifies them all and the real
// service verifies them all (each token once: every answer must be
// GENUINE). Server CPU is utime+stime from /proc, from idle to idle, so the
// work a phase leaves behind (the audit spool's sender, the shard, the
// audit log) is counted in it. Two figures for the real service: per
// CPU-second of the verification process alone, and per CPU-second of
// verification + backend (the session check, the replay guard, the account
// read and the audit append it causes there). Each figure is the median
// over the rounds (after one warm-up round); a ratio is the median of the
// rounds' ratios.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "eid/v1/qr.grpc.pb.h"
#include "eid/v1/verification.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "sodium.h"
#include "services/activation/device_signature.h"
#include "services/activation/test_device.h"
#include "services/common/internal_auth.h"
#include "services/common/secrets.h"
#include "tests/bench/bench_stats.h"
#include "tests/util/eidd_process.h"
#include "tests/util/subprocess.h"
#include "tests/verification/citizen_driver.h"
#include "tools/loadgen/closed_loop.h"

ABSL_FLAG(int, rounds, 5, "Measured rounds (the median is reported).");
ABSL_FLAG(int, warmup_rounds, 1, "Rounds run first and not counted.");
ABSL_FLAG(int, verifications, 4000,
          "Tokens issued and verified per round (all within their minute).");
ABSL_FLAG(int, concurrency, 16, "VerifyQr calls in flight, for both servers.");
ABSL_FLAG(int, citizens, 8, "Citizens issuing the tokens.");
ABSL_FLAG(bool, colocated, false,
          "Host verification in the backend process (calls to its shard, session "
          "check and audit stay in process) instead of a process of its own.");
ABSL_FLAG(bool, keep_data, false, "Keep the temporary data dir and the logs.");

namespace eid::bench {
namespace {

using activation::TestDevice;
using testing::CitizenDriver;

constexpr char kIssueQr[] = "/eid.v1.QrService/IssueQr";
constexpr char kVerifyQr[] = "/eid.v1.VerificationService/VerifyQr";

// A signed-in person of the benchmark: account, device, session.
struct Person {
  std::string account_id;
  std::unique_ptr<TestDevice> device;
  std::string session;
};

// One server under load: its stub and the processes whose CPU it costs.
struct Target {
  std::unique_ptr<v1::VerificationService::Stub> stub;
  std::vector<pid_t> own;     // The server itself.
  std::vector<pid_t> behind;  // Other processes it calls (may be empty).
};

struct PhaseFigures {
  loadgen::LoadResult load;
  double own_cpu = 0;
  double all_cpu = 0;
};

// CPU-µs of one check of each signature a verification involves, on this
// thread: the token's Ed25519 (libsodium; the floor's work) and the
// official's P-256 device signature over the request (OpenSSL, key cached;
// the session check's), so the budget the target leaves can be compared
// with what the checks the issue asks for cost, on the same machine.
struct CryptoCosts {
  double ed25519_us = 0;
  double p256_us = 0;
};

CryptoCosts MeasureCrypto(int n) {
  CryptoCosts costs;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  const std::string message(96, 'm');  // About a token's signed part.
  unsigned char sig[crypto_sign_BYTES];
  const auto* m = reinterpret_cast<const unsigned char*>(message.data());
  crypto_sign_detached(sig, nullptr, m, message.size(), sk);
  int good = 0;
  double start = ThreadCpuSeconds();
  for (int i = 0; i < n; ++i) {
    good += crypto_sign_verify_detached(sig, m, message.size(), pk) == 0;
  }
  costs.ed25519_us = (ThreadCpuSeconds() - start) * 1e6 / n;

  activation::TestDevice device("crypto-reference");
  const std::string digest(32, 'd');
  const v1::DeviceSignature signature = device.Sign(kVerifyQr, digest);
  start = ThreadCpuSeconds();
  for (int i = 0; i < n; ++i) {
    good += activation::VerifyDeviceSignature(device.public_der(), kVerifyQr, digest,
                                              signature.signature());
  }
  costs.p256_us = (ThreadCpuSeconds() - start) * 1e6 / n;
  if (good != 2 * n) costs = CryptoCosts{};  // A failed check: no figures.
  return costs;
}

class Benchmark {
 public:
  Benchmark(std::shared_ptr<grpc::Channel> backend, Target floor, Target real,
            const std::vector<pid_t>& all)
      : qr_(v1::QrService::NewStub(backend)),
        floor_(std::move(floor)),
        real_(std::move(real)),
        all_(all) {}

  std::vector<Person>& citizens() { return citizens_; }
  Person& official() { return official_; }

  absl::Status Round(int round, bool counted) {
    absl::StatusOr<std::vector<std::string>> tokens =
        IssueTokens(absl::GetFlag(FLAGS_verifications));
    if (!tokens.ok()) return tokens.status();
    std::vector<v1::VerifyQrRequest> requests;
    requests.reserve(tokens->size());
    for (const std::string& token : *tokens) {
      v1::VerifyQrRequest r;
      r.set_token(token);
      *r.mutable_credentials() =
          CitizenDriver::Signed(official_.session, *official_.device, kVerifyQr, r);
      requests.push_back(std::move(r));
    }
    PhaseFigures floor, real;
    // Alternate which goes first: a shared machine drifts.
    if (round % 2 == 0) {
      floor = Phase(floor_, requests);
      real = Phase(real_, requests);
    } else {
      real = Phase(real_, requests);
      floor = Phase(floor_, requests);
    }
    if (floor.load.ok() != floor.load.calls || floor.load.calls != requests.size()) {
      return absl::InternalError("floor: " + floor.load.Summary());
    }
    if (real.load.ok() != real.load.calls || real.load.calls != requests.size()) {
      return absl::InternalError("real (not all GENUINE): " + real.load.Summary());
    }
    const double floor_rate = floor.load.calls / floor.own_cpu;
    const double real_rate = real.load.calls / real.own_cpu;
    const double real_all_rate = real.load.calls / real.all_cpu;
    std::printf("round %d%s: floor %.0f/CPU-s p99 %s | verification %.0f/CPU-s (%.2fx), "
                "with backend %.0f/CPU-s (%.2fx), p99 %s (%.2fx)\n",
                round, counted ? "" : " (warm-up)", floor_rate,
                absl::FormatDuration(floor.load.p99).c_str(), real_rate,
                real_rate / floor_rate, real_all_rate, real_all_rate / floor_rate,
                absl::FormatDuration(real.load.p99).c_str(),
                absl::FDivDuration(real.load.p99, floor.load.p99));
    std::printf("  floor: %s\n  real:  %s\n", floor.load.Summary().c_str(),
                real.load.Summary().c_str());
    std::fflush(stdout);
    if (!counted) return absl::OkStatus();
    const CryptoCosts crypto = MeasureCrypto(2000);
    ed25519_us_.push_back(crypto.ed25519_us);
    p256_us_.push_back(crypto.p256_us);
    floor_rate_.push_back(floor_rate);
    real_rate_.push_back(real_rate);
    real_all_rate_.push_back(real_all_rate);
    own_ratio_.push_back(real_rate / floor_rate);
    all_ratio_.push_back(real_all_rate / floor_rate);
    floor_p50_.push_back(absl::ToDoubleMicroseconds(floor.load.p50));
    floor_p99_.push_back(absl::ToDoubleMicroseconds(floor.load.p99));
    floor_p999_.push_back(absl::ToDoubleMicroseconds(floor.load.p999));
    real_p50_.push_back(absl::ToDoubleMicroseconds(real.load.p50));
    real_p99_.push_back(absl::ToDoubleMicroseconds(real.load.p99));
    real_p999_.push_back(absl::ToDoubleMicroseconds(real.load.p999));
    p99_ratio_.push_back(absl::FDivDuration(real.load.p99, floor.load.p99));
    return absl::OkStatus();
  }

  void Report() const {
    std::printf("\nmedians over %zu rounds, %d verifications each, concurrency %d:\n",
                floor_rate_.size(), absl::GetFlag(FLAGS_verifications),
                absl::GetFlag(FLAGS_concurrency));
    std::printf("  floor (decode + Ed25519)       %8.0f verifications/server CPU-s   "
                "p50 %.0f us  p99 %.0f us  p999 %.0f us\n",
                Median(floor_rate_), Median(floor_p50_), Median(floor_p99_),
                Median(floor_p999_));
    std::printf("  VerifyQr, verification process %8.0f verifications/server CPU-s   "
                "p50 %.0f us  p99 %.0f us  p999 %.0f us\n",
                Median(real_rate_), Median(real_p50_), Median(real_p99_),
                Median(real_p999_));
    std::printf("  VerifyQr, verification+backend %8.0f verifications/server CPU-s\n",
                Median(real_all_rate_));
    std::printf("  ratio to floor: %.2fx (verification process; target 0.8x), "
                "%.2fx (with backend); p99 %.2fx (target <= 1.5x)\n",
                Median(own_ratio_), Median(all_ratio_), Median(p99_ratio_));
    const double floor_us = 1e6 / Median(floor_rate_);
    std::printf("  per verification: floor %.0f CPU-us, so 0.8x leaves %.0f us for all "
                "the rest; on this thread an Ed25519 verify costs %.0f us, the "
                "official's P-256 device signature %.0f us\n",
                floor_us, floor_us * 0.25, Median(ed25519_us_), Median(p256_us_));
  }

 private:
  // `count` fresh tokens from the citizens in turn.
  absl::StatusOr<std::vector<std::string>> IssueTokens(int count) {
    std::vector<std::string> tokens;
    int issued = 0;
    loadgen::UnaryLoad<v1::IssueQrRequest, v1::IssueQrResponse> load;
    load.prepare = [this](grpc::ClientContext* c, const v1::IssueQrRequest& r,
                          grpc::CompletionQueue* cq) {
      return qr_->PrepareAsyncIssueQr(c, r, cq);
    };
    load.next = [&](v1::IssueQrRequest* r) {
      if (issued == count) return false;
      const Person& citizen = citizens_[issued++ % citizens_.size()];
      *r->mutable_credentials() =
          CitizenDriver::Signed(citizen.session, *citizen.device, kIssueQr, *r);
      return true;
    };
    load.check = [&](const v1::IssueQrResponse& response) {
      tokens.push_back(response.token());
      return true;
    };
    loadgen::LoadOptions options;
    options.concurrency = 16;
    options.duration = absl::Seconds(30);
    const loadgen::LoadResult result = loadgen::RunClosedLoop(options, load);
    if (static_cast<int>(tokens.size()) != count) {
      return absl::InternalError("IssueQr: " + result.Summary());
    }
    return tokens;
  }

  // `target` answers every request once, at the benchmark's concurrency.
  PhaseFigures Phase(const Target& target, const std::vector<v1::VerifyQrRequest>& requests) {
    std::vector<pid_t> all = target.own;
    all.insert(all.end(), target.behind.begin(), target.behind.end());
    size_t next = 0;
    loadgen::UnaryLoad<v1::VerifyQrRequest, v1::VerifyQrResponse> load;
    load.prepare = [&](grpc::ClientContext* c, const v1::VerifyQrRequest& r,
                       grpc::CompletionQueue* cq) {
      return target.stub->PrepareAsyncVerifyQr(c, r, cq);
    };
    load.next = [&](v1::VerifyQrRequest* r) {
      if (next == requests.size()) return false;
      *r = requests[next++];
      return true;
    };
    load.check = [](const v1::VerifyQrResponse& response) {
      return response.verdict() == v1::VERDICT_GENUINE;
    };
    loadgen::LoadOptions options;
    options.concurrency = absl::GetFlag(FLAGS_concurrency);
    options.duration = absl::Seconds(40);  // Bounded by the requests.
    Settle(all_);
    const double own_before = CpuOf(target.own);
    const double all_before = CpuOf(all);
    PhaseFigures figures;
    figures.load = loadgen::RunClosedLoop(options, load);
    Settle(all_);
    figures.own_cpu = CpuOf(target.own) - own_before;
    figures.all_cpu = CpuOf(all) - all_before;
    return figures;
  }

  std::unique_ptr<v1::QrService::Stub> qr_;
  Target floor_, real_;
  const std::vector<pid_t> all_;
  std::vector<Person> citizens_;
  Person official_;
  std::vector<double> floor_rate_, real_rate_, real_all_rate_, own_ratio_, all_ratio_,
      floor_p50_, floor_p99_, floor_p999_, real_p50_, real_p99_, real_p999_, p99_ratio_,
      ed25519_us_, p256_us_;
};

// Activates `person` (level 2) on a new device and logs in; false on failure.
bool SignUp(CitizenDriver& driver, int serial, const std::string& name, Person& person) {
  const std::string id_number = absl::StrFormat("001090%06d", 500000 + serial);
  const std::string phone = absl::StrFormat("0912%06d", 500000 + serial);
  person.device = std::make_unique<TestDevice>(absl::StrCat("bench-phone-", serial));
  person.session = driver.Activate(testing::Citizen(id_number, phone, name), 2,
                                   *person.device, &person.account_id);
  return !person.session.empty();
}

absl::StatusOr<int> StartFloor(const std::string& qr_address, const std::string& dir,
                               std::unique_ptr<testing::Subprocess>& process) {
  const std::string port_file = dir + "/floor.port";
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> started = testing::Subprocess::Start(
      {testing::RunfilePath("tools/loadgen/verify_floor_server"), "--qr_server=" + qr_address,
       "--port_file=" + port_file},
      dir + "/floor.log");
  if (!started.ok()) return started.status();
  process = std::move(*started);
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) return port;
    absl::SleepFor(absl::Milliseconds(20));  // Waiting for another process.
  }
  return absl::DeadlineExceededError("the floor server wrote no port; see " + dir +
                                     "/floor.log");
}

absl::Status Run(const std::string& dir) {
  const std::string backend_dir = dir + "/backend";
  const std::string keys = backend_dir + "/keys";
  const bool colocated = absl::GetFlag(FLAGS_colocated);
  absl::StatusOr<testing::EiddProcess> backend = testing::StartEidd(
      {colocated ? "--services=shard,audit,otp,activation,qr,verification"
                 : "--services=shard,audit,otp,activation,qr",
       "--data_dir=" + backend_dir, "--generate_dev_keys"},
      dir + "/backend");
  if (!backend.ok()) return backend.status();
  const std::string b = backend->grpc_address();
  absl::StatusOr<testing::EiddProcess> own_process;  // Unless colocated.
  if (!colocated) {
    own_process = testing::StartEidd(
        {"--services=verification", "--data_dir=" + dir + "/verification",
         "--keys_dir=" + keys, "--shards=" + b,
         "--peers=activation=" + b + ",qr=" + b + ",audit=" + b},
        dir + "/verification");
    if (!own_process.ok()) return own_process.status();
  }
  testing::EiddProcess* verification = colocated ? &*backend : &*own_process;
  std::unique_ptr<testing::Subprocess> floor_process;
  absl::StatusOr<int> floor_port = StartFloor(b, dir, floor_process);
  if (!floor_port.ok()) return floor_port.status();
  const absl::Time started = absl::Now();
  std::printf("backend pid %d on %s, verification pid %d on %s, floor pid %d on port %d\n",
              backend->process->pid(), b.c_str(), verification->process->pid(),
              verification->grpc_address().c_str(), floor_process->pid(), *floor_port);

  absl::StatusOr<std::string> token = ReadSecretFile(keys + "/internal_token");
  if (!token.ok()) return token.status();
  const InternalAuth internal(*token);
  auto backend_channel = grpc::CreateChannel(b, grpc::InsecureChannelCredentials());
  CitizenDriver driver(backend_channel, internal, backend_dir + "/sms-outbox.jsonl");

  const pid_t backend_pid = backend->process->pid();
  const pid_t verification_pid = verification->process->pid();
  Target floor{v1::VerificationService::NewStub(grpc::CreateChannel(
                   absl::StrCat("127.0.0.1:", *floor_port), grpc::InsecureChannelCredentials())),
               {floor_process->pid()},
               {}};
  Target real{v1::VerificationService::NewStub(grpc::CreateChannel(
                  verification->grpc_address(), grpc::InsecureChannelCredentials())),
              {verification_pid},
              colocated ? std::vector<pid_t>{} : std::vector<pid_t>{backend_pid}};
  std::vector<pid_t> all = {backend_pid, floor_process->pid()};
  if (!colocated) all.push_back(verification_pid);
  Benchmark bench(backend_channel, std::move(floor), std::move(real), all);
  if (!SignUp(driver, 0, "Trần Thị Bình", bench.official())) {
    return absl::InternalError("the official's activation failed");
  }
  if (absl::Status s = driver.GrantVerifierRole(bench.official().account_id); !s.ok()) return s;
  for (int i = 1; i <= absl::GetFlag(FLAGS_citizens); ++i) {
    Person& citizen = bench.citizens().emplace_back();
    if (!SignUp(driver, i, "Nguyễn Văn An", citizen)) {
      return absl::InternalError(absl::StrCat("citizen ", i, "'s activation failed"));
    }
    if (absl::Status s = driver.EnableQrVerification(citizen.session, *citizen.device);
        !s.ok()) {
      return s;
    }
  }
  // A freshly started shard fences the tokens of its first seconds
  // (docs/storage.md): start once that window has passed.
  absl::SleepFor(started + absl::Seconds(7) - absl::Now());

  const int warmup = absl::GetFlag(FLAGS_warmup_rounds);
  for (int r = 0; r < warmup + absl::GetFlag(FLAGS_rounds); ++r) {
    if (absl::Status s = bench.Round(r, r >= warmup); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("round ", r, ": ", s.message(),
                                                 " (logs in ", dir, ")"));
    }
  }
  bench.Report();
  return absl::OkStatus();
}

int Main() {
  char dir_template[] = "/tmp/eid-verify-bench-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = dir_template;
  const absl::Status s = Run(dir);  // Stops every process it started.
  if (!s.ok()) {
    std::fprintf(stderr, "verification_benchmark: %s\n", s.ToString().c_str());
    return 1;
  }
  if (!absl::GetFlag(FLAGS_keep_data)) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace eid::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return eid::bench::Main();
}
