#include "services/otp/otp_service.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/otp/kannel_dlr.h"
#include "services/common/status.h"
#include "services/otp/outbox_sms_sender.h"

namespace eid::otp {
namespace {

// The otp_checks_total label of a CheckOtp outcome.
std::string CheckResult(const absl::Status& s) {
  if (s.ok()) return "ok";
  const std::string reason = ReasonOf(s);
  if (reason == "OTP_MISMATCH") return "mismatch";
  if (reason == "OTP_EXPIRED") return "expired";
  if (reason == "OTP_LOCKED") return "locked";
  if (reason == "OTP_ALREADY_USED") return "already_used";
  if (reason == "OTP_SUPERSEDED") return "superseded";
  if (reason == "OTP_NOT_FOUND") return "not_found";
  if (absl::IsInvalidArgument(s)) return "invalid";
  return "error";
}

template <typename Response>
grpc::Status Reply(absl::StatusOr<Response> result, Response* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = *std::move(result);
  return grpc::Status::OK;
}

std::string Label(absl::string_view enum_name, absl::string_view prefix) {
  absl::string_view s = enum_name;
  if (s.substr(0, prefix.size()) == prefix) s.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(s);
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtpServiceImpl>> OtpServiceImpl::Create(
    const Options& options, storage::KvStore& kv, Clock& clock,
    RandomSource& random, AccountStateLookup account_state,
    prometheus::Registry& metrics) {
  std::unique_ptr<DlrHttpServer> dlr_server;
  KannelSmsSender::Options kannel_options = options.kannel;
  if (!options.dlr_address.empty()) {
    if (options.transport != "kannel") {
      return absl::InvalidArgumentError(
          "otp: delivery reports (--sms_dlr_address) need --sms_transport=kannel");
    }
    absl::StatusOr<std::unique_ptr<DlrHttpServer>> listening =
        DlrHttpServer::Start(options.dlr_address);
    if (!listening.ok()) return listening.status();
    dlr_server = *std::move(listening);
    if (kannel_options.dlr_url.empty()) {
      const std::string host =
          options.dlr_address.substr(0, options.dlr_address.rfind(':'));
      if (host.empty() || host == "0.0.0.0" || host == "[::]") {
        return absl::InvalidArgumentError(
            "otp: --sms_dlr_address listens on every interface: give "
            "--sms_dlr_url, the URL smsbox reaches it at");
      }
      kannel_options.dlr_url =
          absl::StrCat("http://", host, ":", dlr_server->port(), kDlrPath);
    }
  }
  std::unique_ptr<SmsSender> sender;
  if (options.transport == "outbox") {
    absl::StatusOr<std::unique_ptr<OutboxSmsSender>> outbox =
        OutboxSmsSender::Open(options.outbox_path, clock);
    if (!outbox.ok()) return outbox.status();
    sender = *std::move(outbox);
  } else if (options.transport == "kannel") {
    absl::StatusOr<std::unique_ptr<KannelSmsSender>> kannel =
        KannelSmsSender::Create(kannel_options);
    if (!kannel.ok()) return kannel.status();
    sender = *std::move(kannel);
  } else {
    return absl::InvalidArgumentError(
        "otp: transport must be \"outbox\" or \"kannel\"");
  }
  SmsQueue::Options queue_options = options.queue;
  queue_options.audit = options.audit;
  auto queue = std::make_unique<SmsQueue>(queue_options, kv, *sender, clock,
                                          random, metrics);
  absl::StatusOr<std::unique_ptr<OtpEngine>> engine = OtpEngine::Create(
      options.engine, kv, *queue, clock, random, std::move(account_state));
  if (!engine.ok()) return engine.status();
  std::unique_ptr<DlrReceiver> dlr_receiver;
  if (dlr_server != nullptr) {
    absl::StatusOr<DlrAuthenticator> auth =
        DlrAuthenticator::FromFile(kannel_options.dlr_key_file,
                                   kannel_options.dlr_key_accepted_file);
    if (!auth.ok()) return auth.status();
    dlr_receiver = std::make_unique<DlrReceiver>(
        *queue, *std::move(auth), options.audit, clock, metrics);
    log::Info("otp.dlr.listening")
        .With("port", dlr_server->port())
        .With("dlr_url", kannel_options.dlr_url);
  }
  auto service = std::unique_ptr<OtpServiceImpl>(new OtpServiceImpl(
      std::move(sender), std::move(queue), *std::move(engine), metrics));
  service->dlr_receiver_ = std::move(dlr_receiver);
  service->dlr_server_ = std::move(dlr_server);
  if (service->dlr_server_ != nullptr)
    service->dlr_port_ = service->dlr_server_->port();
  if (options.start_sender) service->StartBackground();
  return service;
}

void OtpServiceImpl::StartBackground() {
  queue_.Start();
  if (dlr_server_ != nullptr) dlr_server_->Attach(dlr_receiver_.get());
}

void OtpServiceImpl::StopBackground() {
  dlr_server_.reset();
  queue_.Stop();
}

OtpServiceImpl::OtpServiceImpl(std::unique_ptr<SmsSender> sender,
                               std::unique_ptr<SmsQueue> queue,
                               std::unique_ptr<OtpEngine> engine,
                               prometheus::Registry& metrics)
    : owned_sender_(std::move(sender)),
      owned_queue_(std::move(queue)),
      owned_engine_(std::move(engine)),
      engine_(*owned_engine_),
      queue_(*owned_queue_),
      sent_(prometheus::BuildCounter()
                .Name("otp_sent_total")
                .Help("One-time codes sent, by purpose (idempotent retries not "
                      "counted).")
                .Register(metrics)),
      checks_(prometheus::BuildCounter()
                  .Name("otp_checks_total")
                  .Help("CheckOtp calls, by result.")
                  .Register(metrics)),
      notices_(prometheus::BuildCounter()
                   .Name("otp_notices_total")
                   .Help("Notice SMS queued, by kind.")
                   .Register(metrics)) {}

OtpServiceImpl::OtpServiceImpl(OtpEngine& engine, SmsQueue& queue,
                               prometheus::Registry& metrics)
    : engine_(engine),
      queue_(queue),
      sent_(prometheus::BuildCounter()
                .Name("otp_sent_total")
                .Help("One-time codes sent, by purpose (idempotent retries not "
                      "counted).")
                .Register(metrics)),
      checks_(prometheus::BuildCounter()
                  .Name("otp_checks_total")
                  .Help("CheckOtp calls, by result.")
                  .Register(metrics)),
      notices_(prometheus::BuildCounter()
                   .Name("otp_notices_total")
                   .Help("Notice SMS queued, by kind.")
                   .Register(metrics)) {}

OtpServiceImpl::~OtpServiceImpl() {
  dlr_server_.reset();
  if (owned_queue_) owned_queue_->Stop();
}

absl::StatusOr<v1::SendOtpResponse> OtpServiceImpl::SendOtp(
    const v1::SendOtpRequest& request) {
  bool replayed = false;
  absl::StatusOr<v1::SendOtpResponse> r = engine_.SendOtp(request, &replayed);
  if (r.ok()) r->set_replayed(replayed);
  if (r.ok() && !replayed) {
    sent_
        .Add({{"purpose",
               Label(v1::OtpPurpose_Name(request.purpose()), "OTP_PURPOSE_")}})
        .Increment();
  }
  return r;
}

absl::StatusOr<v1::CheckOtpResponse> OtpServiceImpl::CheckOtp(
    const v1::CheckOtpRequest& request) {
  absl::StatusOr<v1::CheckOtpResponse> r = engine_.CheckOtp(request);
  checks_.Add({{"result", CheckResult(r.status())}}).Increment();
  return r;
}

absl::StatusOr<v1::SendNoticeResponse> OtpServiceImpl::SendNotice(
    const v1::SendNoticeRequest& request) {
  bool replayed = false;
  absl::StatusOr<v1::SendNoticeResponse> r = engine_.SendNotice(request, &replayed);
  if (r.ok() && !replayed) {
    notices_
        .Add({{"kind",
               Label(v1::NoticeKind_Name(request.kind()), "NOTICE_KIND_")}})
        .Increment();
  }
  return r;
}

grpc::Status OtpServiceImpl::SendOtp(grpc::ServerContext*,
                                     const v1::SendOtpRequest* request,
                                     v1::SendOtpResponse* response) {
  return Reply(SendOtp(*request), response);
}

grpc::Status OtpServiceImpl::CheckOtp(grpc::ServerContext*,
                                      const v1::CheckOtpRequest* request,
                                      v1::CheckOtpResponse* response) {
  return Reply(CheckOtp(*request), response);
}

grpc::Status OtpServiceImpl::SendNotice(grpc::ServerContext*,
                                        const v1::SendNoticeRequest* request,
                                        v1::SendNoticeResponse* response) {
  return Reply(SendNotice(*request), response);
}

grpc::Status OtpServiceImpl::GetDeliveryStatus(
    grpc::ServerContext*, const v1::GetDeliveryStatusRequest* request,
    v1::GetDeliveryStatusResponse* response) {
  if (request->message_id().empty()) {
    return ToGrpcStatus(WithMetadata(
        InvalidArgument(v1::FIELD_REQUIRED, "message_id is required"), "field",
        "message_id"));
  }
  absl::StatusOr<v1::GetDeliveryStatusResponse> r =
      queue_.Status(request->message_id());
  if (!r.ok()) return ToGrpcStatus(r.status());
  *response = *std::move(r);
  return grpc::Status::OK;
}

}  // namespace eid::otp
