// OtpServiceImpl: eid.v1.OtpService over an OtpEngine (codes, notices) and
// an SmsQueue (delivery status). Translates only: wire in, absl::Status ->
// grpc::Status out, once (otp.proto documents every RPC). It is also the
// OtpClient of a role in the same process (otp_client.h): the gRPC handlers
// and the direct calls run the same code. Thread-safe.
//
// Metrics (in the registry passed in), besides the queue's (sms_queue.h):
//   otp_sent_total{purpose}   codes sent (not counting idempotent retries)
//   otp_checks_total{result}  CheckOtp outcomes: ok, mismatch, expired,
//                             locked, already_used, superseded, not_found,
//                             invalid, error
//   otp_notices_total{kind}   notices queued
//
// Wiring (eidd): given the shard router `kv`, a Clock, a RandomSource, the
// accounts service's state lookup and the metrics registry,
//   auto otp = OtpServiceImpl::Create(options, kv, clock, random, lookup,
//   registry); builder.RegisterService(otp->get());
// Create opens the transport (options.transport), builds the queue and the
// engine and starts the queue's sender thread; destroying the service stops it.
// With options.dlr_address (transport "kannel") it also listens for Kannel's
// delivery reports there (dlr_http_server.h) and asks smsbox for them; the
// reports are applied from StartBackground on (they write to the shards).
#ifndef EID_SERVICES_OTP_OTP_SERVICE_H_
#define EID_SERVICES_OTP_OTP_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "eid/v1/otp.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/common/random.h"
#include "services/audit/audit_client.h"
#include "services/otp/dlr_http_server.h"
#include "services/otp/dlr_receiver.h"
#include "services/otp/kannel_sms_sender.h"
#include "services/otp/otp_client.h"
#include "services/otp/otp_engine.h"
#include "services/otp/sms_queue.h"
#include "services/otp/sms_sender.h"
#include "storage/shard/kv_store.h"

namespace eid::otp {

class OtpServiceImpl final : public v1::OtpService::Service, public OtpClient {
 public:
  struct Options {
    OtpEngine::Options engine;
    SmsQueue::Options queue;
    // "outbox" (development default) or "kannel".
    std::string transport = "outbox";
    // The outbox file (transport "outbox"); one JSON line per SMS.
    std::string outbox_path = "var/sms-outbox.jsonl";
    // The smsbox (transport "kannel").
    KannelSmsSender::Options kannel;
    // Start the queue's sender thread (and apply delivery reports) at once;
    // false: from StartBackground.
    bool start_sender = true;
    // Delivery reports (transport "kannel"): where to listen for smsbox's
    // callbacks ("host:port", port 0 = any free one); "" = none asked for.
    // kannel.dlr_url is the URL smsbox calls; empty = http://<this address>
    // (which then must name a host, not 0.0.0.0). kannel.dlr_key_file holds
    // the token key.
    std::string dlr_address;
    // Where the role's events are audited: delivery reports and messages
    // given up (null: not audited). Must outlive the service.
    audit::AuditSink* audit = nullptr;
  };

  // Builds the transport, queue and engine it owns. INVALID_ARGUMENT for an
  // unknown transport; FAILED_PRECONDITION if the pepper, the credentials or
  // the outbox cannot be read or opened. `kv`, `clock`, `random` and
  // `metrics` must outlive the service.
  static absl::StatusOr<std::unique_ptr<OtpServiceImpl>> Create(
      const Options& options, storage::KvStore& kv, Clock& clock,
      RandomSource& random, AccountStateLookup account_state,
      prometheus::Registry& metrics);

  // Over an engine and a queue owned by the caller (tests).
  OtpServiceImpl(OtpEngine& engine, SmsQueue& queue,
                 prometheus::Registry& metrics);
  ~OtpServiceImpl() override;

  grpc::Status SendOtp(grpc::ServerContext*, const v1::SendOtpRequest* request,
                       v1::SendOtpResponse* response) override;
  grpc::Status CheckOtp(grpc::ServerContext*,
                        const v1::CheckOtpRequest* request,
                        v1::CheckOtpResponse* response) override;
  grpc::Status SendNotice(grpc::ServerContext*,
                          const v1::SendNoticeRequest* request,
                          v1::SendNoticeResponse* response) override;
  grpc::Status GetDeliveryStatus(
      grpc::ServerContext*, const v1::GetDeliveryStatusRequest* request,
      v1::GetDeliveryStatusResponse* response) override;

  // Starts / stops the background work: the queue's sender thread and the
  // delivery-report listener (stopped for good: it waits for reports in
  // flight, so none writes to the shards after this returns).
  void StartBackground();
  void StopBackground();

  // The delivery-report listener's port (0: none).
  int dlr_port() const { return dlr_port_; }

  // OtpClient: what the handlers above do, for a caller in this process.
  absl::StatusOr<v1::SendOtpResponse> SendOtp(const v1::SendOtpRequest& r) override;
  absl::StatusOr<v1::CheckOtpResponse> CheckOtp(const v1::CheckOtpRequest& r) override;
  absl::StatusOr<v1::SendNoticeResponse> SendNotice(
      const v1::SendNoticeRequest& r) override;

  SmsQueue& queue() { return queue_; }
  OtpEngine& engine() { return engine_; }

 private:
  OtpServiceImpl(std::unique_ptr<SmsSender> sender,
                 std::unique_ptr<SmsQueue> queue,
                 std::unique_ptr<OtpEngine> engine,
                 prometheus::Registry& metrics);

  // Owned only when made by Create (declared first: destroyed last).
  std::unique_ptr<SmsSender> owned_sender_;
  std::unique_ptr<SmsQueue> owned_queue_;
  std::unique_ptr<OtpEngine> owned_engine_;
  // Declared after the queue: the listener stops before what it calls.
  std::unique_ptr<DlrReceiver> dlr_receiver_;
  std::unique_ptr<DlrHttpServer> dlr_server_;
  int dlr_port_ = 0;
  OtpEngine& engine_;
  SmsQueue& queue_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& checks_;
  prometheus::Family<prometheus::Counter>& notices_;
};

}  // namespace eid::otp

#endif  // EID_SERVICES_OTP_OTP_SERVICE_H_
