// GrpcServer: a gRPC server the way every eid process runs one — the given
// services, the standard health service (each service SERVING once started),
// server reflection, and per-RPC metrics from RpcMetrics's interceptor.
// With TLS: mutual TLS on the port, every call authorised by caller identity
// and method (MethodAuthorizer) before it reaches a service; and optionally
// a second, plaintext port for probes that carries the same health answers
// and no eid service.
//
// Thread-safe. Shutdown() may be called from any thread, once or more.
#ifndef EID_SERVICES_COMMON_GRPC_SERVER_H_
#define EID_SERVICES_COMMON_GRPC_SERVER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/server.h"
#include "services/common/method_authorizer.h"
#include "services/common/method_policy.h"
#include "services/common/rpc_metrics.h"
#include "services/common/tls.h"

namespace eid {

class GrpcServer {
 public:
  struct Options {
    // host:port to listen on; port 0 picks a free port (see port()).
    std::string address = "127.0.0.1:0";
    // How long Shutdown() lets in-flight calls finish before cancelling them.
    absl::Duration shutdown_grace = absl::Seconds(5);
    // Largest message accepted (bulk imports and document payloads).
    int max_message_bytes = 16 << 20;
    // Idle handler threads the sync server keeps per completion queue
    // (gRPC's default is 2). Above it a thread that finishes a call exits,
    // and the next burst creates new ones: with calls nested in process
    // (a handler calling the shard on this same server) that was a thread
    // created and destroyed per few calls, with its malloc arena.
    int max_idle_threads = 16;
    // Mutual TLS on `address`; none: plaintext (development and tests).
    std::optional<TlsConfig> tls;
    // Who may call what under TLS; null: MethodPolicy::Default(). Must
    // outlive the server.
    const MethodPolicy* policy = nullptr;
    // Told of every call the policy refused (see MethodAuthorizer).
    std::function<void(const AuthDenial&)> on_auth_denied;
    // host:port of a plaintext port serving only the health service (with
    // the same statuses), for probes without a certificate; empty: none.
    std::string health_address;
  };

  // A service to host and its full name ("eid.v1.ShardService"), under which
  // the health service reports it.
  struct Service {
    std::string name;
    grpc::Service* service;  // Not owned; must outlive the server.
  };

  // Starts serving `services`.
  // Fails with UNAVAILABLE if an address cannot be bound and
  // INVALID_ARGUMENT if there is no service.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const Options& options, const std::vector<Service>& services,
      RpcMetrics& metrics);

  ~GrpcServer();  // Shuts down if still serving.

  // The port actually bound.
  int port() const { return port_; }
  // The health-only port bound (0 if none was asked for).
  int health_port() const { return health_port_; }
  // A channel to this server that skips the network (for `all` mode).
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Marks every service NOT_SERVING, stops accepting calls, lets in-flight
  // calls finish for up to the grace period, then cancels the rest. Returns
  // as soon as no call is in flight: idle client connections are closed at
  // once rather than holding shutdown for the whole grace period.
  void Shutdown();
  // Blocks until the server has shut down.
  void Wait();

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port,
             absl::Duration grace, const RpcMetrics& metrics);

  // Sets `service`'s health on the main server and the health-only one.
  void SetServing(const std::string& service, bool serving);

  std::shared_ptr<grpc::AuthMetadataProcessor> authorizer_;  // Under TLS.
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;  // Null if none.
  int health_port_ = 0;
  const RpcMetrics& metrics_;  // Counts the calls in flight.
  const int port_;
  const absl::Duration grace_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace eid

#endif  // EID_SERVICES_COMMON_GRPC_SERVER_H_
