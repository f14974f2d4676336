// PrometheusQuery (tests): instant queries against a Prometheus server's
// HTTP API on loopback (GET /api/v1/query), for tests that check what the
// server saw.
#ifndef EID_TESTS_CLUSTER_PROMETHEUS_QUERY_H_
#define EID_TESTS_CLUSTER_PROMETHEUS_QUERY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace eid::testing {

struct PromSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The instant vector `promql` evaluates to now on the server at
// 127.0.0.1:`port`. An error if the server cannot be reached or refuses the
// query (its error text), or the result is not a vector.
absl::StatusOr<std::vector<PromSample>> PromQuery(int port, const std::string& promql);

// Polls `promql` until it yields at least one sample (up to `timeout`):
// the first sample's value. DEADLINE_EXCEEDED names the query.
absl::StatusOr<double> AwaitPromSample(int port, const std::string& promql,
                                       absl::Duration timeout);

}  // namespace eid::testing

#endif  // EID_TESTS_CLUSTER_PROMETHEUS_QUERY_H_
