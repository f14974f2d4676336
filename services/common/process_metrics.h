// ProcessMetrics: the standard process_* metrics (CPU seconds, resident and
// virtual memory, open and maximum file descriptors, threads, start time),
// read from /proc/self at every scrape. prometheus-cpp 1.0 has no such
// collector. Thread-safe (Collect only reads /proc).
#ifndef EID_SERVICES_COMMON_PROCESS_METRICS_H_
#define EID_SERVICES_COMMON_PROCESS_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace eid {

class ProcessMetrics : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace eid

#endif  // EID_SERVICES_COMMON_PROCESS_METRICS_H_
