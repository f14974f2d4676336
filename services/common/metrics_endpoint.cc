#include "services/common/metrics_endpoint.h"

#include <exception>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"

namespace eid {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address) {
  // prometheus-cpp (civetweb) reports a failed bind by throwing; this is the
  // one place eid meets an exception, and it stops here.
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve metrics on ", address, ": ", e.what()));
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address));
  }
  return absl::WrapUnique(new MetricsEndpoint(std::move(exposer), ports[0]));
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer,
                                 int port)
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessMetrics>()),
      exposer_(std::move(exposer)),
      port_(port) {
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(process_);
}

}  // namespace eid
