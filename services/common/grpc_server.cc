#include "services/common/grpc_server.h"

#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/grpc.h"

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"
#include "services/common/method_authorizer.h"

namespace eid {

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const Options& options, const std::vector<Service>& services,
    RpcMetrics& metrics) {
  if (services.empty()) {
    return absl::InvalidArgumentError("a gRPC server needs a service");
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int port = 0;
  std::shared_ptr<grpc::AuthMetadataProcessor> authorizer;
  if (options.tls.has_value()) {
    authorizer = std::make_shared<MethodAuthorizer>(
        options.policy != nullptr ? *options.policy : MethodPolicy::Default(), metrics,
        options.on_auth_denied);
    builder.AddListeningPort(options.address,
                             MtlsServerCredentials(*options.tls, authorizer), &port);
  } else {
    builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(),
                             &port);
  }
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              options.max_idle_threads);
  // Without this, Linux lets a second server bind the same port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (const Service& s : services) builder.RegisterService(s.service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(metrics.InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address,
                     " (address in use or not local?)"));
  }
  auto out = absl::WrapUnique(
      new GrpcServer(std::move(server), port, options.shutdown_grace, metrics));
  out->authorizer_ = std::move(authorizer);
  if (!options.health_address.empty()) {
    // Only the default health service (and reflection, which every builder
    // gets: it describes the public API and nothing else) on plaintext.
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(options.health_address,
                                    grpc::InsecureServerCredentials(),
                                    &out->health_port_);
    health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    out->health_server_ = health_builder.BuildAndStart();
    if (out->health_server_ == nullptr || out->health_port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options.health_address,
                       " (health address in use or not local?)"));
    }
  }
  out->SetServing("", true);
  for (const Service& s : services) out->SetServing(s.name, true);
  return out;
}

void GrpcServer::SetServing(const std::string& service, bool serving) {
  for (grpc::Server* server : {server_.get(), health_server_.get()}) {
    if (server != nullptr) {
      server->GetHealthCheckService()->SetServingStatus(service, serving);
    }
  }
}

GrpcServer::GrpcServer(std::unique_ptr<grpc::Server> server, int port,
                       absl::Duration grace, const RpcMetrics& metrics)
    : server_(std::move(server)), metrics_(metrics), port_(port), grace_(grace) {}

GrpcServer::~GrpcServer() { Shutdown(); }

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void GrpcServer::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  for (grpc::Server* server : {server_.get(), health_server_.get()}) {
    if (server != nullptr) server->GetHealthCheckService()->SetServingStatus(false);
  }
  // grpc::Server::Shutdown waits for every connection to go, and a client
  // holding an idle connection (most do) would keep it waiting the whole
  // grace period. So it runs on its own thread while this one watches the
  // calls in flight and, once none is left, disconnects the idle clients.
  const absl::Time deadline = absl::Now() + grace_;
  absl::Notification stopped;
  std::thread stopper([&] {
    server_->Shutdown(absl::ToChronoTime(deadline));
    stopped.Notify();
  });
  while (!stopped.WaitForNotificationWithTimeout(absl::Milliseconds(5))) {
    if (metrics_.InFlight() == 0 || absl::Now() >= deadline) {
      grpc_server_cancel_all_calls(server_->c_server());
    }
  }
  stopper.join();
  if (health_server_ != nullptr) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
  }
  shut_down_ = true;
}

void GrpcServer::Wait() {
  server_->Wait();
  if (health_server_ != nullptr) health_server_->Wait();
}

}  // namespace eid
