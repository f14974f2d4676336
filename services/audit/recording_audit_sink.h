// RecordingAuditSink: an AuditSink for tests that keeps every event, in
// order, in memory. Thread-safe.
#ifndef EID_SERVICES_AUDIT_RECORDING_AUDIT_SINK_H_
#define EID_SERVICES_AUDIT_RECORDING_AUDIT_SINK_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/audit/audit_client.h"

namespace eid::audit {

class RecordingAuditSink : public AuditSink {
 public:
  absl::Status Record(v1::AuditEvent event) override;
  std::vector<v1::AuditEvent> events() const;
  // The events with `action`.
  std::vector<v1::AuditEvent> WithAction(absl::string_view action) const;

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::AuditEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid::audit

#endif  // EID_SERVICES_AUDIT_RECORDING_AUDIT_SINK_H_
