#include "services/eidd/verify_roles.h"

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "eid/v1/qr.grpc.pb.h"
#include "services/activation/account_store.h"
#include "services/activation/report_index.h"
#include "services/activation/session_client.h"
#include "services/audit/audit_client.h"
#include "services/common/internal_auth.h"
#include "services/common/secrets.h"
#include "services/common/status.h"
#include "services/qr/qr_issuer.h"
#include "services/qr/qr_key_ring.h"
#include "services/qr/qr_service.h"
#include "services/verification/verification_key_cache.h"
#include "services/verification/verification_service.h"
#include "services/verification/verification_store.h"
#include "services/verification/verifier.h"
#include "storage/router/coalescing_store.h"
#include "storage/router/replay_batcher.h"
#include "storage/router/shard_hash.h"

namespace eid {
namespace {

absl::StatusOr<std::unique_ptr<audit::AuditClient>> AuditClientFor(
    RoleContext& ctx, absl::string_view role) {
  audit::AuditClient::Options options;
  options.spool_dir = absl::StrCat(ctx.data_dir, "/audit-spool-", role);
  auto channel_to = ctx.channel_to;
  return audit::AuditClient::Create(
      options, audit::AuditClient::Connect([channel_to] { return channel_to("audit"); }),
      *ctx.random, ctx.metrics->registry());
}

std::function<std::shared_ptr<grpc::Channel>()> Activation(const RoleContext& ctx) {
  auto channel_to = ctx.channel_to;
  return [channel_to] { return channel_to("activation"); };
}

class QrRole : public RoleInstance {
 public:
  static absl::StatusOr<std::unique_ptr<RoleInstance>> Create(RoleContext& ctx) {
    auto role = std::unique_ptr<QrRole>(new QrRole());
    absl::StatusOr<std::unique_ptr<InternalAuth>> internal = InternalAuthOf(ctx);
    if (!internal.ok()) return internal.status();
    absl::StatusOr<std::string> seed = Secret(ctx, "qr_signing_seed");
    if (!seed.ok()) return seed.status();
    absl::StatusOr<std::unique_ptr<qr::QrKeyRing>> keys =
        qr::QrKeyRing::Create(std::move(*seed), qr::QrKeyRing::Options());
    if (!keys.ok()) return WithContext(keys.status(), "qr_signing_seed");
    role->keys_ = std::move(*keys);
    role->internal_ = std::move(*internal);
    role->sessions_ =
        std::make_unique<activation::SessionClient>(Activation(ctx), *role->internal_);
    absl::StatusOr<std::unique_ptr<audit::AuditClient>> audit = AuditClientFor(ctx, "qr");
    if (!audit.ok()) return audit.status();
    role->audit_ = std::move(*audit);
    role->issuer_ = std::make_unique<qr::QrIssuer>(*role->sessions_, *role->keys_,
                                                   *role->audit_, *ctx.clock, *ctx.random,
                                                   ctx.metrics->registry());
    role->service_ = std::make_unique<qr::QrService>(*role->issuer_);
    return std::unique_ptr<RoleInstance>(std::move(role));
  }

  std::vector<GrpcServer::Service> Services() override {
    return {{"eid.v1.QrService", service_.get()}};
  }
  void Stopping() override { audit_->StopSending(); }

 private:
  QrRole() = default;
  std::unique_ptr<qr::QrKeyRing> keys_;
  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<activation::SessionClient> sessions_;
  std::unique_ptr<audit::AuditClient> audit_;
  std::unique_ptr<qr::QrIssuer> issuer_;
  std::unique_ptr<qr::QrService> service_;
};

class VerificationRole : public RoleInstance {
 public:
  static absl::StatusOr<std::unique_ptr<RoleInstance>> Create(RoleContext& ctx) {
    auto role = std::unique_ptr<VerificationRole>(new VerificationRole());
    absl::StatusOr<std::unique_ptr<InternalAuth>> internal = InternalAuthOf(ctx);
    if (!internal.ok()) return internal.status();
    absl::StatusOr<std::string> subject_key = Secret(ctx, "audit_subject_key");
    if (!subject_key.ok()) return subject_key.status();
    absl::StatusOr<std::string> id_hash_key = Secret(ctx, "id_hash_key");
    if (!id_hash_key.ok()) return id_hash_key.status();
    role->internal_ = std::move(*internal);
    role->sessions_ =
        std::make_unique<activation::SessionClient>(Activation(ctx), *role->internal_);
    const uint32_t shards = ctx.shards->shard_count();
    role->index_ = std::make_unique<activation::ReportIndex>(
        shards, [shards](absl::string_view key) { return storage::ShardOfKey(key, shards); });
    // One account read and one record write per token: coalesced per shard.
    role->kv_ = std::make_unique<storage::CoalescingStore>(*ctx.shards);
    role->accounts_ = std::make_unique<activation::AccountStore>(*role->kv_, *role->index_);
    role->replay_ = std::make_unique<storage::ReplayBatcher>(*ctx.shards,
                                                             storage::ReplayBatcher::Options());
    role->store_ = std::make_unique<verification::VerificationStore>(*role->kv_);
    absl::StatusOr<std::unique_ptr<audit::AuditClient>> audit =
        AuditClientFor(ctx, "verification");
    if (!audit.ok()) return audit.status();
    role->audit_ = std::move(*audit);

    VerificationRole* self = role.get();
    auto channel_to = ctx.channel_to;
    role->keys_ = std::make_unique<verification::VerificationKeyCache>(
        [self, channel_to]() -> absl::StatusOr<v1::GetVerificationKeysResponse> {
          absl::call_once(self->qr_once_, [&] {
            std::shared_ptr<grpc::Channel> channel = channel_to("qr");
            if (channel != nullptr) self->qr_ = v1::QrService::NewStub(channel);
          });
          if (self->qr_ == nullptr) {
            return Unavailable(v1::DEPENDENCY_UNAVAILABLE,
                               "keys come from qr: give --peers qr=host:port");
          }
          grpc::ClientContext call;
          call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          v1::GetVerificationKeysResponse response;
          absl::Status s = FromGrpcStatus(
              self->qr_->GetVerificationKeys(&call, v1::GetVerificationKeysRequest(), &response));
          if (!s.ok()) return s;
          return response;
        });
    activation::AccountStore* accounts = role->accounts_.get();
    // The scanned citizen's account, read from the shared account store.
    verification::AccountLookup lookup =
        [accounts](const std::string& account_id) -> absl::StatusOr<internal::AccountRecord> {
      absl::StatusOr<activation::StoredAccount> found = accounts->Get(account_id);
      if (!found.ok()) return found.status();
      return std::move(found->record);
    };
    role->verifier_ = std::make_unique<verification::Verifier>(
        *role->sessions_, *role->keys_, *role->replay_, lookup, *role->store_,
        *role->audit_, *ctx.clock, *ctx.random, *subject_key, ctx.metrics->registry(),
        verification::VerifierOptions());
    role->wallet_ = std::make_unique<verification::Wallet>(
        *role->sessions_, *role->store_, lookup, *role->audit_, *ctx.clock, *ctx.random,
        verification::Wallet::Secrets{*id_hash_key, *subject_key},
        verification::WalletOptions());
    role->service_ = std::make_unique<verification::VerificationService>(
        *role->verifier_, *role->wallet_, *role->internal_);
    return std::unique_ptr<RoleInstance>(std::move(role));
  }

  std::vector<GrpcServer::Service> Services() override {
    return {{"eid.v1.VerificationService", service_.get()}};
  }
  void Stopping() override { audit_->StopSending(); }

 private:
  VerificationRole() = default;
  std::unique_ptr<InternalAuth> internal_;
  std::unique_ptr<activation::SessionClient> sessions_;
  std::unique_ptr<activation::ReportIndex> index_;
  std::unique_ptr<storage::CoalescingStore> kv_;
  std::unique_ptr<activation::AccountStore> accounts_;
  std::unique_ptr<storage::ReplayBatcher> replay_;
  std::unique_ptr<verification::VerificationStore> store_;
  std::unique_ptr<audit::AuditClient> audit_;
  absl::once_flag qr_once_;
  std::unique_ptr<v1::QrService::Stub> qr_;
  std::unique_ptr<verification::VerificationKeyCache> keys_;
  std::unique_ptr<verification::Verifier> verifier_;
  std::unique_ptr<verification::Wallet> wallet_;
  std::unique_ptr<verification::VerificationService> service_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateQrRole(RoleContext& ctx) {
  return QrRole::Create(ctx);
}

absl::StatusOr<std::unique_ptr<RoleInstance>> CreateVerificationRole(RoleContext& ctx) {
  return VerificationRole::Create(ctx);
}

}  // namespace eid
