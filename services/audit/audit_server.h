// AuditServer: the audit role of an eidd process — the log, the checkpoint
// signer, the gRPC service over both, and a thread that signs a checkpoint
// of every partition that grew, once per interval.
//
// Owns everything it starts; the destructor stops the thread first.
#ifndef EID_SERVICES_AUDIT_AUDIT_SERVER_H_
#define EID_SERVICES_AUDIT_AUDIT_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "prometheus/registry.h"
#include "services/audit/audit_log.h"
#include "services/audit/audit_service.h"
#include "services/audit/checkpoint_signer.h"
#include "services/common/clock.h"

namespace eid::audit {

class AuditServer {
 public:
  struct Options {
    std::string dir;                // The log's RocksDB lives here.
    std::string signing_seed_file;  // 32-byte Ed25519 seed, mode 0600.
    uint32_t partitions = 4;
    // How often checkpoints are signed (0: only by CheckpointNow()).
    absl::Duration checkpoint_interval = absl::Seconds(1);
    prometheus::Registry* metrics = nullptr;  // The log's (null: none).
  };

  // FAILED_PRECONDITION if the seed file or the log cannot be used.
  static absl::StatusOr<std::unique_ptr<AuditServer>> Open(const Options& options,
                                                           Clock& clock);
  ~AuditServer();

  AuditServiceImpl& service() { return *service_; }
  AuditLog& log() { return *log_; }
  const CheckpointSigner& signer() const { return *signer_; }

  // Signs and stores a checkpoint of every partition whose tree grew since
  // its latest checkpoint (or has none yet).
  absl::Status CheckpointNow();

 private:
  explicit AuditServer(Clock& clock) : clock_(clock) {}
  void CheckpointLoop(absl::Duration interval);

  Clock& clock_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<CheckpointSigner> signer_;
  std::unique_ptr<AuditServiceImpl> service_;
  absl::Mutex checkpoint_mu_;  // One CheckpointNow at a time.
  absl::Notification stop_;
  std::thread checkpointer_;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_SERVER_H_
