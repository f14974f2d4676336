#include "services/audit/audit_server.h"

#include "services/audit/signing_key_history.h"
#include "services/common/log.h"
#include "services/common/secrets.h"

namespace eid::audit {

absl::StatusOr<std::unique_ptr<AuditServer>> AuditServer::Open(const Options& options,
                                                               Clock& clock) {
  std::unique_ptr<AuditServer> server(new AuditServer(clock));
  absl::StatusOr<std::string> seed = ReadSecretFile(options.signing_seed_file);
  if (!seed.ok()) return seed.status();
  absl::StatusOr<std::unique_ptr<CheckpointSigner>> signer =
      CheckpointSigner::FromSeed(*seed, clock.Now());
  if (!signer.ok()) return signer.status();
  server->signer_ = std::move(*signer);

  AuditLog::Options log_options;
  log_options.path = options.dir;
  log_options.partitions = options.partitions;
  log_options.subject_index.metrics = options.metrics;
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(log_options, clock);
  if (!log.ok()) return log.status();
  server->log_ = std::move(*log);
  // Past keys stay served: checkpoints they signed remain checkable.
  absl::StatusOr<std::vector<v1::VerificationKey>> keys =
      RecordSigningKey(*server->log_->db(), server->signer_->public_key(), clock.Now());
  if (!keys.ok()) return keys.status();
  server->service_ = std::make_unique<AuditServiceImpl>(*server->log_, std::move(*keys));
  if (absl::Status s = server->CheckpointNow(); !s.ok()) return s;
  if (options.checkpoint_interval > absl::ZeroDuration()) {
    server->checkpointer_ =
        std::thread([s = server.get(), i = options.checkpoint_interval] {
          s->CheckpointLoop(i);
        });
  }
  log::Info("audit.opened")
      .With("dir", options.dir)
      .With("partitions", static_cast<int64_t>(options.partitions))
      .With("key_id", static_cast<int64_t>(server->signer_->public_key().key_id()));
  return server;
}

AuditServer::~AuditServer() {
  stop_.Notify();
  if (checkpointer_.joinable()) checkpointer_.join();
}

absl::Status AuditServer::CheckpointNow() {
  absl::MutexLock lock(&checkpoint_mu_);
  for (uint32_t p = 0; p < log_->partitions(); ++p) {
    const uint64_t size = log_->TreeSize(p);
    absl::StatusOr<v1::Checkpoint> latest = log_->LatestCheckpoint(p);
    if (latest.ok() && latest->tree_size() == size) continue;
    // Size and root are read apart; an append in between only grows the
    // tree, so take the root of exactly `size` leaves.
    absl::StatusOr<Hash> root = log_->SubtreeHash(p, 0, size);
    if (!root.ok()) return root.status();
    absl::Status s = log_->PutCheckpoint(signer_->Sign(p, size, *root, clock_.Now()));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void AuditServer::CheckpointLoop(absl::Duration interval) {
  // A background timer, not a test wait: tests call CheckpointNow().
  while (!stop_.WaitForNotificationWithTimeout(interval)) {
    absl::Status s = CheckpointNow();
    if (!s.ok()) log::Error("audit.checkpoint_failed").With(s);
  }
}

}  // namespace eid::audit
