#include "services/eidd/account_roles.h"

#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/activation/activation.h"
#include "services/activation/activation_service.h"
#include "services/audit/audit_client.h"
#include "services/common/internal_auth.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/otp/grpc_otp_client.h"
#include "services/otp/otp_service.h"
#include "storage/router/shard_hash.h"

namespace eid {
namespace {

class OtpRole : public RoleInstance {
 public:
  static absl::StatusOr<std::unique_ptr<RoleInstance>> Create(RoleContext& ctx) {
    auto role = std::unique_ptr<OtpRole>(new OtpRole());
    role->index_ = ReportIndexFor(*ctx.shards);
    role->accounts_ =
        std::make_unique<activation::AccountStore>(*ctx.shards, *role->index_);
    absl::StatusOr<std::unique_ptr<InternalAuth>> internal = InternalAuthOf(ctx);
    if (!internal.ok()) return internal.status();
    role->internal_ = std::move(*internal);

    otp::OtpServiceImpl::Options options;
    options.engine = ctx.otp_limits;
    absl::StatusOr<std::string> pepper_file = SecretPath(ctx, "otp_pepper");
    if (!pepper_file.ok()) return pepper_file.status();
    options.engine.pepper_file = *pepper_file;
    options.start_sender = false;  // In Serving(): it reads the shards.
    options.transport = ctx.sms.transport;
    options.outbox_path = ctx.sms.outbox;
    const std::string& kannel = ctx.sms.kannel_address;
    const size_t colon = kannel.rfind(':');
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(kannel.substr(colon + 1), &options.kannel.port)) {
      return absl::InvalidArgumentError("--kannel_address must be host:port");
    }
    options.kannel.host = kannel.substr(0, colon);
    options.kannel.credentials_file = ctx.sms.kannel_credentials_file;
    // Delivery reports: audited, with a token key of their own.
    options.dlr_address = ctx.sms.dlr_address;
    options.kannel.dlr_url = ctx.sms.dlr_url;
    if (!options.dlr_address.empty()) {
      absl::StatusOr<std::string> dlr_key = SecretPath(ctx, "sms_dlr_key");
      if (!dlr_key.ok()) return dlr_key.status();
      options.kannel.dlr_key_file = *dlr_key;
      absl::StatusOr<std::string> accepted = SecretPath(ctx, "sms_dlr_key_accepted");
      if (!accepted.ok()) return accepted.status();
      options.kannel.dlr_key_accepted_file = *accepted;
    }
    // Delivery reports and messages given up are audited.
    absl::StatusOr<std::unique_ptr<audit::AuditClient>> audit = AuditClientFor(ctx, "otp");
    if (!audit.ok()) return audit.status();
    role->audit_ = std::move(*audit);
    options.audit = role->audit_.get();
    activation::AccountStore* accounts = role->accounts_.get();
    Clock* clock = ctx.clock;
    // No code goes to a locked or revoked account: the OTP service reads the
    // account's state itself (a lock whose time has passed counts as lifted).
    auto lookup = [accounts, clock](const std::string& account_id)
        -> absl::StatusOr<v1::AccountState> {
      absl::StatusOr<activation::StoredAccount> found = accounts->Get(account_id);
      if (!found.ok()) return found.status();
      const v1::Account& a = found->record.account();
      if (a.state() == v1::ACCOUNT_STATE_LOCKED && a.lock().has_locked_until() &&
          clock->Now() >= FromProtoTime(a.lock().locked_until())) {
        return found->record.state_before_lock();
      }
      return a.state();
    };
    absl::StatusOr<std::unique_ptr<otp::OtpServiceImpl>> service =
        otp::OtpServiceImpl::Create(options, *ctx.shards, *ctx.clock, *ctx.random,
                                    lookup, ctx.metrics->registry());
    if (!service.ok()) return service.status();
    role->service_ = std::move(*service);
    if (role->service_->dlr_port() != 0 && ctx.listening)
      ctx.listening("sms_dlr", role->service_->dlr_port());
    return std::unique_ptr<RoleInstance>(std::move(role));
  }

  std::vector<GrpcServer::Service> Services() override {
    return {{"eid.v1.OtpService", service_.get()}};
  }
  void Serving() override { service_->StartBackground(); }
  void Stopping() override {
    service_->StopBackground();
    if (audit_ != nullptr) audit_->StopSending();
  }

  // The service as an activation role in this process calls it.
  otp::OtpClient& client() { return *service_; }

 private:
  OtpRole() = default;
  std::unique_ptr<activation::ReportIndex> index_;
  std::unique_ptr<activation::AccountStore> accounts_;
  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<audit::AuditClient> audit_;  // With delivery reports only.
  std::unique_ptr<otp::OtpServiceImpl> service_;
};

class ActivationRole : public RoleInstance {
 public:
  static absl::StatusOr<std::unique_ptr<RoleInstance>> Create(RoleContext& ctx) {
    auto role = std::unique_ptr<ActivationRole>(new ActivationRole());
    activation::ActivationSecrets secrets;
    activation::PasscodeHasher::Options hasher_options;
    for (auto [file, out] : {std::pair<const char*, std::string*>{
                                 "id_hash_key", &secrets.account_id_key},
                             {"answer_pepper", &secrets.answer_pepper},
                             {"audit_subject_key", &secrets.audit_subject_key},
                             {"internal_token", &secrets.internal_token}}) {
      absl::StatusOr<std::string> secret = Secret(ctx, file);
      if (!secret.ok()) return secret.status();
      *out = std::move(*secret);
    }
    absl::StatusOr<std::string> pepper = Secret(ctx, "passcode_pepper");
    if (!pepper.ok()) return pepper.status();
    role->hash_gate_ = std::make_unique<activation::HashGate>(
        ctx.passcode_hash_concurrency > 0 ? ctx.passcode_hash_concurrency
                                          : activation::HashGate::CpuCount(),
        ctx.metrics->registry());
    role->hasher_ = std::make_unique<activation::PasscodeHasher>(
        *pepper, hasher_options, role->hash_gate_.get());
    absl::StatusOr<std::unique_ptr<InternalAuth>> internal = InternalAuthOf(ctx);
    if (!internal.ok()) return internal.status();
    role->internal_ = std::move(*internal);
    role->index_ = ReportIndexFor(*ctx.shards);
    role->accounts_ =
        std::make_unique<activation::AccountStore>(*ctx.shards, *role->index_);
    absl::StatusOr<std::unique_ptr<audit::AuditClient>> audit =
        AuditClientFor(ctx, "activation");
    if (!audit.ok()) return audit.status();
    role->audit_ = std::move(*audit);
    // The otp role: called directly when hosted here (same engine, checks
    // and metrics as its gRPC handlers), else over gRPC.
    otp::OtpClient* otp = nullptr;
    if (auto* hosted = dynamic_cast<OtpRole*>(
            ctx.hosted_role ? ctx.hosted_role("otp") : nullptr)) {
      otp = &hosted->client();
    } else {
      auto channel_to = ctx.channel_to;
      role->grpc_otp_ = std::make_unique<otp::GrpcOtpClient>(
          [channel_to] { return channel_to("otp"); }, *role->internal_);
      otp = role->grpc_otp_.get();
    }
    role->core_ = std::make_unique<activation::Activation>(
        *role->accounts_, *otp, *role->audit_, *ctx.clock, *ctx.random,
        *role->hasher_, secrets, activation::ActivationOptions());
    role->service_ =
        std::make_unique<activation::ActivationService>(*role->core_, *role->internal_);
    return std::unique_ptr<RoleInstance>(std::move(role));
  }

  std::vector<GrpcServer::Service> Services() override {
    return {{"eid.v1.ActivationService", service_.get()}};
  }

  // Locks whose time has passed are lifted in storage (and so in the
  // reports) every 30 s; a read treats them as lifted at once already.
  void Serving() override {
    sweeper_ = std::thread([this] {
      constexpr int kBatch = 1000;
      absl::MutexLock lock(&mu_);
      while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(30))) {
        mu_.Unlock();
        absl::StatusOr<int> lifted = kBatch;
        while (lifted.ok() && *lifted == kBatch && !Stopped()) {
          lifted = core_->LiftExpiredLocks(kBatch);
        }
        if (!lifted.ok()) log::Warning("activation.lock_sweep_failed").With(lifted.status());
        mu_.Lock();
      }
    });
  }

  void Stopping() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (sweeper_.joinable()) sweeper_.join();
    audit_->StopSending();
  }

  bool Stopped() {
    absl::MutexLock lock(&mu_);
    return stopping_;
  }

  ~ActivationRole() override {
    if (sweeper_.joinable()) Stopping();
  }

  activation::Activation& core() { return *core_; }

 private:
  ActivationRole() = default;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sweeper_;
  std::unique_ptr<activation::HashGate> hash_gate_;
  std::unique_ptr<activation::PasscodeHasher> hasher_;
  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<activation::ReportIndex> index_;
  std::unique_ptr<activation::AccountStore> accounts_;
  std::unique_ptr<audit::AuditClient> audit_;
  std::unique_ptr<otp::GrpcOtpClient> grpc_otp_;  // If otp is not hosted here.
  std::unique_ptr<activation::Activation> core_;
  std::unique_ptr<activation::ActivationService> service_;
};

}  // namespace

std::unique_ptr<activation::ReportIndex> ReportIndexFor(storage::ShardRouter& router) {
  const uint32_t shards = router.shard_count();
  return std::make_unique<activation::ReportIndex>(
      shards, [shards](absl::string_view key) { return storage::ShardOfKey(key, shards); });
}

absl::StatusOr<std::unique_ptr<audit::AuditClient>> AuditClientFor(
    RoleContext& ctx, absl::string_view role) {
  audit::AuditClient::Options options;
  options.spool_dir = absl::StrCat(ctx.data_dir, "/audit-spool-", role);
  auto channel_to = ctx.channel_to;
  return audit::AuditClient::Create(
      options, audit::AuditClient::Connect([channel_to] { return channel_to("audit"); }),
      *ctx.random, ctx.metrics->registry());
}

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateOtpRole(RoleContext& ctx) {
  return OtpRole::Create(ctx);
}

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateActivationRole(RoleContext& ctx) {
  return ActivationRole::Create(ctx);
}

}  // namespace eid
