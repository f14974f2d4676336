#include "tests/cluster/cluster_harness.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/util/subprocess.h"

namespace eid::testing {
namespace {

// The value of `key=` in a port file, 0 if absent.
int PortIn(const std::string& file, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(ReadFile(file), '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, '=');
    int port = 0;
    if (kv.first == key && absl::SimpleAtoi(kv.second, &port)) return port;
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(
    const std::string& dir) {
  auto cluster = std::unique_ptr<LocalCluster>(new LocalCluster(dir));
  std::string output;
  cluster->started_ = true;  // Even a half-started cluster is stopped.
  absl::Status s = cluster->Script({"--scrape_interval=1s"}, &output);
  if (!s.ok()) return s;
  std::fputs(output.c_str(), stdout);
  if (absl::Status loaded = cluster->Load(); !loaded.ok()) return loaded;
  return cluster;
}

LocalCluster::~LocalCluster() {
  if (!started_) return;
  std::string output;
  absl::Status s = Script({"--stop"}, &output);
  if (!s.ok()) std::fprintf(stderr, "cluster --stop: %s\n", s.ToString().c_str());
}

absl::Status LocalCluster::Script(const std::vector<std::string>& args,
                                  std::string* output) {
  // Its stdout and stderr (progress and errors) both come back in `output`.
  std::vector<std::string> argv = {
      "/bin/bash", RunfilePath("tools/cluster/cluster.sh"), "--dir=" + dir_,
      "--eidd=" + RunfilePath("services/eidd/eidd"),
      "--eidctl=" + RunfilePath("tools/eidctl/eidctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<int> code = Run(argv, output, absl::Seconds(120));
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat("cluster.sh ", absl::StrJoin(args, " "),
                                            " exited ", *code, ":\n", *output));
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::Load() {
  for (absl::string_view line :
       absl::StrSplit(ReadFile(dir_ + "/processes"), '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> name_role = absl::StrSplit(line, ' ');
    const std::string& name = name_role.first;
    processes_.push_back(name);
    roles_[name] = name_role.second;
    const std::string ports = absl::StrCat(dir_, "/", name, ".ports");
    if (name == "prometheus") {
      prometheus_port_ = PortIn(ports, "prometheus");
    } else {
      grpc_ports_[name] = PortIn(ports, "grpc");
    }
  }
  if (prometheus_port_ == 0 || grpc_ports_.empty()) {
    return absl::InternalError("cluster.sh recorded no processes");
  }
  return absl::OkStatus();
}

std::string LocalCluster::role(const std::string& process) const {
  auto it = roles_.find(process);
  return it == roles_.end() ? "" : it->second;
}

std::string LocalCluster::GrpcAddress(const std::string& process) const {
  auto it = grpc_ports_.find(process);
  return absl::StrCat("127.0.0.1:", it == grpc_ports_.end() ? 0 : it->second);
}

absl::Status LocalCluster::Status(std::string* table) {
  return Script({"--status"}, table);
}

absl::Status LocalCluster::Kill(const std::string& process) {
  std::string output;
  return Script({"--kill", process}, &output);
}

absl::Status LocalCluster::Restart(const std::string& process) {
  std::string output;
  return Script({"--restart", process}, &output);
}

}  // namespace eid::testing
