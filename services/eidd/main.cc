// eidd: the eid server. Parses flags, starts the roles asked for, prints
// where it listens, and on SIGTERM or SIGINT drains and exits 0.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "services/common/log.h"
#include "services/eidd/eidd.h"

ABSL_FLAG(std::string, services, "all",
          "Roles to host: all, or a comma-separated list of shard, audit, otp, "
          "activation, qr, verification, reports.");
ABSL_FLAG(std::string, grpc_address, "127.0.0.1:7443",
          "host:port for gRPC (port 0 picks a free port).");
ABSL_FLAG(std::string, metrics_address, "127.0.0.1:9464",
          "host:port for Prometheus /metrics (port 0 picks a free port).");
ABSL_FLAG(std::string, data_dir, "var", "Directory for on-disk state.");
ABSL_FLAG(std::string, keys_dir, "",
          "Directory of secret files (default: <data_dir>/keys).");
ABSL_FLAG(uint32_t, shard_id, 0,
          "This process's shard number: its position in the routers' shard list.");
ABSL_FLAG(std::vector<std::string>, shards, {},
          "Storage shards host:port, comma-separated, in shard-id order (in "
          "Kubernetes the StatefulSet's stable names). Empty: this process's "
          "own shard.");
ABSL_FLAG(std::vector<std::string>, peers, {},
          "Where roles hosted elsewhere listen, role=host:port, comma-separated "
          "(e.g. otp=otp:7443,audit=audit:7443). Roles hosted here are called in "
          "process.");
ABSL_FLAG(std::string, sms_transport, "outbox",
          "How the otp role sends SMS: outbox (a file, development) or kannel.");
ABSL_FLAG(std::string, sms_outbox, "",
          "The outbox file (sms_transport=outbox); default <data_dir>/sms-outbox.jsonl.");
ABSL_FLAG(std::string, kannel_address, "127.0.0.1:13013",
          "host:port of the Kannel smsbox's sendsms interface.");
ABSL_FLAG(std::string, kannel_credentials_file, "",
          "File holding username:password for Kannel sendsms; default "
          "<keys_dir>/kannel_credentials.");
ABSL_FLAG(bool, generate_dev_keys, false,
          "Create missing secret files with random bytes. Development only.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(4),
          "How long shutdown lets in-flight calls finish.");
ABSL_FLAG(std::string, tls_ca, "",
          "Mutual TLS: PEM file of the CA that signs every eid certificate. "
          "--tls_ca, --tls_cert and --tls_key go together; without them gRPC is "
          "plaintext (development only).");
ABSL_FLAG(std::string, tls_cert, "",
          "Mutual TLS: this process's PEM certificate; its URI SANs "
          "spiffe://eid/<role> are its identity when it calls other processes.");
ABSL_FLAG(std::string, tls_key, "",
          "Mutual TLS: the certificate's PEM private key, mode 0600.");
ABSL_FLAG(std::string, sms_dlr_address, "",
          "host:port where the otp role listens for Kannel delivery reports "
          "(sms_transport=kannel; port 0 picks a free one); empty: none asked "
          "for. Tokens are keyed by <keys_dir>/sms_dlr_key.");
ABSL_FLAG(std::string, sms_dlr_url, "",
          "The URL smsbox calls with delivery reports; default "
          "http://<sms_dlr_address>/kannel/dlr.");
ABSL_FLAG(std::string, health_address, "",
          "host:port of a plaintext port serving only the gRPC health service "
          "(for probes without a certificate); empty: none.");
ABSL_FLAG(absl::Duration, otp_code_lifetime, absl::Minutes(5), "How long an OTP code is accepted.");
ABSL_FLAG(int, otp_max_wrong_attempts, 5,
          "Wrong OTP codes per account (every flow together) before checks lock.");
ABSL_FLAG(absl::Duration, otp_lockout, absl::Minutes(30),
          "How long OTP checks stay locked after the last allowed wrong code.");
ABSL_FLAG(absl::Duration, otp_resend_interval, absl::Seconds(60),
          "Least time between two codes for one account and purpose.");
ABSL_FLAG(int, otp_daily_cap_per_account, 10, "OTP codes per account per day (Vietnam time).");
ABSL_FLAG(int, otp_daily_cap_per_phone, 10, "OTP codes per phone per day (Vietnam time).");
ABSL_FLAG(int, passcode_hash_concurrency, 0,
          "Passcode hashes (Argon2id, 19 MiB of memory each) run at once; "
          "more wait. 0: the number of CPUs this process may use.");
ABSL_FLAG(std::string, port_file, "",
          "If set, write \"grpc=PORT\\nmetrics=PORT\\n\" (and \"health=PORT\\n\", "
          "\"sms_dlr=PORT\\n\") here once serving.");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error.");

namespace {

bool SetLogLevel(const std::string& name) {
  using eid::log::Level;
  for (auto [n, level] : {std::pair{"debug", Level::kDebug},
                          {"info", Level::kInfo},
                          {"warning", Level::kWarning},
                          {"error", Level::kError}}) {
    if (name == n) {
      eid::log::SetMinLevel(level);
      return true;
    }
  }
  return false;
}

bool WritePortFile(const std::string& path, int grpc, int metrics, int health,
                   int sms_dlr) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "grpc=" << grpc << "\nmetrics=" << metrics << "\n";
    if (health != 0) out << "health=" << health << "\n";
    if (sms_dlr != 0) out << "sms_dlr=" << sms_dlr << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals in every thread (gRPC's included); main waits
  // for them with sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Debian builds Abseil with lock-cycle detection on: a global graph
  // update on every Mutex acquisition. eid's lock order is fixed by design.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "eid server. Example: eidd --services=all --generate_dev_keys");
  absl::ParseCommandLine(argc, argv);
  if (!SetLogLevel(absl::GetFlag(FLAGS_log_level))) {
    std::fprintf(stderr, "eidd: --log_level must be debug, info, warning or error\n");
    return 2;
  }

  eid::Eidd::Options options;
  options.services = absl::GetFlag(FLAGS_services);
  options.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.keys_dir = absl::GetFlag(FLAGS_keys_dir);
  options.shard_id = absl::GetFlag(FLAGS_shard_id);
  options.shards = absl::GetFlag(FLAGS_shards);
  options.peers = absl::GetFlag(FLAGS_peers);
  options.sms_transport = absl::GetFlag(FLAGS_sms_transport);
  options.sms_outbox = absl::GetFlag(FLAGS_sms_outbox);
  options.kannel_address = absl::GetFlag(FLAGS_kannel_address);
  options.kannel_credentials_file = absl::GetFlag(FLAGS_kannel_credentials_file);
  options.generate_dev_keys = absl::GetFlag(FLAGS_generate_dev_keys);
  options.passcode_hash_concurrency = absl::GetFlag(FLAGS_passcode_hash_concurrency);
  options.otp_limits.code_lifetime = absl::GetFlag(FLAGS_otp_code_lifetime);
  options.otp_limits.max_wrong_attempts = absl::GetFlag(FLAGS_otp_max_wrong_attempts);
  options.otp_limits.lockout = absl::GetFlag(FLAGS_otp_lockout);
  options.otp_limits.resend_interval = absl::GetFlag(FLAGS_otp_resend_interval);
  options.otp_limits.daily_cap_per_account = absl::GetFlag(FLAGS_otp_daily_cap_per_account);
  options.otp_limits.daily_cap_per_phone = absl::GetFlag(FLAGS_otp_daily_cap_per_phone);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.tls = {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                 absl::GetFlag(FLAGS_tls_key)};
  options.health_address = absl::GetFlag(FLAGS_health_address);
  options.sms_dlr_address = absl::GetFlag(FLAGS_sms_dlr_address);
  options.sms_dlr_url = absl::GetFlag(FLAGS_sms_dlr_url);

  absl::StatusOr<std::unique_ptr<eid::Eidd>> eidd = eid::Eidd::Start(options);
  if (!eidd.ok()) {
    std::fprintf(stderr, "eidd: %s\n", std::string(eidd.status().message()).c_str());
    return 1;
  }
  const std::string host = options.grpc_address.substr(
      0, options.grpc_address.rfind(':'));
  const std::string metrics_host = options.metrics_address.substr(
      0, options.metrics_address.rfind(':'));
  std::printf("eidd: serving %s\n", absl::StrJoin((*eidd)->roles(), ",").c_str());
  std::printf("eidd: gRPC     %s:%d (%s)\n", host.c_str(), (*eidd)->grpc_port(),
              (*eidd)->tls() ? "mutual TLS" : "plaintext");
  if ((*eidd)->health_port() != 0) {
    const std::string& health = options.health_address;
    std::printf("eidd: health   %s:%d (plaintext, health only)\n",
                health.substr(0, health.rfind(':')).c_str(), (*eidd)->health_port());
  }
  std::printf("eidd: metrics  http://%s:%d/metrics\n", metrics_host.c_str(),
              (*eidd)->metrics_port());
  if ((*eidd)->sms_dlr_port() != 0) {
    const std::string& dlr = options.sms_dlr_address;
    std::printf("eidd: sms dlr  http://%s:%d/kannel/dlr (Kannel delivery reports)\n",
                dlr.substr(0, dlr.rfind(':')).c_str(), (*eidd)->sms_dlr_port());
  }
  std::fflush(stdout);
  eid::log::Info("eidd.started")
      .With("roles", absl::StrJoin((*eidd)->roles(), ","))
      .With("grpc_port", (*eidd)->grpc_port())
      .With("metrics_port", (*eidd)->metrics_port())
      .With("tls", (*eidd)->tls());
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty() &&
      !WritePortFile(port_file, (*eidd)->grpc_port(), (*eidd)->metrics_port(),
                     (*eidd)->health_port(), (*eidd)->sms_dlr_port())) {
    std::fprintf(stderr, "eidd: cannot write --port_file %s\n", port_file.c_str());
    return 1;
  }

  int signal = 0;
  sigwait(&stop_signals, &signal);
  eid::log::Info("eidd.stopping").With("signal", strsignal(signal));
  (*eidd)->Shutdown();
  eidd->reset();
  eid::log::Info("eidd.stopped");
  return 0;
}
