#include "services/eidd/roles.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "eid/v1/activation.grpc.pb.h"
#include "eid/v1/audit.grpc.pb.h"
#include "eid/v1/otp.grpc.pb.h"
#include "eid/v1/qr.grpc.pb.h"
#include "eid/v1/reports.grpc.pb.h"
#include "eid/v1/storage.grpc.pb.h"
#include "eid/v1/verification.grpc.pb.h"
#include "services/audit/audit_server.h"
#include "services/common/internal_auth.h"
#include "services/common/keyed_hash.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/eidd/account_roles.h"
#include "services/eidd/reports_role.h"
#include "services/eidd/verify_roles.h"
#include "storage/shard/shard.h"

namespace eid {
namespace {

// A role whose issue has not landed yet: the generated base service answers
// every RPC with UNIMPLEMENTED, so clients can already be written against it.
template <typename GeneratedService>
class StubRole : public RoleInstance {
 public:
  explicit StubRole(absl::string_view full_name) : full_name_(full_name) {}
  std::vector<GrpcServer::Service> Services() override {
    return {{full_name_, &service_}};
  }

 private:
  const std::string full_name_;
  typename GeneratedService::Service service_;
};

template <typename GeneratedService>
std::function<absl::StatusOr<std::unique_ptr<RoleInstance>>(RoleContext&)>
Stub(absl::string_view full_name) {
  return [full_name](RoleContext&) -> absl::StatusOr<std::unique_ptr<RoleInstance>> {
    return std::make_unique<StubRole<GeneratedService>>(full_name);
  };
}

// The storage shard of this process, under <data_dir>/shard-<id>.
class ShardRole : public RoleInstance {
 public:
  static absl::StatusOr<std::unique_ptr<RoleInstance>> Create(RoleContext& ctx) {
    storage::Shard::Options options;
    options.dir = absl::StrCat(ctx.data_dir, "/shard-", ctx.shard_id);
    options.shard_id = ctx.shard_id;
    auto shard = storage::Shard::Open(options, *ctx.clock);
    if (!shard.ok()) return shard.status();
    ctx.metrics->AddCollectable((*shard)->kv().metrics());
    if (ctx.hosted_shard) ctx.hosted_shard((*shard)->kv());
    return std::unique_ptr<RoleInstance>(new ShardRole(std::move(*shard)));
  }
  std::vector<GrpcServer::Service> Services() override {
    return {{"eid.v1.ShardService", &shard_->service()}};
  }

 private:
  explicit ShardRole(std::unique_ptr<storage::Shard> shard)
      : shard_(std::move(shard)) {}
  std::unique_ptr<storage::Shard> shard_;
};

// The audit log of this process, under <data_dir>/audit, signing
// checkpoints with <keys_dir>/audit_signing_seed.
class AuditRole : public RoleInstance {
 public:
  static absl::StatusOr<std::unique_ptr<RoleInstance>> Create(RoleContext& ctx) {
    audit::AuditServer::Options options;
    options.dir = absl::StrCat(ctx.data_dir, "/audit");
    absl::StatusOr<std::string> seed_file = SecretPath(ctx, "audit_signing_seed");
    if (!seed_file.ok()) return seed_file.status();
    options.signing_seed_file = *seed_file;
    options.metrics = &ctx.metrics->registry();
    auto server = audit::AuditServer::Open(options, *ctx.clock);
    if (!server.ok()) return server.status();
    auto role = std::unique_ptr<AuditRole>(new AuditRole(std::move(*server)));
    absl::StatusOr<std::unique_ptr<InternalAuth>> internal = InternalAuthOf(ctx);
    if (!internal.ok()) return internal.status();
    absl::StatusOr<std::string> subject_key = Secret(ctx, "audit_subject_key");
    if (!subject_key.ok()) return subject_key.status();
    role->internal_ = std::move(*internal);
    role->server_->service().SetReaders(
        ReaderAuthenticator(*role->internal_, ctx.channel_to),
        [key = *subject_key](absl::string_view id_number) {
          return KeyedHash(key, {id_number});
        });
    return std::unique_ptr<RoleInstance>(std::move(role));
  }
  std::vector<GrpcServer::Service> Services() override {
    return {{"eid.v1.AuditService", &server_->service()}};
  }

 private:
  explicit AuditRole(std::unique_ptr<audit::AuditServer> server)
      : server_(std::move(server)) {}
  // Readers of the audit log: internal callers by their token, others by
  // their session, which the activation service checks.
  static audit::ReaderAuthenticator ReaderAuthenticator(
      const InternalAuth& internal,
      std::function<std::shared_ptr<grpc::Channel>(absl::string_view)> channel_to) {
    return [&internal, channel_to](const grpc::ServerContext& context,
                                   const v1::Credentials& credentials,
                                   absl::string_view method,
                                   const std::string* digest)
               -> absl::StatusOr<audit::AuditReader> {
      audit::AuditReader reader;
      if (credentials.session_token().empty() && internal.IsInternal(context)) {
        reader.internal = true;
        return reader;
      }
      std::shared_ptr<grpc::Channel> channel = channel_to("activation");
      if (channel == nullptr) {
        return Unavailable(v1::DEPENDENCY_UNAVAILABLE,
                           "sessions are checked by activation: give --peers "
                           "activation=host:port");
      }
      v1::AuthenticateSessionRequest request;
      *request.mutable_credentials() = credentials;
      request.set_method(std::string(method));
      if (digest != nullptr) request.set_request_digest(*digest);
      v1::AuthenticateSessionResponse response;
      grpc::ClientContext call;
      call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      internal.Attach(call);
      absl::Status s = FromGrpcStatus(
          v1::ActivationService::NewStub(channel)->AuthenticateSession(&call, request,
                                                                      &response));
      if (!s.ok()) return s;
      reader.account = response.account();
      reader.subject = response.audit_subject();
      return reader;
    };
  }

  std::unique_ptr<audit::AuditServer> server_;
  std::unique_ptr<InternalAuth> internal_;
};

}  // namespace

const std::vector<Role>& AllRoles() {
  static const auto* const roles = new std::vector<Role>{
      // name, summary, needs, secrets (files in --keys_dir), create.
      {"shard",
       "storage shard: namespaced KV and replay guard on RocksDB",
       {},
       {},
       &ShardRole::Create},
      {"audit",
       "tamper-evident audit log, proofs and citizen history",
       {},
       {"audit_signing_seed", "audit_subject_key", "internal_token",
        "internal_token_accepted"},
       &AuditRole::Create},
      {"otp",
       "OTP codes and SMS delivery",
       {"shard", "audit"},
       {"otp_pepper", "sms_dlr_key", "sms_dlr_key_accepted", "internal_token",
        "internal_token_accepted"},
       &CreateOtpRole},
      {"activation",
       "registration, approval, activation, login, recovery",
       {"shard", "otp", "audit"},
       {"passcode_pepper", "id_hash_key", "answer_pepper", "audit_subject_key",
        "internal_token", "internal_token_accepted"},
       &CreateActivationRole},
      {"qr",
       "one-minute signed identity QR codes and their keys",
       {"activation", "audit"},
       {"qr_signing_seed", "internal_token", "internal_token_accepted"},
       &CreateQrRole},
      {"verification",
       "QR verification, replay guard, wallet documents",
       {"shard", "activation", "qr", "audit"},
       {"id_hash_key", "audit_subject_key", "internal_token",
        "internal_token_accepted"},
       &CreateVerificationRole},
      {"reports",
       "registration and activation counts, not-activated lists",
       {"shard", "activation", "audit"},
       {"internal_token", "internal_token_accepted"},
       &CreateReportsRole},
  };
  return *roles;
}

absl::StatusOr<std::string> SecretPath(const RoleContext& ctx,
                                       absl::string_view name) {
  if (std::find(ctx.secrets.begin(), ctx.secrets.end(), name) ==
      ctx.secrets.end()) {
    return absl::InternalError(absl::StrCat(
        "secret file ", name,
        " is not in this role's secrets (services/eidd/roles.cc)"));
  }
  return absl::StrCat(ctx.keys_dir, "/", name);
}

absl::StatusOr<std::string> Secret(const RoleContext& ctx, absl::string_view name) {
  absl::StatusOr<std::string> path = SecretPath(ctx, name);
  if (!path.ok()) return path.status();
  absl::StatusOr<std::string> secret = ReadSecretFile(*path);
  if (!secret.ok()) return WithContext(secret.status(), "--keys_dir");
  return secret;
}

absl::StatusOr<std::unique_ptr<InternalAuth>> InternalAuthOf(const RoleContext& ctx) {
  absl::StatusOr<std::string> token = Secret(ctx, "internal_token");
  if (!token.ok()) return token.status();
  absl::StatusOr<std::string> accepted_path = SecretPath(ctx, "internal_token_accepted");
  if (!accepted_path.ok()) return accepted_path.status();
  absl::StatusOr<std::string> accepted = ReadOptionalSecretFile(*accepted_path);
  if (!accepted.ok()) return WithContext(accepted.status(), "--keys_dir");
  return std::make_unique<InternalAuth>(std::move(*token), std::move(*accepted));
}

absl::StatusOr<std::vector<const Role*>> ParseServices(absl::string_view flag) {
  std::vector<absl::string_view> known;
  for (const Role& role : AllRoles()) known.push_back(role.name);
  const std::string known_list = absl::StrJoin(known, ", ");

  absl::flat_hash_set<std::string> wanted;
  for (absl::string_view name : absl::StrSplit(flag, ',', absl::SkipWhitespace())) {
    name = absl::StripAsciiWhitespace(name);
    if (name == "all") {
      for (absl::string_view k : known) wanted.insert(std::string(k));
      continue;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--services: unknown role \"", name, "\"; known: all, ", known_list));
    }
    wanted.insert(std::string(name));
  }
  if (wanted.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--services is empty; use all or some of: ", known_list));
  }
  std::vector<const Role*> out;
  for (const Role& role : AllRoles()) {
    if (wanted.contains(role.name)) out.push_back(&role);
  }
  return out;
}

}  // namespace eid
