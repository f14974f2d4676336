// Reading a metric back in tests.
#ifndef EID_TESTS_UTIL_METRIC_VALUE_H_
#define EID_TESTS_UTIL_METRIC_VALUE_H_

#include <string>

#include "prometheus/registry.h"

namespace eid::testing {

// The value of counter or gauge `name` in `registry`, or a histogram's
// sample count, summed over its series; with `label_value`, only over the
// series that have a label of that value (0 if none has). -1 if `registry`
// has no metric of that name, so that expecting 0 still needs it there.
double MetricValue(prometheus::Registry& registry, const std::string& name,
                   const std::string& label_value = "");

}  // namespace eid::testing

#endif  // EID_TESTS_UTIL_METRIC_VALUE_H_
