// LocalCluster (tests): the production topology of tools/cluster/cluster.sh
// (every role its own eidd process, and a real Prometheus) started in a
// scratch directory, with the script's own kill and restart for fault
// tests. Stopped, with everything it started, when it goes.
#ifndef EID_TESTS_CLUSTER_CLUSTER_HARNESS_H_
#define EID_TESTS_CLUSTER_CLUSTER_HARNESS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace eid::testing {

class LocalCluster {
 public:
  // Runs `cluster.sh --dir=dir` with the eidd and eidctl of this test's
  // runfiles and Prometheus scraping every second; returns once every
  // process serves. On failure the message holds the script's output.
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Start(const std::string& dir);

  // `cluster.sh --stop`: exactly the processes it started.
  ~LocalCluster();

  // The processes started, in start order ("shard-0", ..., "prometheus"),
  // and the role of each. A role the eidd does not know is not there.
  const std::vector<std::string>& processes() const { return processes_; }
  bool Has(const std::string& process) const { return roles_.count(process) > 0; }
  std::string role(const std::string& process) const;

  // 127.0.0.1:PORT of a process's gRPC server.
  std::string GrpcAddress(const std::string& process) const;
  int prometheus_port() const { return prometheus_port_; }
  std::string keys_dir() const { return dir_ + "/keys"; }
  // The dev CA and the certificates the script made (make-certs.sh): a
  // client of the cluster presents `identity`'s ("client", "operator", a
  // role), as the cluster's own processes present their role's.
  std::string ca_file() const { return dir_ + "/certs/ca.crt"; }
  std::string cert_file(const std::string& identity) const {
    return dir_ + "/certs/" + identity + ".crt";
  }
  std::string key_file(const std::string& identity) const {
    return dir_ + "/certs/" + identity + ".key";
  }
  std::string sms_outbox() const { return dir_ + "/otp/sms-outbox.jsonl"; }

  // `--status`: OK if every process is up and, asked by eidctl over mutual
  // TLS as operator, every service it hosts SERVING; the table in `*table`.
  absl::Status Status(std::string* table);

  // SIGKILL (`--kill`), and start again on the same ports once serving
  // (`--restart`).
  absl::Status Kill(const std::string& process);
  absl::Status Restart(const std::string& process);

 private:
  explicit LocalCluster(std::string dir) : dir_(std::move(dir)) {}
  absl::Status Script(const std::vector<std::string>& args, std::string* output);
  absl::Status Load();

  const std::string dir_;
  std::vector<std::string> processes_;
  std::map<std::string, std::string> roles_;
  std::map<std::string, int> grpc_ports_;
  int prometheus_port_ = 0;
  bool started_ = false;
};

}  // namespace eid::testing

#endif  // EID_TESTS_CLUSTER_CLUSTER_HARNESS_H_
