// Eidd: one eid process — the roles it hosts, their gRPC server and the
// metrics endpoint. main() parses flags into Options and calls Start; tests
// can do the same in-process.
//
// Start order: metrics endpoint, dev keys (if asked), roles in dependency
// order, then the gRPC server. Shutdown runs in reverse. Thread-safe.
#ifndef EID_SERVICES_EIDD_EIDD_H_
#define EID_SERVICES_EIDD_EIDD_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/audit/audit_client.h"
#include "services/common/grpc_server.h"
#include "services/common/metrics_endpoint.h"
#include "services/common/rpc_metrics.h"
#include "services/common/tls.h"
#include "services/eidd/roles.h"

namespace eid {

class Eidd {
 public:
  struct Options {
    // "all" or a comma-separated list of roles (see roles.h).
    std::string services = "all";
    // host:port for gRPC; port 0 picks a free one.
    std::string grpc_address = "127.0.0.1:7443";
    // host:port for /metrics; port 0 picks a free one.
    std::string metrics_address = "127.0.0.1:9464";
    // Root of on-disk state.
    std::string data_dir = "var";
    // Secret files; empty means <data_dir>/keys.
    std::string keys_dir;
    // This process's shard number (role "shard").
    uint32_t shard_id = 0;
    // The storage shards ("host:port", in shard-id order) for roles that
    // need them; empty: this process's own shard, which it must then host.
    std::vector<std::string> shards;
    // Where roles hosted elsewhere listen: "role=host:port" (e.g.
    // "otp=otp:7443"). A hosted role's needs must be hosted here or listed.
    std::vector<std::string> peers;
    // SMS transport of the otp role: "outbox" (a file, development) or
    // "kannel" (an smsbox at kannel_address, credentials in a file).
    std::string sms_transport = "outbox";
    std::string sms_outbox;  // Empty: <data_dir>/sms-outbox.jsonl.
    std::string kannel_address = "127.0.0.1:13013";
    std::string kannel_credentials_file;  // Empty: <keys_dir>/kannel_credentials.
    // Kannel delivery reports (sms_transport "kannel"): the otp role's HTTP
    // listener for smsbox's callbacks, host:port (port 0 picks a free one);
    // empty: no reports asked for. sms_dlr_url: the URL smsbox reaches it
    // at; empty: http://<sms_dlr_address>/kannel/dlr.
    std::string sms_dlr_address;
    std::string sms_dlr_url;
    // Create missing secret files with random content (development only).
    bool generate_dev_keys = false;
    // Passcode hashes (Argon2id, 19 MiB each) the activation role runs at
    // once; more wait. 0: the number of CPUs this process may use.
    int passcode_hash_concurrency = 0;
    // The OTP limits (--otp_* flags); checked by the otp role at start.
    otp::OtpEngine::Options otp_limits;
    // The clock of every role; null: the real one (tests pass a FakeClock).
    Clock* clock = nullptr;
    // How long shutdown waits for in-flight calls.
    absl::Duration shutdown_grace = absl::Seconds(5);
    // Mutual TLS: all three files or none (plaintext). With them the gRPC
    // port requires mTLS, every call is authorised by the caller's
    // certificate identity (MethodPolicy), and every channel to another
    // process (--peers, --shards) presents this certificate.
    TlsFiles tls;
    // host:port of a plaintext port serving only the health service, for
    // probes without a certificate; empty: none.
    std::string health_address;
  };

  // Fails fast with INVALID_ARGUMENT / FAILED_PRECONDITION / UNAVAILABLE and
  // a message naming the flag or resource at fault.
  static absl::StatusOr<std::unique_ptr<Eidd>> Start(const Options& options);

  ~Eidd();

  int grpc_port() const { return server_->port(); }
  int metrics_port() const { return metrics_->port(); }
  // The health-only port (0 if --health_address is not set).
  int health_port() const { return server_->health_port(); }
  // The otp role's delivery-report port (0 if none).
  int sms_dlr_port() const { return sms_dlr_port_; }
  // Whether the gRPC port requires mutual TLS.
  bool tls() const { return tls_.has_value(); }
  // The router the roles use (null if no hosted role needs the shards).
  storage::ShardRouter* shards() const { return router_.get(); }
  // Names of the hosted roles, in start order.
  const std::vector<std::string>& roles() const { return role_names_; }

  // Drains in-flight calls (up to the grace period) and stops every role.
  void Shutdown();

 private:
  Eidd() = default;
  // Makes router_ if a role in `roles` needs the shards (fails fast if
  // there are none to route to).
  absl::Status MakeRouter(const std::vector<const Role*>& roles,
                          const std::vector<std::string>& shards);

  // A channel to `role`'s service: in process when hosted here (null until
  // the server has started), else to its --peers address (null if none).
  std::shared_ptr<grpc::Channel> ChannelTo(absl::string_view role);
  // Records a call the mTLS policy refused in the audit log (only those of
  // callers with a valid certificate: anonymous refusals are counted and
  // logged, not audited, so no one without a certificate can fill the log).
  void AuditDenial(const AuthDenial& denial);

  // Fails fast if a hosted role needs one neither hosted nor in --peers.
  absl::Status CheckPeers(const std::vector<const Role*>& roles,
                          const std::vector<std::string>& peers);

  std::optional<TlsConfig> tls_;
  // For channels to other processes: plaintext, or mTLS with tls_.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials_;
  absl::Mutex mu_;
  std::map<std::string, std::string, std::less<>> peer_addresses_;
  std::map<std::string, std::shared_ptr<grpc::Channel>, std::less<>> peer_channels_
      ABSL_GUARDED_BY(mu_);
  GrpcServer* started_server_ ABSL_GUARDED_BY(mu_) = nullptr;

  std::unique_ptr<MetricsEndpoint> metrics_;
  std::unique_ptr<RpcMetrics> rpc_metrics_;
  int sms_dlr_port_ = 0;
  std::unique_ptr<storage::ShardRouter> router_;  // Outlives the roles.
  // The store of the shard role hosted here (set while it is created), which
  // router_ calls directly; owned by that role.
  storage::KvStore* hosted_kv_ = nullptr;
  std::vector<std::unique_ptr<RoleInstance>> roles_;  // In start order.
  std::vector<std::string> role_names_;
  // Full service name -> the role hosting it, for audit events.
  std::map<std::string, std::string, std::less<>> service_roles_;
  Clock* clock_ = nullptr;
  // Refused calls' audit events (under TLS, when audit is reachable).
  std::unique_ptr<audit::AuditClient> denial_audit_;
  std::unique_ptr<GrpcServer> server_;  // Goes first: it calls the above.
};

}  // namespace eid

#endif  // EID_SERVICES_EIDD_EIDD_H_
