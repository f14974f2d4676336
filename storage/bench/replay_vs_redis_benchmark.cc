// The replay guard over gRPC, called the way the verification service calls
// it (concurrent single-nonce checks coalesced per shard by ReplayBatcher),
// beside Redis 7 doing SET <16-byte nonce> 1 NX PX 90000 from
// redis-benchmark with the same client concurrency, pipelined ×16.
//
//   bazel run -c opt //storage/bench:replay_vs_redis_benchmark
//
// Both servers run as their own processes on loopback, started here; client
// and server share the machine's cores, so throughput is counted per server
// CPU-second (utime + stime of the server process from /proc). Runs
// alternate between the two so both see the same noise; medians are
// reported. Neither side is emptied between runs: like in production, each
// holds the live entries of the last minute or so (eid: until expiry + 5 s
// of skew; Redis: PX 90000). Then bytes per live entry at 1 M and 5 M live entries: the
// replay table's own bytes (and the process RSS growth, for comparison)
// against Redis's used_memory growth, each divided by the live entries.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "storage/router/replay_batcher.h"
#include "storage/router/shard_router.h"
#include "tests/util/eidd_process.h"
#include "tests/util/http_get.h"
#include "tests/util/proc_stat.h"
#include "tests/util/subprocess.h"

ABSL_FLAG(int, runs, 5, "Alternating runs of each side.");
ABSL_FLAG(int, concurrency, 16, "Client connections (redis-benchmark -c).");
ABSL_FLAG(int, pipeline, 16, "Requests in flight per connection (-P).");
ABSL_FLAG(double, seconds, 3, "Length of one eid run.");
ABSL_FLAG(int, redis_requests, 1500000, "Requests in one Redis run.");
ABSL_FLAG(bool, memory, true, "Also measure bytes per live entry.");

namespace eid {
namespace {

using storage::ReplayBatcher;
using storage::ReplayCheck;
using storage::ReplayVerdict;
using storage::ShardRouter;

struct Run {
  double nonces = 0;
  double rpcs = 0;  // eid: CheckAndRecordBatch calls the shard served.
  double server_cpu_seconds = 0;
  double wall_seconds = 0;
  double PerCpuSecond() const { return nonces / server_cpu_seconds; }
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string MakeTempDir() {
  char dir[] = "/tmp/eid-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return dir;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "replay_vs_redis_benchmark: %s\n", what.c_str());
  std::exit(1);
}

// A 16-byte nonce unique to (run, caller, i).
std::string Nonce(uint32_t run, uint32_t caller, uint64_t i) {
  std::string n(16, '\0');
  std::memcpy(&n[0], &run, 4);
  std::memcpy(&n[4], &caller, 4);
  std::memcpy(&n[8], &i, 8);
  return n;
}

// --- eid ---

std::unique_ptr<ShardRouter> RouterTo(const testing::EiddProcess& shard) {
  auto router = ShardRouter::Connect({shard.grpc_address()}, {});
  if (!router.ok()) Die(router.status().ToString());
  return std::move(*router);
}

// `callers` threads, each like one redis-benchmark connection with its
// pipeline: it submits `pipeline` fresh nonces at once through the batcher,
// which coalesces all callers' nonces into batches per shard.
// The shard's count of CheckAndRecordBatch calls, from its /metrics page.
double BatchCalls(const testing::EiddProcess& shard) {
  auto page = testing::HttpGet(shard.metrics_port, "/metrics");
  if (!page.ok()) Die(page.status().ToString());
  for (absl::string_view line : absl::StrSplit(*page, '\n')) {
    if (absl::StartsWith(line, "grpc_server_started_total{") &&
        absl::StrContains(line, "grpc_method=\"CheckAndRecordBatch\"")) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) return v;
    }
  }
  return 0;
}

Run RunEid(const testing::EiddProcess& shard, ShardRouter& router, uint32_t run_id,
           int callers, int pipeline, absl::Duration length) {
  ReplayBatcher batcher(router, {});
  const double calls_before = BatchCalls(shard);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0}, not_first{0};
  const double cpu_before = testing::ProcessCpuSeconds(shard.process->pid());
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<ReplayCheck> checks(pipeline);
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed);) {
        // The longest expiry the shard takes: past a fresh shard's fence.
        const absl::Time expires = absl::Now() + absl::Seconds(64);
        for (ReplayCheck& check : checks) check = {Nonce(run_id, c, i++), expires};
        auto verdicts = batcher.CheckAndRecordBatch(checks);
        if (!verdicts.ok()) Die(verdicts.status().ToString());
        for (ReplayVerdict v : *verdicts) not_first += v != ReplayVerdict::kFirst;
        done.fetch_add(pipeline, std::memory_order_relaxed);
      }
    });
  }
  absl::SleepFor(length);  // The measured interval.
  stop = true;
  for (auto& t : threads) t.join();
  Run r;
  r.wall_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.server_cpu_seconds =
      testing::ProcessCpuSeconds(shard.process->pid()) - cpu_before;
  r.nonces = done.load();
  r.rpcs = BatchCalls(shard) - calls_before;
  if (not_first.load() > 0) {
    std::printf("  (eid: %lld of %.0f fresh nonces were not FIRST)\n",
                static_cast<long long>(not_first.load()), r.nonces);
  }
  return r;
}

// --- Redis ---

struct Redis {
  std::unique_ptr<testing::Subprocess> process;
  std::string port;
};

std::string RedisCli(const Redis& redis, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"redis-cli", "-p", redis.port};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  auto code = testing::Run(argv, &out, absl::Seconds(30));
  if (!code.ok() || *code != 0) Die("redis-cli failed: " + out);
  return out;
}

Redis StartRedis(const std::string& dir) {
  Redis redis;
  redis.port = absl::StrCat(testing::FreeLoopbackPort());
  auto process = testing::Subprocess::Start(
      {"redis-server", "--port", redis.port, "--bind", "127.0.0.1", "--save", "",
       "--appendonly", "no", "--dir", dir},
      dir + "/redis.log");
  if (!process.ok()) Die(process.status().ToString());
  redis.process = std::move(*process);
  for (int i = 0; i < 200; ++i) {
    std::string out;
    auto code = testing::Run({"redis-cli", "-p", redis.port, "ping"}, &out,
                             absl::Seconds(5));
    if (code.ok() && *code == 0 && out.find("PONG") != std::string::npos) {
      return redis;
    }
    absl::SleepFor(absl::Milliseconds(50));  // Waiting on a real process.
  }
  Die("redis-server did not start; is it installed (tools/bootstrap)?");
}

// redis-benchmark: `requests` SET NX PX of fresh 16-byte keys.
void RedisBenchmark(const Redis& redis, int requests, int concurrency,
                    int pipeline) {
  std::string out;
  auto code = testing::Run(
      {"redis-benchmark", "-p", redis.port, "-c", absl::StrCat(concurrency), "-P",
       absl::StrCat(pipeline), "-n", absl::StrCat(requests), "-r",
       "1000000000", "-q", "SET", "rpl:__rand_int__", "1", "NX", "PX", "90000"},
      &out, absl::Minutes(5));
  if (!code.ok() || *code != 0) Die("redis-benchmark failed: " + out);
}

Run RunRedis(const Redis& redis, int requests, int concurrency, int pipeline) {
  const double cpu_before = testing::ProcessCpuSeconds(redis.process->pid());
  const absl::Time start = absl::Now();
  RedisBenchmark(redis, requests, concurrency, pipeline);
  Run r;
  r.wall_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.server_cpu_seconds = testing::ProcessCpuSeconds(redis.process->pid()) - cpu_before;
  r.nonces = requests;
  return r;
}

int64_t RedisInfoField(const Redis& redis, const std::string& field) {
  for (absl::string_view line : absl::StrSplit(RedisCli(redis, {"info", "memory"}), '\n')) {
    if (absl::ConsumePrefix(&line, field + ":")) {
      int64_t v = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &v)) return v;
    }
  }
  Die("no " + field + " in INFO");
}

int64_t RedisKeys(const Redis& redis) {
  int64_t n = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(RedisCli(redis, {"dbsize"})), &n)) {
    Die("bad DBSIZE");
  }
  return n;
}

// --- memory ---

void FillEid(ShardRouter& router, uint64_t from, uint64_t to) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      std::vector<ReplayCheck> batch;
      for (uint64_t i = from + t; i < to; i += 2) {
        batch.push_back({Nonce(0xffffffff, t, i), absl::Now() + absl::Seconds(64)});
        if (batch.size() == 1000 || i + 2 >= to) {
          auto v = router.CheckAndRecordBatch(batch);
          if (!v.ok()) Die(v.status().ToString());
          batch.clear();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

void MeasureMemory(const std::string& dir) {
  std::printf("\nbytes per live entry\n");
  auto shard = testing::StartEidd({"--services=shard", "--data_dir=" + dir + "/mem"},
                                  dir + "/mem-eidd");
  if (!shard.ok()) Die(shard.status().ToString());
  std::unique_ptr<ShardRouter> router = RouterTo(*shard);
  Redis redis = StartRedis(dir);
  const int64_t eid_rss0 = testing::ResidentBytes(shard->process->pid());
  const int64_t redis_mem0 = RedisInfoField(redis, "used_memory");
  uint64_t filled = 0;
  int64_t redis_requests = 0;
  for (uint64_t live : {1000000ull, 5000000ull}) {
    FillEid(*router, filled, live);
    filled = live;
    auto info = router->ShardInfo(0);
    if (!info.ok()) Die(info.status().ToString());
    const double entries = info->live_replay_entries();
    const double rss = testing::ResidentBytes(shard->process->pid()) - eid_rss0;
    RedisBenchmark(redis, live - redis_requests, 16, 16);
    redis_requests = live;
    const double keys = RedisKeys(redis);
    const double redis_bytes = RedisInfoField(redis, "used_memory") - redis_mem0;
    std::printf(
        "  %.0fM live: eid table %.1f B/entry (RSS growth %.1f B/entry), "
        "Redis %.1f B/key; eid/Redis = %.2f\n",
        live / 1e6, info->replay_memory_bytes() / entries, rss / entries,
        redis_bytes / keys, (info->replay_memory_bytes() / entries) / (redis_bytes / keys));
  }
  redis.process->Signal(SIGTERM);
  shard->process->Signal(SIGTERM);
  redis.process->Wait(absl::Seconds(10)).IgnoreError();
  shard->process->Wait(absl::Seconds(10)).IgnoreError();
}

int Main() {
  const std::string dir = MakeTempDir();
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int pipeline = absl::GetFlag(FLAGS_pipeline);
  auto shard = testing::StartEidd({"--services=shard", "--data_dir=" + dir + "/tp"},
                                  dir + "/tp-eidd");
  if (!shard.ok()) Die(shard.status().ToString());
  std::unique_ptr<ShardRouter> router = RouterTo(*shard);
  Redis redis = StartRedis(dir);

  std::printf(
      "replay guard, nonces per server CPU-second; %d callers of %d nonces "
      "(eid, through ReplayBatcher) vs redis-benchmark -c %d -P %d\n",
      concurrency, pipeline, concurrency, pipeline);
  // Warm both up (connections, allocator, code paths).
  RunEid(*shard, *router, 1000, concurrency, pipeline, absl::Seconds(1));
  RunRedis(redis, 200000, concurrency, pipeline);

  std::vector<double> eid_rate, redis_rate, ratio;
  for (int run = 0; run < absl::GetFlag(FLAGS_runs); ++run) {
    const Run e = RunEid(*shard, *router, run, concurrency, pipeline,
                         absl::Seconds(absl::GetFlag(FLAGS_seconds)));
    const Run r = RunRedis(redis, absl::GetFlag(FLAGS_redis_requests), concurrency,
                           pipeline);
    std::printf(
        "  run %d: eid %9.0f /CPU-s (%.0f nonces, %.2f CPU-s, %.0f /s wall, "
        "%.0f per RPC) | "
        "Redis %9.0f /CPU-s (%.0f, %.2f CPU-s, %.0f /s wall) | ratio %.2f\n",
        run, e.PerCpuSecond(), e.nonces, e.server_cpu_seconds,
        e.nonces / e.wall_seconds, e.nonces / e.rpcs, r.PerCpuSecond(), r.nonces,
        r.server_cpu_seconds, r.nonces / r.wall_seconds,
        e.PerCpuSecond() / r.PerCpuSecond());
    eid_rate.push_back(e.PerCpuSecond());
    redis_rate.push_back(r.PerCpuSecond());
    ratio.push_back(e.PerCpuSecond() / r.PerCpuSecond());
  }
  std::printf(
      "median: eid %.0f nonces/CPU-s, Redis %.0f nonces/CPU-s, ratio %.2f "
      "(target >= 2)\n",
      Median(eid_rate), Median(redis_rate), Median(ratio));
  redis.process->Signal(SIGTERM);
  shard->process->Signal(SIGTERM);
  redis.process->Wait(absl::Seconds(10)).IgnoreError();
  shard->process->Wait(absl::Seconds(10)).IgnoreError();

  if (absl::GetFlag(FLAGS_memory)) MeasureMemory(dir);
  testing::Run({"rm", "-rf", dir}, nullptr, absl::Seconds(60)).IgnoreError();
  return 0;
}

}  // namespace
}  // namespace eid

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return eid::Main();
}
