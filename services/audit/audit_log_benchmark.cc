// Acknowledged durable audit appends per second with group commit, beside
// the baseline in the same run: one fsync'd RocksDB write per event.
//
//   bazel run -c opt //services/audit:audit_log_benchmark
//
// Producers append concurrently (as the services' audit clients do), each
// waiting for its acknowledgement, which comes only after the group's fsync.
// Reports events/s, the ratio to the baseline and the append latency
// percentiles; medians of several alternating runs.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "rocksdb/db.h"
#include "services/audit/audit_log.h"
#include "services/common/proto_time.h"

ABSL_FLAG(int, runs, 3, "Alternating runs of each side.");
ABSL_FLAG(int, producers, 64, "Concurrent appending threads.");
ABSL_FLAG(int, events_per_append, 1, "Events in each Append call.");
ABSL_FLAG(double, seconds, 3, "Length of one group-commit run.");
ABSL_FLAG(int, baseline_writes, 1500, "fsync'd writes in one baseline run.");

namespace eid::audit {
namespace {

v1::AuditEvent MakeEvent(const std::string& id, int subject) {
  v1::AuditEvent e;
  e.set_event_id(id);
  ToProtoTime(absl::Now(), e.mutable_time());
  e.set_service("verification");
  e.set_action("verification.verdict");
  e.set_outcome(v1::AUDIT_OUTCOME_SUCCESS);
  e.set_actor("account:3f9a1c7e-official");
  e.set_subject(std::string(32, static_cast<char>(subject)));
  e.set_request_id("req-" + id);
  (*e.mutable_attributes())["verdict"] = "GENUINE";
  (*e.mutable_attributes())["verification_id"] = "v-" + id;
  return e;
}

std::string TempDir() {
  char dir[] = "/tmp/eid-audit-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  return dir;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

// One event per write, each fsync'd before the next: what an audit log
// without group commit does.
double BaselineWritesPerSecond(const std::string& dir, int writes) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) std::abort();
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const std::string value = MakeEvent("baseline", 1).SerializeAsString();
  const absl::Time start = absl::Now();
  for (int i = 0; i < writes; ++i) {
    if (!db->Put(sync, absl::StrCat("e", i), value).ok()) std::abort();
  }
  return writes / absl::ToDoubleSeconds(absl::Now() - start);
}

struct GroupRun {
  double events_per_second = 0;
  double p50_ms = 0, p99_ms = 0;
};

GroupRun GroupCommit(AuditLog& log, int run, int producers, int per_append,
                     absl::Duration length) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> events{0};
  absl::Mutex mu;
  std::vector<double> latencies_ms;
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int t = 0; t < producers; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> mine;
      std::vector<v1::AuditEvent> batch(per_append);
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        for (int k = 0; k < per_append; ++k) {
          batch[k] = MakeEvent(absl::StrCat(run, "-", t, "-", i, "-", k), t % 251);
        }
        const absl::Time before = absl::Now();
        if (!log.Append(batch).ok()) std::abort();
        mine.push_back(absl::ToDoubleMilliseconds(absl::Now() - before));
        events.fetch_add(per_append, std::memory_order_relaxed);
      }
      absl::MutexLock lock(&mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  absl::SleepFor(length);  // The measured interval.
  stop = true;
  for (auto& t : threads) t.join();
  GroupRun r;
  r.events_per_second = events.load() / absl::ToDoubleSeconds(absl::Now() - start);
  r.p50_ms = Percentile(latencies_ms, 0.5);
  r.p99_ms = Percentile(latencies_ms, 0.99);
  return r;
}

int Main() {
  const std::string dir = TempDir();
  const int producers = absl::GetFlag(FLAGS_producers);
  const int per_append = absl::GetFlag(FLAGS_events_per_append);
  FakeClock clock;
  AuditLog::Options options;
  options.path = dir + "/log";
  auto log = AuditLog::Open(options, clock);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }
  std::printf("audit appends, acknowledged after fsync: %d producers x %d event(s) "
              "per append, vs one fsync'd RocksDB write per event\n",
              producers, per_append);
  std::vector<double> base, group, ratio, p99;
  for (int run = 0; run < absl::GetFlag(FLAGS_runs); ++run) {
    const double b = BaselineWritesPerSecond(absl::StrCat(dir, "/base", run),
                                             absl::GetFlag(FLAGS_baseline_writes));
    const GroupRun g = GroupCommit(**log, run, producers, per_append,
                                   absl::Seconds(absl::GetFlag(FLAGS_seconds)));
    std::printf("  run %d: group commit %8.0f events/s (p50 %.2f ms, p99 %.2f ms) | "
                "fsync per event %6.0f writes/s | ratio %.1f\n",
                run, g.events_per_second, g.p50_ms, g.p99_ms, b,
                g.events_per_second / b);
    base.push_back(b);
    group.push_back(g.events_per_second);
    ratio.push_back(g.events_per_second / b);
    p99.push_back(g.p99_ms);
  }
  std::printf("median: group commit %.0f events/s, baseline %.0f writes/s, ratio %.1f "
              "(targets: >= 100000 events/s, >= 50x); p99 append %.2f ms\n",
              Median(group), Median(base), Median(ratio), Median(p99));
  log->reset();
  return system(("rm -rf " + dir).c_str()) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace eid::audit

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return eid::audit::Main();
}
