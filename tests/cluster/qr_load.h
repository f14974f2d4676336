// QrLoad (cluster fault tests): QR verification traffic against a running
// cluster. Citizens (level 2, QR verification on) issue tokens (IssueQr) and
// a verifying official scans each one on the verification replicas in turn,
// then deliberately presents the SAME token again, to the other replica and
// to the first. Every verdict is counted; GENUINE ones by token nonce, so a
// test can check that no nonce was ever accepted twice — across replicas,
// and across a kill -9 of the shard that remembers it.
//
// Thread-safe. Activation and the QR flow go through CitizenDriver.
#ifndef EID_TESTS_CLUSTER_QR_LOAD_H_
#define EID_TESTS_CLUSTER_QR_LOAD_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eid/v1/qr.grpc.pb.h"
#include "eid/v1/verification.grpc.pb.h"
#include "grpcpp/channel.h"
#include "services/activation/test_device.h"
#include "services/common/internal_auth.h"

namespace eid::testing {

class QrLoad {
 public:
  struct Endpoints {
    std::shared_ptr<grpc::Channel> activation;
    std::shared_ptr<grpc::Channel> qr;
    std::vector<std::shared_ptr<grpc::Channel>> verifiers;  // The replicas.
  };
  // Sees every call's outcome (method name, status) and returns the status:
  // the test's own tally of answers.
  using Recorder = std::function<absl::Status(const std::string& method, absl::Status)>;

  // The figures: how many VerifyQr answers of each kind.
  struct Figures {
    int64_t issued = 0;         // IssueQr answered OK.
    int64_t verifications = 0;  // VerifyQr calls made.
    int64_t genuine = 0;
    int64_t replayed = 0;
    int64_t expired = 0;        // EXPIRED: past expiry, or FENCED by a restarted shard.
    int64_t other_verdicts = 0;
    int64_t unavailable = 0;    // UNAVAILABLE or DEADLINE_EXCEEDED.
    int64_t represented = 0;    // Of the verifications: tokens shown again on purpose.
    int64_t nonces = 0;         // Distinct nonces with a GENUINE verdict.
  };

  QrLoad(Endpoints endpoints, const InternalAuth& internal, std::string sms_outbox,
         Recorder record);
  ~QrLoad();  // Stops the load.

  // Activates `citizens` citizens with QR verification on and one official
  // with the verifier role (real clock: seconds). Call before Start.
  absl::Status Prepare(int citizens);

  // One thread per citizen: issue, verify on replica i, again on the other
  // replica, again on replica i; round-robin over the replicas.
  void Start();
  void Stop();

  // Tokens that got GENUINE within the last `window` (still unexpired).
  std::vector<std::string> RecentGenuine(absl::Duration window);
  // Presents each token again on every replica; each answer is counted
  // (and a GENUINE would count for its nonce a second time). A call that
  // got no verdict (UNAVAILABLE, DEADLINE_EXCEEDED) is made again, as the
  // official would scan again, until `retry_for` has passed. Returns the
  // figures of these calls alone.
  Figures Represent(const std::vector<std::string>& tokens,
                    absl::Duration retry_for = absl::ZeroDuration());

  int64_t genuine();
  // Waits (up to `timeout`) until `more` GENUINE verdicts beyond `from`.
  bool AwaitGenuine(int64_t from, int64_t more, absl::Duration timeout);

  // Hex nonces that got GENUINE more than once, with their count.
  std::map<std::string, int> AcceptedTwice();
  Figures figures();
  // The other verdicts seen, by name (none expected).
  std::map<std::string, int64_t> other_verdicts();

 private:
  struct Holder {  // A citizen who makes QR codes.
    std::unique_ptr<activation::TestDevice> device;
    std::string account_id;
    std::string session;
  };
  // One answer of VerifyQr for `token` on replica `replica`, counted in the
  // totals and, if given, in `*mine`.
  void Verify(const std::string& token, size_t replica, bool represented,
              Figures* mine = nullptr);
  absl::StatusOr<std::string> Issue(const Holder& citizen);
  void Run(size_t citizen);

  const Endpoints endpoints_;
  const InternalAuth& internal_;
  const std::string sms_outbox_;
  const Recorder record_;
  std::unique_ptr<v1::QrService::Stub> qr_;
  std::vector<std::unique_ptr<v1::VerificationService::Stub>> verifiers_;
  std::vector<Holder> citizens_;
  std::unique_ptr<activation::TestDevice> official_device_;
  std::string official_session_;
  absl::Mutex sign_mu_;  // The official's device signs one request at a time.

  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;

  absl::Mutex mu_;
  Figures figures_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> genuine_by_nonce_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> other_ ABSL_GUARDED_BY(mu_);
  // GENUINE tokens, newest last, with when they were accepted.
  std::vector<std::pair<absl::Time, std::string>> accepted_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eid::testing

#endif  // EID_TESTS_CLUSTER_QR_LOAD_H_
