#include "services/common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace eid {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int n = 0;
  while (readdir(dir) != nullptr) ++n;
  closedir(dir);
  return n - 3;  // ".", ".." and the fd of this very listing.
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  // /proc/self/stat fields after the ")" that ends the command name; field 3
  // (state) is index 0 here: utime=11, stime=12, threads=17, starttime=19,
  // vsize=20, rss=21 (pages).
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f;
  for (std::string s; fields >> s;) f.push_back(s);
  if (f.size() < 22) return {};
  const double ticks = sysconf(_SC_CLK_TCK);
  const double page = sysconf(_SC_PAGESIZE);
  rlimit fd_limit{};
  getrlimit(RLIMIT_NOFILE, &fd_limit);

  using prometheus::MetricType;
  return {
      Family("process_cpu_seconds_total", "User and system CPU time spent.",
             MetricType::Counter,
             (std::stod(f[11]) + std::stod(f[12])) / ticks),
      Family("process_resident_memory_bytes", "Resident memory size.",
             MetricType::Gauge, std::stod(f[21]) * page),
      Family("process_virtual_memory_bytes", "Virtual memory size.",
             MetricType::Gauge, std::stod(f[20])),
      Family("process_threads", "Number of OS threads.", MetricType::Gauge,
             std::stod(f[17])),
      Family("process_open_fds", "Open file descriptors.", MetricType::Gauge,
             CountOpenFds()),
      Family("process_max_fds", "Maximum number of open file descriptors.",
             MetricType::Gauge, static_cast<double>(fd_limit.rlim_cur)),
      Family("process_start_time_seconds",
             "Start time of the process since the Unix epoch.",
             MetricType::Gauge, BootTimeSeconds() + std::stod(f[19]) / ticks),
  };
}

}  // namespace eid
