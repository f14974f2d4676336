#include "services/eidd/eidd.h"

#include <sys/stat.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/secrets.h"
#include "services/common/status.h"

namespace eid {
namespace {

// Secret files every deployment provides; `--generate_dev_keys` creates
// them on a developer's machine.
constexpr struct {
  const char* file;
  size_t bytes;
} kSecretFiles[] = {
    {"otp_pepper", 32},        // HMAC key for stored OTP codes.
    {"passcode_pepper", 32},   // Pepper mixed into Argon2id passcode hashes.
    {"id_hash_key", 32},       // Keyed hash of ID numbers used as an index.
    {"qr_signing_seed", 32},   // Ed25519 seed of the first QR signing key.
    {"audit_signing_seed", 32},  // Ed25519 seed for audit checkpoints.
    {"answer_pepper", 32},     // HMAC key of stored security answers.
    {"audit_subject_key", 32},  // HMAC key of ID numbers in audit subjects.
    {"internal_token", 32},    // Shared by eid's own services (until mTLS).
    {"sms_dlr_key", 32},       // HMAC key of Kannel delivery-report URLs.
};

absl::Status MakeDir(const std::string& dir) {
  size_t pos = 0;
  do {
    pos = dir.find('/', pos + 1);
    const std::string prefix = dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0750) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--data_dir: cannot create ", prefix, ": ", std::strerror(errno)));
    }
  } while (pos != std::string::npos);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Eidd>> Eidd::Start(const Options& options) {
  absl::StatusOr<std::vector<const Role*>> roles =
      ParseServices(options.services);
  if (!roles.ok()) return roles.status();
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("--data_dir must not be empty");
  }
  if (options.passcode_hash_concurrency < 0) {
    return absl::InvalidArgumentError(
        "--passcode_hash_concurrency must be 0 (one per CPU) or more");
  }
  absl::StatusOr<std::optional<TlsConfig>> tls = LoadTlsFiles(options.tls);
  if (!tls.ok()) return tls.status();
  if (absl::Status s = MakeDir(options.data_dir); !s.ok()) return s;
  const std::string keys_dir = options.keys_dir.empty()
                                   ? options.data_dir + "/keys"
                                   : options.keys_dir;
  if (options.generate_dev_keys) {
    for (const auto& secret : kSecretFiles) {
      absl::Status s = EnsureDevSecretFile(
          absl::StrCat(keys_dir, "/", secret.file), secret.bytes,
          SystemRandom::Get());
      if (!s.ok()) return s;
    }
  }

  auto eidd = absl::WrapUnique(new Eidd());
  eidd->tls_ = std::move(*tls);
  eidd->channel_credentials_ = eidd->tls_.has_value()
                                   ? MtlsChannelCredentials(*eidd->tls_)
                                   : grpc::InsecureChannelCredentials();
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> metrics =
      MetricsEndpoint::Start(options.metrics_address);
  if (!metrics.ok()) return metrics.status();
  eidd->metrics_ = std::move(*metrics);
  eidd->rpc_metrics_ = std::make_unique<RpcMetrics>(eidd->metrics_->registry());

  absl::Status routed = eidd->MakeRouter(*roles, options.shards);
  if (!routed.ok()) return routed;
  if (absl::Status s = eidd->CheckPeers(*roles, options.peers); !s.ok()) return s;
  RoleContext context{options.data_dir, keys_dir, options.shard_id,
                      options.clock != nullptr ? options.clock : &Clock::Real(),
                      &SystemRandom::Get(), eidd->metrics_.get(),
                      eidd->router_.get()};
  Eidd* self = eidd.get();
  context.channel_to = [self](absl::string_view role) { return self->ChannelTo(role); };
  context.hosted_shard = [self](storage::KvStore& kv) { self->hosted_kv_ = &kv; };
  context.hosted_role = [self](absl::string_view name) -> RoleInstance* {
    for (size_t i = 0; i < self->role_names_.size(); ++i) {
      if (self->role_names_[i] == name) return self->roles_[i].get();
    }
    return nullptr;
  };
  context.passcode_hash_concurrency = options.passcode_hash_concurrency;
  context.otp_limits = options.otp_limits;
  context.sms.transport = options.sms_transport;
  context.sms.outbox = options.sms_outbox.empty()
                           ? options.data_dir + "/sms-outbox.jsonl"
                           : options.sms_outbox;
  context.sms.kannel_address = options.kannel_address;
  context.sms.kannel_credentials_file =
      options.kannel_credentials_file.empty()
          ? keys_dir + "/kannel_credentials"
          : options.kannel_credentials_file;
  context.sms.dlr_address = options.sms_dlr_address;
  context.sms.dlr_url = options.sms_dlr_url;
  context.listening = [self](absl::string_view name, int port) {
    if (name == "sms_dlr") self->sms_dlr_port_ = port;
  };
  std::vector<GrpcServer::Service> services;
  for (const Role* role : *roles) {
    context.secrets = role->secrets;  // What it may read from keys_dir.
    absl::StatusOr<std::unique_ptr<RoleInstance>> instance =
        role->create(context);
    if (!instance.ok()) {
      return WithContext(instance.status(), absl::StrCat("role ", role->name));
    }
    for (const GrpcServer::Service& s : (*instance)->Services()) {
      services.push_back(s);
      eidd->service_roles_[s.name] = std::string(role->name);
    }
    eidd->roles_.push_back(std::move(*instance));
    eidd->role_names_.emplace_back(role->name);
  }

  eidd->clock_ = context.clock;
  const bool audit_reachable =
      eidd->service_roles_.count("eid.v1.AuditService") > 0 ||
      eidd->peer_addresses_.count("audit") > 0;
  if (eidd->tls_.has_value() && audit_reachable) {
    audit::AuditClient::Options audit_options;
    audit_options.spool_dir = options.data_dir + "/audit-spool-eidd";
    absl::StatusOr<std::unique_ptr<audit::AuditClient>> audit = audit::AuditClient::Create(
        audit_options, [self] { return self->ChannelTo("audit"); }, SystemRandom::Get(),
        eidd->metrics_->registry());
    if (!audit.ok()) return WithContext(audit.status(), "audit spool of refused calls");
    eidd->denial_audit_ = std::move(*audit);
  }

  GrpcServer::Options server_options;
  server_options.address = options.grpc_address;
  server_options.shutdown_grace = options.shutdown_grace;
  server_options.tls = eidd->tls_;
  server_options.health_address = options.health_address;
  server_options.on_auth_denied = [self](const AuthDenial& d) { self->AuditDenial(d); };
  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      GrpcServer::Start(server_options, services, *eidd->rpc_metrics_);
  if (!server.ok()) return server.status();
  eidd->server_ = std::move(*server);
  {
    absl::MutexLock lock(&eidd->mu_);
    eidd->started_server_ = eidd->server_.get();
  }
  for (const std::unique_ptr<RoleInstance>& role : eidd->roles_) role->Serving();
  return eidd;
}

void Eidd::AuditDenial(const AuthDenial& denial) {
  if (denial_audit_ == nullptr || denial.identities.empty()) return;
  v1::AuditEvent event;
  *event.mutable_time() = ToProtoTime(clock_->Now());
  // The role whose service was called ("/eid.v1.OtpService/SendOtp" -> otp).
  absl::string_view service = denial.method;
  if (!service.empty() && service.front() == '/') service.remove_prefix(1);
  service = service.substr(0, service.find('/'));
  auto role = service_roles_.find(service);
  event.set_service(role != service_roles_.end() ? role->second : role_names_.front());
  event.set_action("auth.denied");
  event.set_outcome(v1::AUDIT_OUTCOME_REJECTED);
  event.set_reason(denial.reason);
  // Both come from the caller: bounded, and without the NUL the actor
  // index cannot hold.
  std::string actor = absl::StrCat("certificate:", absl::StrJoin(denial.identities, ","));
  actor.erase(std::remove(actor.begin(), actor.end(), '\0'), actor.end());
  event.set_actor(actor.substr(0, 256));
  (*event.mutable_attributes())["method"] = denial.method.substr(0, 256);
  // The spool is local; if even it fails, the log line and the counter remain.
  denial_audit_->Record(std::move(event)).IgnoreError();
}

absl::Status Eidd::CheckPeers(const std::vector<const Role*>& roles,
                              const std::vector<std::string>& peers) {
  for (const std::string& peer : peers) {
    const size_t eq = peer.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == peer.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--peers: \"", peer, "\" is not role=host:port"));
    }
    peer_addresses_[peer.substr(0, eq)] = peer.substr(eq + 1);
  }
  for (const Role* role : roles) {
    for (absl::string_view need : role->needs) {
      if (need == "shard") continue;  // The router's business (--shards).
      const bool hosted = std::any_of(roles.begin(), roles.end(),
                                      [&](const Role* r) { return r->name == need; });
      if (!hosted && peer_addresses_.find(need) == peer_addresses_.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--peers needs ", need, "=host:port: role ", role->name, " calls ", need,
            ", which this process does not host"));
      }
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> Eidd::ChannelTo(absl::string_view role) {
  absl::MutexLock lock(&mu_);
  // A role hosted here is called in process, even if --peers lists it too
  // (one peer list can then serve every process of a deployment).
  if (std::find(role_names_.begin(), role_names_.end(), role) != role_names_.end()) {
    return started_server_ == nullptr ? nullptr : started_server_->InProcessChannel();
  }
  auto peer = peer_addresses_.find(role);
  if (peer == peer_addresses_.end()) return nullptr;  // Nowhere to send it.
  std::shared_ptr<grpc::Channel>& channel = peer_channels_[peer->first];
  if (channel == nullptr) {
    channel = grpc::CreateChannel(peer->second, channel_credentials_);
  }
  return channel;
}

absl::Status Eidd::MakeRouter(const std::vector<const Role*>& roles,
                              const std::vector<std::string>& shards) {
  bool hosts_shard = false;
  std::vector<absl::string_view> needing;
  for (const Role* role : roles) {
    hosts_shard = hosts_shard || role->name == "shard";
    if (std::find(role->needs.begin(), role->needs.end(), "shard") != role->needs.end()) {
      needing.push_back(role->name);
    }
  }
  if (needing.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<storage::ShardRouter>> router;
  if (!shards.empty()) {
    storage::ShardRouter::Options router_options;
    router_options.credentials = channel_credentials_;
    router = storage::ShardRouter::Connect(shards, router_options);
  } else if (hosts_shard) {
    // Its own shard: KV calls on its store directly (a call through the
    // in-process channel cost more than its RocksDB work), the replay guard
    // through the in-process channel of the server that starts below. The
    // first call connects.
    router = storage::ShardRouter::Create(
        {{"local", [this] { return server_->InProcessChannel(); },
          [this] { return hosted_kv_; }}},
        {});
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shards is required: roles that use the storage shards (",
        absl::StrJoin(needing, ", "), ") run here and this process hosts none"));
  }
  if (!router.ok()) return WithContext(router.status(), "--shards");
  router_ = std::move(*router);
  return absl::OkStatus();
}

Eidd::~Eidd() { Shutdown(); }

void Eidd::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    started_server_ = nullptr;
  }
  // Background work that calls roles (the SMS queue, audit senders) stops
  // first: gRPC 1.51 crashes on a call through an in-process channel to a
  // server that has shut down.
  for (auto role = roles_.rbegin(); role != roles_.rend(); ++role) (*role)->Stopping();
  if (denial_audit_ != nullptr) denial_audit_->StopSending();
  if (server_ != nullptr) {
    server_->Shutdown();
    server_->Wait();
    server_.reset();
  }
  // Roles stop in reverse start order: a role's dependencies outlive it.
  while (!roles_.empty()) roles_.pop_back();
  denial_audit_.reset();
}

}  // namespace eid
