#include "services/audit/recording_audit_sink.h"

namespace eid::audit {

absl::Status RecordingAuditSink::Record(v1::AuditEvent event) {
  absl::MutexLock lock(&mu_);
  events_.push_back(std::move(event));
  return absl::OkStatus();
}

std::vector<v1::AuditEvent> RecordingAuditSink::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

std::vector<v1::AuditEvent> RecordingAuditSink::WithAction(absl::string_view action) const {
  std::vector<v1::AuditEvent> out;
  for (v1::AuditEvent& e : events()) {
    if (e.action() == action) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace eid::audit
