// Test fixtures for the activation service: a recording audit sink, a
// scripted OTP service (codes readable by the test), and a harness wiring
// Activation over a real RocksDB store with a fake clock.
#ifndef EID_SERVICES_ACTIVATION_ACTIVATION_TESTING_H_
#define EID_SERVICES_ACTIVATION_ACTIVATION_TESTING_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "eid/v1/otp.grpc.pb.h"
#include "grpcpp/server.h"
#include "prometheus/registry.h"
#include "services/activation/activation.h"
#include "services/activation/hash_gate.h"
#include "services/common/clock.h"
#include "services/common/internal_auth.h"
#include "services/audit/recording_audit_sink.h"
#include "services/common/random.h"
#include "services/otp/grpc_otp_client.h"
#include "storage/shard/forwarding_kv_store.h"
#include "storage/shard/rocksdb_kv_store.h"

namespace eid::activation {

using audit::RecordingAuditSink;

// An OTP service that remembers the codes it "sent", so a test can type
// them. Codes are consumed once; a resend supersedes; idempotent by
// request_id. The real rules are tested in services/otp.
class ScriptedOtpService : public v1::OtpService::Service {
 public:
  grpc::Status SendOtp(grpc::ServerContext*, const v1::SendOtpRequest*,
                       v1::SendOtpResponse*) override;
  grpc::Status CheckOtp(grpc::ServerContext*, const v1::CheckOtpRequest*,
                        v1::CheckOtpResponse*) override;
  grpc::Status SendNotice(grpc::ServerContext*, const v1::SendNoticeRequest*,
                          v1::SendNoticeResponse*) override;

  // Every SendOtp from now on answers `refusal` (OK: sends again).
  void RefuseSends(grpc::Status refusal);
  // The code of the latest OTP sent for `account_id`.
  std::string LastCode(const std::string& account_id) const;
  int sent() const;
  std::vector<v1::SendNoticeRequest> notices() const;

 private:
  struct Code {
    std::string account_id;
    v1::OtpPurpose purpose;
    std::string code;
    bool used = false;
    bool superseded = false;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Code> codes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> by_request_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> latest_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::SendNoticeRequest> notices_ ABSL_GUARDED_BY(mu_);
  grpc::Status refusal_ ABSL_GUARDED_BY(mu_);
  int sent_ ABSL_GUARDED_BY(mu_) = 0;
};

// A KvStore that passes every call through, except Gets in one namespace
// while that namespace is "down": those fail UNAVAILABLE, as a Get routed
// to a killed shard does. It can also run something just before the next
// Batch (a rival writer, at the worst moment).
class DownableKvStore : public storage::ForwardingKvStore {
 public:
  using ForwardingKvStore::ForwardingKvStore;
  // "" brings it back.
  void SetDown(std::string name_space) {
    absl::MutexLock lock(&mu_);
    down_ = std::move(name_space);
  }
  // Runs `rival` once, before the next Batch is applied.
  void BeforeNextBatch(std::function<void()> rival) {
    absl::MutexLock lock(&mu_);
    rival_ = std::move(rival);
  }
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& r) override;
  absl::StatusOr<v1::BatchResponse> Batch(const v1::BatchRequest& r) override;

 private:
  absl::Mutex mu_;
  std::string down_ ABSL_GUARDED_BY(mu_);
  std::function<void()> rival_ ABSL_GUARDED_BY(mu_);
};

// Activation over a RocksDB store in a temp dir, the scripted OTP service
// (served in process over gRPC), a fake clock and a recording audit sink.
class ActivationHarness {
 public:
  explicit ActivationHarness(v1::OtpService::Service* otp = nullptr);
  ~ActivationHarness();

  Activation& core() { return *core_; }
  FakeClock& clock() { return clock_; }
  ScriptedOtpService& otp() { return scripted_otp_; }
  RecordingAuditSink& audit() { return audit_; }
  storage::RocksDbKvStore& kv() { return *kv_; }
  // Gets in `name_space` fail UNAVAILABLE until SetDown("").
  void SetDown(std::string name_space) { downable_->SetDown(std::move(name_space)); }
  // Runs `rival` once, just before the next Batch of Activation's.
  void BeforeNextBatch(std::function<void()> rival) {
    downable_->BeforeNextBatch(std::move(rival));
  }
  AccountStore& accounts() { return *accounts_; }
  // One hash at a time; a test holding its slot makes hashes wait.
  HashGate& hash_gate() { return hash_gate_; }
  static Caller Internal();

 private:
  FakeClock clock_;
  SystemRandom random_;
  std::string dir_;
  std::unique_ptr<storage::RocksDbKvStore> kv_;
  std::unique_ptr<DownableKvStore> downable_;  // Over kv_; what Activation uses.
  std::unique_ptr<ReportIndex> index_;
  std::unique_ptr<AccountStore> accounts_;
  ScriptedOtpService scripted_otp_;
  std::unique_ptr<grpc::Server> otp_server_;
  InternalAuth internal_auth_{""};
  std::unique_ptr<otp::GrpcOtpClient> otp_client_;  // Over otp_server_.
  RecordingAuditSink audit_;
  prometheus::Registry metrics_;
  HashGate hash_gate_{1, metrics_};
  std::unique_ptr<PasscodeHasher> hasher_;
  std::unique_ptr<Activation> core_;
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_ACTIVATION_TESTING_H_
