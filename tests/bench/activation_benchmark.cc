// activation_benchmark: activations and logins per server CPU-second, end to
// end, beside the raw Argon2id rate at the same parameters measured in the
// same run; OTP checks per server CPU-second beside a no-op gRPC call.
//
//   bazel run -c opt //tests/bench:activation_benchmark -- --rounds=5
//
// eidd runs as a separate process (--services=all, a temporary data dir, SMS
// to the outbox file); client threads drive it over loopback gRPC. Server
// CPU is utime+stime of the eidd process from /proc, read after the server
// has gone idle before and after each phase, so work a phase leaves behind
// (the audit spool's sender, the SMS queue, RocksDB) is counted in it. The
// raw Argon2id rate is PasscodeHasher (pepper HMAC + libsodium Argon2id, the
// server's own parameters) without a HashGate, so libsodium's call as it
// ships, with fresh memory for each hash; beside it, the same through a
// one-slot HashGate, in memory kept mapped as eidd hashes (argon2_memory.h).
// Both on one thread of this process, by thread CPU,
// half just before and half just after the phase it is compared with (the
// machine may be shared), each half after one uncounted hash: the first hash
// after an idle spell costs several steady ones on a VM that hands freed
// memory back to its host. The phases are large (96 activations) for the
// same reason: the server's first hashes of a phase are cold too, and a
// country's peak keeps it warm. --eidd_flags passes settings to eidd for
// A/B runs, --work_dir moves its data. Each figure is the median over the rounds (after
// one warm-up round); a ratio is the median of the rounds' ratios.
//
// Per round:
//   registration  RegisterLevel2 + ApproveRegistration (internal calls)
//   activation    the five steps, the code read from the SMS outbox: one
//                 Argon2id hash (the passcode; security answers are HMACs)
//   login         CreateLoginChallenge + Login: one Argon2id verify
//   otp check     OtpService.CheckOtp of a right code (codes sent beforehand)
//   no-op         grpc.health.v1.Health/Check
#include <sodium.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/marshalling.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "prometheus/registry.h"
#include "services/activation/hash_gate.h"
#include "services/activation/passcode_hasher.h"
#include "services/common/secrets.h"
#include "tests/bench/bench_client.h"
#include "tests/bench/bench_stats.h"
#include "tests/util/sms_outbox.h"
#include "tests/util/eidd_process.h"
#include "tests/util/http_get.h"
#include "tests/util/proc_stat.h"

ABSL_FLAG(int, rounds, 5, "Measured rounds (the median is reported).");
ABSL_FLAG(int, warmup_rounds, 1, "Rounds run first and not counted.");
ABSL_FLAG(int, threads, 4, "Client threads.");
ABSL_FLAG(int, activations, 96, "Activations per round (at most 10000).");
ABSL_FLAG(int, logins, 96, "Logins per round (over that round's accounts).");
ABSL_FLAG(int, otp_checks, 300, "OTP checks per round (at most 10000).");
ABSL_FLAG(int, noops, 4000, "Health checks per round.");
ABSL_FLAG(int, raw_hashes, 40, "Raw Argon2id hashes (and verifies) per round.");
ABSL_FLAG(bool, keep_data, false, "Keep the temporary data dir and eidd's log.");
ABSL_FLAG(std::string, work_dir, "/tmp", "Where the temporary data dir is made.");
ABSL_FLAG(std::vector<std::string>, eidd_flags, {},
          "More eidd flags, comma-separated (for A/B runs of a setting).");

namespace eid::bench {
namespace {

using testing::ProcessCpuSeconds;

// Runs `work(client, i)` for i in [0, n) over the client threads; the first
// error, if any.
absl::Status ParallelFor(std::vector<std::unique_ptr<BenchClient>>& clients, int n,
                         const std::function<absl::Status(BenchClient&, int)>& work) {
  std::atomic<int> next{0};
  absl::Mutex mu;
  absl::Status first;
  std::vector<std::thread> threads;
  for (auto& client : clients) {
    threads.emplace_back([&, c = client.get()] {
      for (int i; (i = next.fetch_add(1)) < n;) {
        absl::Status s = work(*c, i);
        if (!s.ok()) {
          absl::MutexLock lock(&mu);
          if (first.ok()) first = s;
          next = n;  // Stop the others.
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return first;
}

// Hashes (or verifies) per CPU-second of the calling thread, the way the
// server does them (PasscodeHasher), accumulated over several calls.
class RawRate {
 public:
  absl::Status Hash(const activation::PasscodeHasher& hasher, int n) {
    WarmUp(hasher);
    const double start = ThreadCpuSeconds();
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<std::string> hash = hasher.Hash(kPasscode);
      if (!hash.ok()) return hash.status();
      hashes_.push_back(*hash);
    }
    Add(n, start);
    return absl::OkStatus();
  }
  absl::Status Verify(const activation::PasscodeHasher& hasher, int n) {
    if (hashes_.empty()) {
      absl::StatusOr<std::string> hash = hasher.Hash(kPasscode);
      if (!hash.ok()) return hash.status();
      hashes_.push_back(*hash);
    }
    WarmUp(hasher);
    const double start = ThreadCpuSeconds();
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<bool> right = hasher.Verify(kPasscode, hashes_[i % hashes_.size()]);
      if (!right.ok() || !*right) {
        return absl::InternalError("raw verify failed");
      }
    }
    Add(n, start);
    return absl::OkStatus();
  }
  double rate() const { return count_ / seconds_; }

 private:
  // One hash, not counted. The first hash after an idle spell costs this VM
  // 4-5 times a steady one (50-66 ms against 12-13 ms): its 19 MiB come back
  // from the host (free page reporting). The server's phases are long and
  // busy, so the steady rate is the one to compare with.
  static void WarmUp(const activation::PasscodeHasher& hasher) {
    (void)hasher.Hash(kPasscode);
  }
  void Add(int n, double start) {
    count_ += n;
    seconds_ += ThreadCpuSeconds() - start;
  }
  std::vector<std::string> hashes_;
  int count_ = 0;
  double seconds_ = 0;
};

class Benchmark {
 public:
  Benchmark(pid_t server, int metrics_port, std::vector<std::unique_ptr<BenchClient>> clients)
      : server_(server), metrics_port_(metrics_port), clients_(std::move(clients)) {
    // The same pepper length and Argon2id parameters as the server's.
    hasher_ = std::make_unique<activation::PasscodeHasher>(std::string(32, 'p'),
                                                           activation::PasscodeHasher::Options());
    kept_gate_ = std::make_unique<activation::HashGate>(1, gate_metrics_);
    kept_hasher_ = std::make_unique<activation::PasscodeHasher>(
        std::string(32, 'p'), activation::PasscodeHasher::Options(), kept_gate_.get());
  }

  void Settle() { bench::Settle({server_}); }

  // What eidd's /metrics says so far: its hashes' CPU (passcode_hash_cpu_seconds
  // sum and count) and its shard's WAL fsyncs (rocksdb_wal_synced_total);
  // -1 for a series it lacks (an eidd from before it, in an A/B run).
  struct ServerCounters {
    double hash_cpu = -1, hashes = -1, wal_syncs = -1;
  };
  ServerCounters ReadServerCounters() {
    ServerCounters c;
    absl::StatusOr<std::string> page = testing::HttpGet(metrics_port_, "/metrics");
    if (!page.ok()) return c;
    for (absl::string_view line : absl::StrSplit(*page, '\n')) {
      double* into = absl::ConsumePrefix(&line, "passcode_hash_cpu_seconds_sum ")     ? &c.hash_cpu
                     : absl::ConsumePrefix(&line, "passcode_hash_cpu_seconds_count ") ? &c.hashes
                     : absl::ConsumePrefix(&line, "rocksdb_wal_synced_total ")        ? &c.wal_syncs
                                                                                      : nullptr;
      if (into != nullptr && !absl::SimpleAtod(line, into)) *into = -1;
    }
    return c;
  }

  // Server CPU-seconds `phase` costs, from idle to idle.
  absl::StatusOr<double> ServerCpu(const std::function<absl::Status()>& phase) {
    Settle();
    const double before = ProcessCpuSeconds(server_);
    const absl::Time start = absl::Now();
    absl::Status s = phase();
    if (!s.ok()) return s;
    phase_seconds_ = absl::ToDoubleSeconds(absl::Now() - start);
    Settle();
    return ProcessCpuSeconds(server_) - before;
  }

  // One round; appends its rates to the figures if `counted`.
  absl::Status Round(int round, bool counted) {
    const int a = absl::GetFlag(FLAGS_activations);
    const int base = round * 20000;  // Serials stay within 6 digits.
    std::vector<Citizen> citizens;
    for (int i = 0; i < a; ++i) citizens.emplace_back(base + i);
    absl::StatusOr<double> cpu = ServerCpu([&] {
      return ParallelFor(clients_, a, [&](BenchClient& c, int i) {
        return c.RegisterAndApprove(citizens[i]);
      });
    });
    if (!cpu.ok()) return cpu.status();
    const double registration = a / *cpu;

    // The raw rates are measured just before and just after the phase they
    // compare with, so both see the same neighbours on a shared machine.
    // raw_*: libsodium's call as it ships, which maps fresh memory for each
    // hash; kept_*: the same through a HashGate slot, in memory kept mapped
    // (argon2_memory.h), as eidd hashes.
    RawRate raw_hash, raw_verify, kept_hash, kept_verify;
    const int k = absl::GetFlag(FLAGS_raw_hashes);
    if (absl::Status s = raw_hash.Hash(*hasher_, k / 2); !s.ok()) return s;
    if (absl::Status s = kept_hash.Hash(*kept_hasher_, k / 2); !s.ok()) return s;
    const ServerCounters before = ReadServerCounters();
    cpu = ServerCpu([&] {
      return ParallelFor(clients_, a,
                         [&](BenchClient& c, int i) { return c.Activate(citizens[i]); });
    });
    if (!cpu.ok()) return cpu.status();
    const ServerCounters after = ReadServerCounters();
    const double hash_cpu =
        before.hash_cpu >= 0 && after.hash_cpu >= 0 ? after.hash_cpu - before.hash_cpu : 0;
    const double server_hash = hash_cpu > 0 ? (after.hashes - before.hashes) / hash_cpu : 0;
    const double wal_syncs =
        before.wal_syncs >= 0 && after.wal_syncs >= 0 ? (after.wal_syncs - before.wal_syncs) / a
                                                      : -1;
    const double activation = a / *cpu;
    const double activation_wall = a / phase_seconds_;
    if (absl::Status s = raw_hash.Hash(*hasher_, k - k / 2); !s.ok()) return s;
    if (absl::Status s = kept_hash.Hash(*kept_hasher_, k - k / 2); !s.ok()) return s;

    const int l = absl::GetFlag(FLAGS_logins);
    if (absl::Status s = raw_verify.Verify(*hasher_, k / 2); !s.ok()) return s;
    if (absl::Status s = kept_verify.Verify(*kept_hasher_, k / 2); !s.ok()) return s;
    cpu = ServerCpu([&] {
      return ParallelFor(clients_, l,
                         [&](BenchClient& c, int i) { return c.LogIn(citizens[i % a]); });
    });
    if (!cpu.ok()) return cpu.status();
    const double login = l / *cpu;
    if (absl::Status s = raw_verify.Verify(*hasher_, k - k / 2); !s.ok()) return s;
    if (absl::Status s = kept_verify.Verify(*kept_hasher_, k - k / 2); !s.ok()) return s;

    // Codes to check: fresh approved accounts, one code each (sent and
    // delivered outside the measured phase).
    const int m = absl::GetFlag(FLAGS_otp_checks);
    std::vector<Citizen> holders;
    for (int i = 0; i < m; ++i) holders.emplace_back(base + 10000 + i);
    std::vector<std::string> otp_ids(m), codes(m);
    absl::Status s = ParallelFor(clients_, m, [&](BenchClient& c, int i) {
      absl::Status s = c.RegisterAndApprove(holders[i]);
      if (!s.ok()) return s;
      absl::StatusOr<std::string> id = c.SendOtp(holders[i], absl::StrCat("otp-", base + i));
      if (!id.ok()) return id.status();
      otp_ids[i] = *id;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    s = ParallelFor(clients_, m, [&](BenchClient& c, int i) {
      absl::StatusOr<std::string> code =
          c.outbox().WaitForCode(holders[i].normalised_phone, 1, absl::Seconds(60));
      if (!code.ok()) return code.status();
      codes[i] = *code;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    cpu = ServerCpu([&] {
      return ParallelFor(clients_, m,
                         [&](BenchClient& c, int i) { return c.CheckOtp(otp_ids[i], codes[i]); });
    });
    if (!cpu.ok()) return cpu.status();
    const double otp = m / *cpu;

    const int h = absl::GetFlag(FLAGS_noops);
    cpu = ServerCpu([&] {
      return ParallelFor(clients_, h, [](BenchClient& c, int) { return c.HealthCheck(); });
    });
    if (!cpu.ok()) return cpu.status();
    const double noop = h / *cpu;

    const double raw_hash_rate = raw_hash.rate(), raw_verify_rate = raw_verify.rate();

    std::printf("round %d%s: raw hash %.1f/CPU-s, verify %.1f (kept memory %.1f, %.1f) | "
                "registration %.1f, activation %.2f, login %.2f, otp check %.0f, no-op %.0f per "
                "server CPU-s\n",
                round, counted ? "" : " (warm-up)", raw_hash_rate, raw_verify_rate,
                kept_hash.rate(), kept_verify.rate(), registration, activation, login, otp, noop);
    std::fflush(stdout);
    if (counted) {
      raw_hash_.push_back(raw_hash_rate);
      raw_verify_.push_back(raw_verify_rate);
      kept_hash_.push_back(kept_hash.rate());
      kept_verify_.push_back(kept_verify.rate());
      registration_.push_back(registration);
      activation_.push_back(activation);
      activation_wall_.push_back(activation_wall);
      server_hash_.push_back(server_hash);
      wal_syncs_.push_back(wal_syncs);
      login_.push_back(login);
      activation_ratio_.push_back(activation / raw_hash_rate);
      login_ratio_.push_back(login / raw_verify_rate);
      activation_kept_ratio_.push_back(activation / kept_hash.rate());
      login_kept_ratio_.push_back(login / kept_verify.rate());
      otp_.push_back(otp);
      noop_.push_back(noop);
    }
    return absl::OkStatus();
  }

  void Report() const {
    const activation::PasscodeHasher::Options& o = hasher_->options();
    const double hash = Median(raw_hash_), verify = Median(raw_verify_);
    const double kept = Median(kept_hash_), kept_verify = Median(kept_verify_);
    const double act = Median(activation_), login = Median(login_);
    const double otp = Median(otp_), noop = Median(noop_);
    std::printf("\nmedians of %zu rounds (server CPU-seconds of the eidd process):\n",
                activation_.size());
    std::printf("  raw Argon2id t=%llu m=%zu MiB, one core, libsodium's call as it ships: "
                "hash %.1f/CPU-s, verify %.1f/CPU-s\n",
                static_cast<unsigned long long>(o.ops_limit), o.mem_limit_bytes >> 20, hash,
                verify);
    std::printf("  the same in memory kept mapped, as eidd hashes (argon2_memory.h): "
                "hash %.1f/CPU-s, verify %.1f/CPU-s\n",
                kept, kept_verify);
    std::printf("  activation (5 steps, 1 Argon2id hash): %.2f/server CPU-s  ratio %.2f of the "
                "raw hash, %.2f of the kept-memory hash  (%.1f ms of server CPU beyond the "
                "kept-memory hash)\n",
                act, Median(activation_ratio_), Median(activation_kept_ratio_),
                1000 * (1 / act - 1 / kept));
    std::printf("  activations per wall-second: %.1f  (%d client threads)\n",
                Median(activation_wall_), absl::GetFlag(FLAGS_threads));
    const double server_hash = Median(server_hash_);
    if (server_hash > 0) {
      std::printf("  the server's own hashes in it: %.1f/CPU-s (passcode_hash_cpu_seconds): "
                  "of the %.1f ms beyond the kept-memory hash, %.1f ms is each hash costing "
                  "more in the busy server, %.1f ms the rest of the work\n",
                  server_hash, 1000 * (1 / act - 1 / kept), 1000 * (1 / server_hash - 1 / kept),
                  1000 * (1 / act - 1 / server_hash));
      // Issue 4's "everything but the hash costs under a quarter", with the
      // hash eidd runs as the hash.
      std::printf("  the rest of the work is %.0f %% of an activation's server CPU\n",
                  100 * (1 - act / server_hash));
    }
    const double wal_syncs = Median(wal_syncs_);
    if (wal_syncs >= 0) {
      std::printf("  the shard's WAL fsyncs per activation: %.1f  (rocksdb_wal_synced_total; "
                  "the audit log's and the SMS outbox's besides)\n",
                  wal_syncs);
    }
    std::printf("  login (challenge + login, 1 Argon2id verify): %.2f/server CPU-s  ratio %.2f "
                "of the raw verify, %.2f of the kept-memory verify  (%.1f ms beyond it)\n",
                login, Median(login_ratio_), Median(login_kept_ratio_),
                1000 * (1 / login - 1 / kept_verify));
    std::printf("  OTP check: %.0f/server CPU-s  beside no-op Health/Check %.0f/server CPU-s  "
                "(ratio %.3f)\n",
                otp, noop, otp / noop);
    std::printf("  registration + approval: %.1f/server CPU-s\n", Median(registration_));
    std::printf("  target: activation and login ratios >= 0.80 (issue 4 names libsodium's raw "
                "rate; like for like, against the hash eidd runs, it is the kept-memory "
                "ratio)\n");
  }

 private:
  const pid_t server_;
  const int metrics_port_;
  std::vector<std::unique_ptr<BenchClient>> clients_;
  std::unique_ptr<activation::PasscodeHasher> hasher_;
  prometheus::Registry gate_metrics_;
  std::unique_ptr<activation::HashGate> kept_gate_;
  std::unique_ptr<activation::PasscodeHasher> kept_hasher_;
  double phase_seconds_ = 0;  // Wall time of the last ServerCpu phase.
  std::vector<double> raw_hash_, raw_verify_, server_hash_, wal_syncs_, registration_,
      activation_, activation_wall_,
      login_, otp_,
      noop_, activation_ratio_, login_ratio_, kept_hash_, kept_verify_, activation_kept_ratio_,
      login_kept_ratio_;
};

int Main() {
  if (sodium_init() < 0) {
    std::fprintf(stderr, "sodium_init failed\n");
    return 1;
  }
  std::string dir_template = absl::GetFlag(FLAGS_work_dir) + "/eid-bench-XXXXXX";
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = dir_template;
  const std::string data_dir = dir + "/data";
  int rc = 0;
  {
    std::vector<std::string> flags = {"--services=all", "--data_dir=" + data_dir,
                                      "--generate_dev_keys"};
    for (const std::string& f : absl::GetFlag(FLAGS_eidd_flags)) flags.push_back(f);
    absl::StatusOr<testing::EiddProcess> eidd = testing::StartEidd(flags, dir + "/eidd");
    if (!eidd.ok()) {
      std::fprintf(stderr, "%s\n", std::string(eidd.status().message()).c_str());
      return 1;
    }
    absl::StatusOr<std::string> token = ReadSecretFile(data_dir + "/keys/internal_token");
    if (!token.ok()) {
      std::fprintf(stderr, "%s\n", std::string(token.status().message()).c_str());
      return 1;
    }
    testing::SmsOutbox outbox(data_dir + "/sms-outbox.jsonl");
    std::vector<std::unique_ptr<BenchClient>> clients;
    for (int i = 0; i < absl::GetFlag(FLAGS_threads); ++i) {
      clients.push_back(std::make_unique<BenchClient>(eidd->grpc_address(), *token, outbox));
      if (absl::Status s = clients.back()->Connect(absl::Seconds(10)); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
    }
    std::printf("eidd pid %d on %s, data in %s, %d client threads\n", eidd->process->pid(),
                eidd->grpc_address().c_str(), data_dir.c_str(), absl::GetFlag(FLAGS_threads));
    Benchmark bench(eidd->process->pid(), eidd->metrics_port, std::move(clients));
    const int warmup = absl::GetFlag(FLAGS_warmup_rounds);
    for (int r = 0; r < warmup + absl::GetFlag(FLAGS_rounds); ++r) {
      absl::Status s = bench.Round(r, r >= warmup);
      if (!s.ok()) {
        std::fprintf(stderr, "round %d failed: %s\n(eidd log: %s)\n", r, s.ToString().c_str(),
                     eidd->log_file.c_str());
        rc = 1;
        break;
      }
    }
    if (rc == 0) bench.Report();
  }  // Stops eidd.
  if (!absl::GetFlag(FLAGS_keep_data) && rc == 0) std::filesystem::remove_all(dir);
  return rc;
}

}  // namespace
}  // namespace eid::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return eid::bench::Main();
}
