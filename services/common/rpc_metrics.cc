#include "services/common/rpc_metrics.h"

#include <chrono>

#include "grpcpp/support/interceptor.h"

namespace eid {
namespace {

constexpr const char* kCodeNames[] = {
    "OK",          "CANCELLED",        "UNKNOWN",           "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS",    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",       "DATA_LOSS",
    "UNAUTHENTICATED"};

// Latency buckets in seconds: 100 µs .. 10 s, for RPCs that range from a
// cached replay check to an Argon2id passcode hash.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,    5,    10};
  return *buckets;
}

class RpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(RpcMetrics& metrics, RpcMetrics::Method& method)
      : metrics_(metrics),
        method_(method),
        start_(std::chrono::steady_clock::now()) {
    metrics_.RecordStarted(method_);
  }

  ~RpcMetricsInterceptor() override {
    // A call torn down without a status (client went away) is CANCELLED.
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(int code) {
    recorded_ = true;
    const std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start_;
    metrics_.RecordHandled(method_, code, elapsed.count());
  }

  RpcMetrics& metrics_;
  RpcMetrics::Method& method_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class RpcMetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsInterceptorFactory(RpcMetrics& metrics)
      : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(metrics_,
                                     metrics_.ForMethod(info->method()));
  }

 private:
  RpcMetrics& metrics_;
};

}  // namespace

RpcMetrics::RpcMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("RPCs completed on the server, by status code.")
                   .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("grpc_server_handling_seconds")
                   .Help("Time from the start of an RPC to its status.")
                   .Register(registry)),
      auth_denied_(prometheus::BuildCounter()
                       .Name("grpc_server_auth_denied_total")
                       .Help("Calls refused by mutual-TLS authorisation (caller "
                             "certificate identity vs the method policy).")
                       .Register(registry)) {}

RpcMetrics::Method& RpcMetrics::ForMethod(absl::string_view full_method) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(full_method);
    if (it != methods_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Method>& slot = methods_[full_method];
  if (slot == nullptr) {
    // "/eid.v1.ShardService/Get" -> service "eid.v1.ShardService", method "Get".
    absl::string_view name = full_method;
    if (!name.empty() && name.front() == '/') name.remove_prefix(1);
    const size_t slash = name.find('/');
    auto m = std::make_unique<Method>();
    m->service = std::string(name.substr(0, slash));
    m->method = slash == absl::string_view::npos
                    ? ""
                    : std::string(name.substr(slash + 1));
    const prometheus::Labels labels = {{"grpc_service", m->service},
                                       {"grpc_method", m->method}};
    m->started = &started_.Add(labels);
    m->latency = &latency_.Add(labels, LatencyBuckets());
    for (auto& h : m->handled) h.store(nullptr);
    slot = std::move(m);
  }
  return *slot;
}

void RpcMetrics::RecordStarted(Method& m) {
  in_flight_.fetch_add(1, std::memory_order_acq_rel);
  m.started->Increment();
}

void RpcMetrics::RecordHandled(Method& m, int code, double seconds) {
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  if (code < 0 || code > 16) code = 2;  // UNKNOWN
  prometheus::Counter* counter = m.handled[code].load(std::memory_order_acquire);
  if (counter == nullptr) {
    absl::MutexLock lock(&mu_);
    counter = m.handled[code].load(std::memory_order_relaxed);
    if (counter == nullptr) {
      counter = &handled_.Add({{"grpc_service", m.service},
                               {"grpc_method", m.method},
                               {"grpc_code", kCodeNames[code]}});
      m.handled[code].store(counter, std::memory_order_release);
    }
  }
  counter->Increment();
  m.latency->Observe(seconds);
}

void RpcMetrics::RecordAuthDenied(absl::string_view method, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  const std::pair<std::string, std::string> key{std::string(method), std::string(reason)};
  prometheus::Counter*& counter = denied_[key];
  if (counter == nullptr) {
    counter = &auth_denied_.Add({{"method", key.first}, {"reason", key.second}});
  }
  counter->Increment();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RpcMetrics::InterceptorFactory() {
  return std::make_unique<RpcMetricsInterceptorFactory>(*this);
}

}  // namespace eid
