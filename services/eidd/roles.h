// The role table: every role eidd can host, what it needs, and how it is
// built — one table, in dependency order (Loki's module list). `all` hosts
// every role in one process; otherwise `--services` names the roles.
#ifndef EID_SERVICES_EIDD_ROLES_H_
#define EID_SERVICES_EIDD_ROLES_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/internal_auth.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "services/common/clock.h"
#include "services/common/grpc_server.h"
#include "services/common/metrics_endpoint.h"
#include "services/common/random.h"
#include "services/otp/otp_engine.h"
#include "storage/router/shard_router.h"

namespace eid {

// What a role is built from: process-wide settings and collaborators.
struct RoleContext {
  std::string data_dir;  // Root for on-disk state (RocksDB, spools).
  std::string keys_dir;  // Secret files (peppers, signing keys).
  uint32_t shard_id = 0;  // This process's shard number (role "shard").
  Clock* clock;
  RandomSource* random;
  MetricsEndpoint* metrics;  // Registry and extra collectables.
  // The storage shards, for roles that need "shard": this process's own
  // shard (in-process channel) or the --shards list. Null for roles that do
  // not need it. Not to be called while roles are being created: the
  // server that serves the local shard starts after them.
  storage::ShardRouter* shards = nullptr;
  // Told the store of the shard this process hosts (role "shard"), so the
  // router calls it directly instead of through the in-process channel.
  std::function<void(storage::KvStore&)> hosted_shard;
  // A channel to another role's service (this process's server when it
  // hosts the role, else its --peers address). Null until this process's
  // server has started: call it when serving, not while being created.
  std::function<std::shared_ptr<grpc::Channel>(absl::string_view role)> channel_to;
  // Another role this process hosts, already created (a role's needs are
  // created before it), else null: a role calls what it finds here directly
  // instead of through the in-process channel.
  std::function<class RoleInstance*(absl::string_view role)> hosted_role;
  // How the otp role sends SMS.
  struct Sms {
    std::string transport = "outbox";  // "outbox" or "kannel".
    std::string outbox;                // The outbox file.
    std::string kannel_address;        // host:port of the smsbox.
    std::string kannel_credentials_file;
    // Kannel delivery reports: the listener's host:port ("" = none) and the
    // URL smsbox calls ("" = http://<dlr_address>/kannel/dlr).
    std::string dlr_address;
    std::string dlr_url;
  } sms;
  // Told each extra port a role listens on ("sms_dlr"), for the port file.
  std::function<void(absl::string_view name, int port)> listening;
  // Passcode hashes the activation role runs at once (0: one per CPU).
  int passcode_hash_concurrency = 0;
  // The otp role's limits: code lifetime, wrong codes, lockout, resend
  // interval, daily caps (the pepper file is the role's own).
  otp::OtpEngine::Options otp_limits;
  // The files of keys_dir the role being created declared (Role::secrets):
  // the only ones Secret and SecretPath let it read.
  std::vector<absl::string_view> secrets;
};

// A started role: the gRPC services it exposes and whatever owns their state.
class RoleInstance {
 public:
  virtual ~RoleInstance() = default;
  virtual std::vector<GrpcServer::Service> Services() = 0;
  // Called once this process's server is serving: background work that
  // calls other roles (possibly in this process) starts here, not before.
  virtual void Serving() {}
  // Called once before this process's server shuts down: background work
  // that calls other roles stops here. (gRPC 1.51 crashes on a call made
  // through an in-process channel to a server that has shut down.)
  virtual void Stopping() {}
};

struct Role {
  absl::string_view name;                // Value in --services.
  absl::string_view summary;             // One line for --help and docs.
  std::vector<absl::string_view> needs;  // Roles it calls (started first).
  // The files it reads from --keys_dir, and no others (SecretPath refuses
  // the rest): what a deployment must give it. deploy/k8s mounts exactly
  // these into each role (//deploy:k8s_manifests_test reads this table).
  std::vector<absl::string_view> secrets;
  std::function<absl::StatusOr<std::unique_ptr<RoleInstance>>(RoleContext&)>
      create;
};

// Every role, in start order (a role's needs come before it).
const std::vector<Role>& AllRoles();

// <keys_dir>/<name> if the role being created declared `name` in its
// Role::secrets; INTERNAL otherwise (a role reading a file its deployment
// was not told to provide is a bug, caught by any test that starts it).
absl::StatusOr<std::string> SecretPath(const RoleContext& ctx, absl::string_view name);
// The contents of that file (ReadSecretFile: owner-only, long enough).
absl::StatusOr<std::string> Secret(const RoleContext& ctx, absl::string_view name);

// The role's InternalAuth: the internal_token file, and during a rotation
// the token also accepted from internal_token_accepted (missing or empty:
// none; otherwise it must be a valid secret file).
absl::StatusOr<std::unique_ptr<InternalAuth>> InternalAuthOf(const RoleContext& ctx);

// Parses a --services value ("all", or a comma-separated list of role names)
// into the roles to host, in start order. INVALID_ARGUMENT names an unknown
// role and lists the known ones.
absl::StatusOr<std::vector<const Role*>> ParseServices(absl::string_view flag);

}  // namespace eid

#endif  // EID_SERVICES_EIDD_ROLES_H_
