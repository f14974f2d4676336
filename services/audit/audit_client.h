// AuditClient: how every eid service records its security events. Record()
// never waits for the audit service: it writes the event to a local durable
// spool (its own RocksDB) and returns. A process crash loses nothing
// written. Against a power loss, an event is made durable within about a
// linger: by the audit service's commit while it keeps up; by the sender's
// fsync of the spool's WAL, once per linger, while it does not answer
// (after a failed send, until the next try) or while a full batch or more
// waits. Not per event: that fsync would be on every request's path. Events
// recorded between the audit service's failing and the sender's noticing
// (up to a linger and an Append's deadline) are covered by the first sync.
//
// A sender thread sends the spool, oldest first, in batches to
// AuditService.Append and deletes what the audit service acknowledged. While
// the audit service is slow or down the spool grows; when it returns the
// spool drains. Events carry an event_id, so a batch resent after a lost
// acknowledgement is recorded once. An event the audit log would refuse for
// itself — larger than max_event_bytes (checked here; keep it the log's
// AuditLog::Options::max_event_bytes), or refused by the log with
// INVALID_ARGUMENT naming its index (a field missing or malformed) — would
// be refused forever and hold back every event after it:
// it is set aside instead, appended with an fsync to the file
// `<spool_dir>.rejected` (RejectedEvents reads it), counted and logged,
// and the rest is sent. The spool's RocksDB is untouched by this, so an
// older eidd still opens it.
//
// Metrics (in the registry passed in):
//   audit_client_spool_events        events waiting in the spool
//   audit_client_sent_total          events the audit service acknowledged
//   audit_client_send_failures_total Append calls that failed
//   audit_client_spool_fsyncs_total  fsyncs of the spool (at most one a
//                                    linger, while the audit service does
//                                    not answer or keep up)
//   audit_client_rejected_events     events set aside (held in the file)
//
// Thread-safe.
#ifndef EID_SERVICES_AUDIT_AUDIT_CLIENT_H_
#define EID_SERVICES_AUDIT_AUDIT_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eid/v1/audit.grpc.pb.h"
#include "grpcpp/channel.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "rocksdb/db.h"
#include "services/common/random.h"

namespace eid::audit {

// What a service holds: somewhere to record events.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Records `event` (durably, not necessarily sent yet). Sets event_id if
  // empty (EventIdAt: time, then random). UNAVAILABLE only if the local
  // spool cannot be written.
  virtual absl::Status Record(v1::AuditEvent event) = 0;
};

class AuditClient : public AuditSink {
 public:
  struct Options {
    std::string spool_dir;               // The spool's RocksDB (created).
    int max_batch = 500;                 // Events per Append call.
    // How long the sender lets events gather before it sends, after idling
    // and between two batches that were not full: events come a few at a
    // time (one per step of a flow), and each Append costs the audit
    // service a commit with an fsync. The events wait in the spool
    // meanwhile; zero sends at once.
    absl::Duration linger = absl::Milliseconds(20);
    absl::Duration deadline = absl::Seconds(5);      // Of each Append.
    absl::Duration initial_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(5);   // After failures.
    // The audit log's limit on one event (AuditLog::Options), and a bound
    // on one Append's events, under the gRPC message limit.
    size_t max_event_bytes = 16 << 10;
    size_t max_batch_bytes = 2 << 20;
  };

  // Opens the spool (whatever a previous process left is sent first) and
  // starts the sender. FAILED_PRECONDITION if the spool cannot be opened.
  static absl::StatusOr<std::unique_ptr<AuditClient>> Create(
      const Options& options, std::shared_ptr<grpc::Channel> audit,
      RandomSource& random, prometheus::Registry& metrics);
  // As above, with the channel made by `audit` on the sender's first send
  // (null: not reachable yet, retried with backoff) — for a process whose
  // own server hosts the audit service and has not started yet.
  using Connect = std::function<std::shared_ptr<grpc::Channel>()>;
  static absl::StatusOr<std::unique_ptr<AuditClient>> Create(
      const Options& options, Connect audit, RandomSource& random,
      prometheus::Registry& metrics);
  ~AuditClient() override;  // Stops the sender; the spool keeps the rest.

  // Stops the sender now (idempotent); Record still spools. For a process
  // shutting down: no call may start on a channel to a server that is
  // stopping (an in-process channel then crashes gRPC 1.51).
  void StopSending();

  absl::Status Record(v1::AuditEvent event) override;

  // Events in the spool, not yet acknowledged.
  int64_t pending() const { return pending_.load(); }
  // fsyncs of the spool's WAL since it was opened, by RocksDB's count.
  uint64_t spool_wal_syncs() const;
  // Waits until the spool is empty or `timeout` passes; true if empty.
  bool Flush(absl::Duration timeout);
  // The events the audit log refused, set aside, oldest first.
  std::vector<v1::AuditEvent> RejectedEvents() const;

 private:
  AuditClient(const Options& options, Connect audit,
              RandomSource& random, prometheus::Registry& metrics);
  void SendLoop();
  // Waits up to the linger for more events (not for a full batch, nor at
  // shutdown).
  void Linger();
  // Fsyncs the spool's WAL if anything was spooled since the last time.
  void SyncSpool();
  // Every sequence below this is in the spool (one at or above it may still
  // be on its way).
  uint64_t WrittenBelow();
  // Sends one batch from the head of the spool; false if it failed.
  bool SendBatch();
  // Appends `event` to the rejected file (fsync'd), and removes spool key
  // `key` if not empty.
  bool SetAside(const std::string& key, const v1::AuditEvent& event,
                const absl::Status& refused);

  const Options options_;
  const Connect connect_;
  std::unique_ptr<v1::AuditService::Stub> stub_;  // Made by the sender.
  RandomSource& random_;
  std::unique_ptr<rocksdb::DB> spool_;
  const std::string rejected_path_;  // <spool_dir>.rejected
  absl::Mutex rejected_mu_;          // Appends to it.
  std::atomic<int64_t> pending_{0};

  prometheus::Gauge& spool_events_;
  prometheus::Counter& sent_;
  prometheus::Counter& failures_;
  prometheus::Counter& spool_fsyncs_;
  prometheus::Gauge& rejected_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t wakeups_ ABSL_GUARDED_BY(mu_) = 0;  // Bumped by Record().
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;  // The next spool key.
  // Sequences Record() has taken but not yet written: the sender may not
  // skip past the lowest (a later one can be written first).
  std::set<uint64_t> writing_ ABSL_GUARDED_BY(mu_);
  // Sender thread only: every spool key below this has been sent and
  // deleted. Each batch seeks here instead of iterating from the start over
  // the deleted keys' tombstones (a cost that grew with every event sent).
  uint64_t send_from_ = 0;
  // Sender thread only: every sequence below this was synced in the spool.
  uint64_t synced_upto_ = 0;
  std::thread sender_;
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_AUDIT_CLIENT_H_
