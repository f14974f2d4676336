#include "tests/util/metric_value.h"

#include <algorithm>

namespace eid::testing {

double MetricValue(prometheus::Registry& registry, const std::string& name,
                   const std::string& label_value) {
  double total = 0;
  bool found = false;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    found = true;
    for (const prometheus::ClientMetric& m : family.metric) {
      const bool labelled =
          std::any_of(m.label.begin(), m.label.end(),
                      [&](const prometheus::ClientMetric::Label& l) {
                        return l.value == label_value;
                      });
      if (!label_value.empty() && !labelled) continue;
      total += m.counter.value + m.gauge.value + m.histogram.sample_count;
    }
  }
  return found ? total : -1;
}

}  // namespace eid::testing
