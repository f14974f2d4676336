// MetricsEndpoint: the process's Prometheus registry and its /metrics HTTP
// endpoint (prometheus-cpp's pull exposer), with the process_* metrics.
//
// Services register their own metrics in registry(); the endpoint serves
// them all. Thread-safe.
#ifndef EID_SERVICES_COMMON_METRICS_ENDPOINT_H_
#define EID_SERVICES_COMMON_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"
#include "services/common/process_metrics.h"

namespace eid {

class MetricsEndpoint {
 public:
  // Serves http://`address`/metrics; port 0 picks a free port. Fails with
  // UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address);

  prometheus::Registry& registry() { return *registry_; }
  // Serves `collectable` too, while it lives.
  void AddCollectable(const std::weak_ptr<prometheus::Collectable>& collectable) {
    exposer_->RegisterCollectable(collectable);
  }
  int port() const { return port_; }

 private:
  MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer, int port);

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProcessMetrics> process_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace eid

#endif  // EID_SERVICES_COMMON_METRICS_ENDPOINT_H_
