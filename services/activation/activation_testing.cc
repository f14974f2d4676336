#include "services/activation/activation_testing.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "grpcpp/server_builder.h"
#include "services/common/proto_time.h"
#include "services/common/status.h"

namespace eid::activation {

void ScriptedOtpService::RefuseSends(grpc::Status refusal) {
  absl::MutexLock lock(&mu_);
  refusal_ = std::move(refusal);
}

grpc::Status ScriptedOtpService::SendOtp(grpc::ServerContext*,
                                         const v1::SendOtpRequest* r,
                                         v1::SendOtpResponse* out) {
  absl::MutexLock lock(&mu_);
  if (!refusal_.ok()) return refusal_;
  std::string& id = by_request_[r->request_id()];
  out->set_replayed(!id.empty());
  if (id.empty()) {
    ++sent_;
    id = absl::StrCat("otp-", sent_);
    auto previous = latest_.find(r->account_id());
    if (previous != latest_.end()) codes_[previous->second].superseded = true;
    codes_[id] = Code{r->account_id(), r->purpose(), absl::StrCat(482900 + sent_)};
    latest_[r->account_id()] = id;
  }
  out->set_otp_id(id);
  return grpc::Status::OK;
}

grpc::Status ScriptedOtpService::CheckOtp(grpc::ServerContext*,
                                          const v1::CheckOtpRequest* r,
                                          v1::CheckOtpResponse* out) {
  absl::MutexLock lock(&mu_);
  auto it = codes_.find(r->otp_id());
  if (it == codes_.end()) {
    return ToGrpcStatus(NotFound(v1::OTP_NOT_FOUND, "no such code"));
  }
  Code& code = it->second;
  if (code.used) {
    return ToGrpcStatus(FailedPrecondition(v1::OTP_ALREADY_USED, "used"));
  }
  if (code.superseded) {
    return ToGrpcStatus(FailedPrecondition(v1::OTP_SUPERSEDED, "superseded"));
  }
  if (code.code != r->code()) {
    return ToGrpcStatus(Unauthenticated(v1::OTP_MISMATCH, "wrong code"));
  }
  code.used = true;
  out->set_account_id(code.account_id);
  out->set_purpose(code.purpose);
  return grpc::Status::OK;
}

grpc::Status ScriptedOtpService::SendNotice(grpc::ServerContext*,
                                            const v1::SendNoticeRequest* r,
                                            v1::SendNoticeResponse* out) {
  absl::MutexLock lock(&mu_);
  std::string& id = by_request_[r->request_id()];
  if (id.empty()) {
    notices_.push_back(*r);
    id = absl::StrCat("notice-", notices_.size());
  }
  out->set_message_id(id);
  return grpc::Status::OK;
}

std::string ScriptedOtpService::LastCode(const std::string& account_id) const {
  absl::MutexLock lock(&mu_);
  auto it = latest_.find(account_id);
  return it == latest_.end() ? "" : codes_.at(it->second).code;
}

int ScriptedOtpService::sent() const {
  absl::MutexLock lock(&mu_);
  return sent_;
}

std::vector<v1::SendNoticeRequest> ScriptedOtpService::notices() const {
  absl::MutexLock lock(&mu_);
  return notices_;
}

absl::StatusOr<v1::GetResponse> DownableKvStore::Get(const v1::GetRequest& r) {
  {
    absl::MutexLock lock(&mu_);
    if (!down_.empty() && r.namespace_() == down_) {
      return absl::UnavailableError("shard down (test)");
    }
  }
  return store_.Get(r);
}

absl::StatusOr<v1::BatchResponse> DownableKvStore::Batch(const v1::BatchRequest& r) {
  std::function<void()> rival;
  {
    absl::MutexLock lock(&mu_);
    rival.swap(rival_);
  }
  if (rival) rival();
  return store_.Batch(r);
}

ActivationHarness::ActivationHarness(v1::OtpService::Service* otp)
    : clock_(absl::FromCivil(absl::CivilSecond(2026, 3, 1, 9, 0, 0), absl::UTCTimeZone())) {
  char tmpl[] = "/tmp/activation_test.XXXXXX";
  dir_ = mkdtemp(tmpl);
  storage::RocksDbKvStore::Options kv_options;
  kv_options.path = dir_ + "/kv";
  kv_options.block_cache_bytes = 8 << 20;
  kv_ = std::move(*storage::RocksDbKvStore::Open(kv_options, clock_));
  index_ = std::make_unique<ReportIndex>(1, [](absl::string_view) { return 0u; });
  downable_ = std::make_unique<DownableKvStore>(*kv_);
  accounts_ = std::make_unique<AccountStore>(*downable_, *index_);
  grpc::ServerBuilder builder;
  builder.RegisterService(otp != nullptr ? otp : &scripted_otp_);
  otp_server_ = builder.BuildAndStart();
  otp_client_ = std::make_unique<otp::GrpcOtpClient>(
      [this] { return otp_server_->InProcessChannel(grpc::ChannelArguments()); },
      internal_auth_);
  PasscodeHasher::Options fast;
  fast.ops_limit = 1;
  fast.mem_limit_bytes = 64 << 10;
  hasher_ = std::make_unique<PasscodeHasher>(std::string(32, 'p'), fast, &hash_gate_);
  ActivationSecrets secrets{std::string(32, 'a'), std::string(32, 'b'),
                            std::string(32, 'c'), ""};
  core_ = std::make_unique<Activation>(*accounts_, *otp_client_, audit_, clock_,
                                       random_, *hasher_, secrets,
                                       ActivationOptions());
}

ActivationHarness::~ActivationHarness() {
  core_.reset();
  otp_client_.reset();
  otp_server_->Shutdown();
  kv_.reset();
  std::system(absl::StrCat("rm -rf ", dir_).c_str());
}

Caller ActivationHarness::Internal() {
  Caller caller;
  caller.internal = true;
  return caller;
}

}  // namespace eid::activation
