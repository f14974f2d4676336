// Acknowledged durable audit appends per second with group commit, beside
// the baseline in the same run: one fsync'd RocksDB write per event.
//
//   bazel run -c opt //services/audit:audit_log_benchmark
//
// Producers append concurrently, each waiting for its acknowledgement, which
// comes only after the fsync of the group holding it. The defaults are how
// events really arrive: every service pod has one AuditClient whose one
// sender thread sends the spool in Append calls of up to 500 events
// (AuditClient::Options::max_batch; under load the spool is never short of
// 500), one call at a time; prod runs at least 10 such pods at their
// HorizontalPodAutoscaler minimum plus 8 shards, so 16 producers x 500
// events. Each event has its own subject, so a call spreads over the
// partitions (4, the audit server's default), and its own random id, as
// AuditClient gives it (32 hex digits). --producers=64
// --events_per_append=1 is the worst case of single-event calls.
//
// Reports events/s, the ratio to the baseline, the Append latency p50/p99,
// the process CPU per acknowledged event (this shared 2-core machine's load
// decides how much CPU it gets) and the load average; medians of several
// alternating runs.
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "rocksdb/db.h"
#include "services/audit/audit_log.h"
#include "services/audit/event_id.h"
#include "services/common/proto_time.h"

ABSL_FLAG(int, runs, 3, "Alternating runs of each side.");
ABSL_FLAG(int, producers, 16, "Concurrent appending threads (audit clients).");
ABSL_FLAG(int, events_per_append, 500, "Events in each Append call.");
ABSL_FLAG(int, partitions, 4, "Partitions of the log.");
ABSL_FLAG(double, seconds, 3, "Length of one group-commit run.");
ABSL_FLAG(int, baseline_writes, 2000, "fsync'd writes in one baseline run (shorter runs swing 2-fold).");
ABSL_FLAG(uint64_t, seed, 1, "Seeds the random event ids.");
ABSL_FLAG(bool, family_stats, false,
          "After the runs, each column family's flush and compaction totals "
          "(RocksDB's cfstats): where a long run's CPU went.");
ABSL_FLAG(bool, random_ids, false,
          "Event ids of 16 random bytes in hex (AuditClient's until 2026-11-29); "
          "false: as AuditClient makes them now (EventIdAt: time, then random).");

namespace eid::audit {
namespace {

// A 32-byte subject of its own for each n (as HMACs of ID numbers are).
std::string Subject(uint64_t n) {
  std::string s(32, '\0');
  const uint64_t mixed = n * 0x9E3779B97F4A7C15ull;  // A bijection: distinct n, distinct s.
  for (int i = 0; i < 32; ++i) s[i] = static_cast<char>((mixed >> (i % 8 * 8)) ^ i);
  return s;
}

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double LoadAverage() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : 0;
}

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
  double cpu_us_per_event = 0;
};

GroupRun GroupCommit(AuditLog& log, int run, int producers, int per_append,
                     absl::Duration length) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> events{0};
  absl::Mutex mu;
  std::vector<double> latencies_ms;
  std::vector<std::thread> threads;
  const bool random_ids = absl::GetFlag(FLAGS_random_ids);
  const absl::Time start = absl::Now();
  const double cpu_start = CpuSeconds();
  for (int t = 0; t < producers; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> mine;
      // Built once; each call changes only the ids and subjects (a producer
      // builds its events in its own process, not here).
      std::vector<v1::AuditEvent> batch(per_append, MakeEvent("", 0));
      std::mt19937_64 random(absl::GetFlag(FLAGS_seed) * 1000003 + run * 1009 + t);
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        for (int k = 0; k < per_append; ++k) {
          if (random_ids) {
            const uint64_t id[2] = {random(), random()};
            batch[k].set_event_id(absl::BytesToHexString(
                absl::string_view(reinterpret_cast<const char*>(id), sizeof(id))));
          } else {
            batch[k].set_event_id(EventIdAt(absl::Now(), random()));
          }
          const uint64_t n = (uint64_t{1} << 40) * run + (uint64_t{1} << 28) * t +
                             uint64_t{1} * i * per_append + k;
          batch[k].set_subject(Subject(n));
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
  r.cpu_us_per_event = (CpuSeconds() - cpu_start) * 1e6 / std::max<int64_t>(1, events.load());
  r.p50_ms = Percentile(latencies_ms, 0.5);
  r.p99_ms = Percentile(latencies_ms, 0.99);
  return r;
}

// The "Sum" row of each column family's compaction stats (flushes are
// compactions into level 0 there): bytes read and written, seconds, keys.
void PrintFamilyStats(const AuditDb& store) {
  std::vector<rocksdb::ColumnFamilyHandle*> families = {store.records(), store.ids(),
                                                        store.index()};
  for (uint32_t p = 0; p < store.partitions(); ++p) {
    families.push_back(store.leaves(p));
    families.push_back(store.leaf_hashes(p));
  }
  bool header = true;
  for (rocksdb::ColumnFamilyHandle* family : families) {
    std::string stats;
    store.db()->GetProperty(family, "rocksdb.cfstats-no-file-histogram", &stats);
    for (absl::string_view line : absl::StrSplit(stats, '\n')) {
      if ((header && absl::StartsWith(line, "Level")) || absl::StartsWith(line, " Sum")) {
        std::printf("%-14s %.*s\n", header ? "family" : family->GetName().c_str(),
                    static_cast<int>(line.size()), line.data());
        header = header && !absl::StartsWith(line, "Level");
      }
    }
  }
}

int Main() {
  const std::string dir = TempDir();
  const int producers = absl::GetFlag(FLAGS_producers);
  const int per_append = absl::GetFlag(FLAGS_events_per_append);
  FakeClock clock;
  AuditLog::Options options;
  options.path = dir + "/log";
  options.partitions = absl::GetFlag(FLAGS_partitions);
  auto log = AuditLog::Open(options, clock);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }
  std::printf("audit appends, acknowledged after fsync: %d producers x %d event(s) "
              "per append, %d partitions, %s ids, vs one fsync'd RocksDB write per "
              "event; load average %.2f\n",
              producers, per_append, options.partitions,
              absl::GetFlag(FLAGS_random_ids) ? "random" : "time-ordered", LoadAverage());
  std::vector<double> base, group, ratio, p50, p99, cpu;
  for (int run = 0; run < absl::GetFlag(FLAGS_runs); ++run) {
    const double b = BaselineWritesPerSecond(absl::StrCat(dir, "/base", run),
                                             absl::GetFlag(FLAGS_baseline_writes));
    const GroupRun g = GroupCommit(**log, run, producers, per_append,
                                   absl::Seconds(absl::GetFlag(FLAGS_seconds)));
    std::printf("  run %d: group commit %8.0f events/s (p50 %.2f ms, p99 %.2f ms, "
                "%.1f CPU-us/event) | fsync per event %6.0f writes/s | ratio %.1f | "
                "load %.2f\n",
                run, g.events_per_second, g.p50_ms, g.p99_ms, g.cpu_us_per_event, b,
                g.events_per_second / b, LoadAverage());
    base.push_back(b);
    group.push_back(g.events_per_second);
    ratio.push_back(g.events_per_second / b);
    p50.push_back(g.p50_ms);
    p99.push_back(g.p99_ms);
    cpu.push_back(g.cpu_us_per_event);
  }
  std::printf("median: group commit %.0f events/s, baseline %.0f writes/s, ratio %.1f "
              "(targets: >= 100000 events/s, >= 50x); append p50 %.2f ms, p99 %.2f ms; "
              "%.1f CPU-us/event\n",
              Median(group), Median(base), Median(ratio), Median(p50), Median(p99),
              Median(cpu));
  // A citizen's history while the index memtable is full of the runs'
  // entries (its vector memtable is sorted for the read).
  v1::AuditFilter filter;
  filter.set_subject(Subject(uint64_t{1} << 28));  // Run 0, producer 1, first event.
  std::vector<double> query_ms;
  for (int i = 0; i < 5; ++i) {
    std::string next;
    const absl::Time before = absl::Now();
    auto found = (*log)->Query(filter, 20, "", &next);
    query_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - before));
    if (!found.ok() || found->size() != 1) std::abort();
  }
  std::printf("query by subject after the runs: median %.2f ms (of 5)\n", Median(query_ms));
  if (absl::GetFlag(FLAGS_family_stats)) PrintFamilyStats((*log)->store());
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
