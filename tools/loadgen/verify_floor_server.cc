// The floor the verification benchmark compares against: a gRPC server whose
// VerifyQr does nothing but decode the token and check its Ed25519
// signature (libsodium) against keys parsed once at start. No replay guard,
// no account lookup, no audit, no metrics: what is left is the cost of a
// gRPC call plus one signature check.
//
//   verify_floor_server --qr_server=HOST:PORT --port_file=FILE
//
// Fetches the keys from the QR service's GetVerificationKeys, listens on a
// free loopback port, writes it to --port_file and serves until SIGTERM.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "eid/v1/qr.grpc.pb.h"
#include "eid/v1/verification.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "services/qr/token/qr_token.h"

ABSL_FLAG(std::string, qr_server, "", "host:port of the QR service, for its keys.");
ABSL_FLAG(std::string, port_file, "", "Where to write the port it listens on.");

namespace eid::loadgen {
namespace {

class FloorVerification final : public v1::VerificationService::Service {
 public:
  explicit FloorVerification(std::map<uint32_t, std::string> keys)
      : keys_(std::move(keys)) {}

  grpc::Status VerifyQr(grpc::ServerContext*, const v1::VerifyQrRequest* request,
                        v1::VerifyQrResponse* response) override {
    absl::StatusOr<qr::ParsedToken> token = qr::Parse(request->token());
    if (!token.ok()) {
      response->set_verdict(v1::VERDICT_MALFORMED);
    } else if (auto key = keys_.find(token->key_id); key == keys_.end()) {
      response->set_verdict(v1::VERDICT_UNKNOWN_KEY);
    } else {
      response->set_verdict(qr::VerifySignature(*token, key->second)
                                ? v1::VERDICT_GENUINE
                                : v1::VERDICT_FORGED);
    }
    return grpc::Status::OK;
  }

 private:
  const std::map<uint32_t, std::string> keys_;  // Parsed once: key id -> raw key.
};

int Main() {
  // Blocked before gRPC starts its threads, so only sigwait below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto qr = v1::QrService::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_qr_server), grpc::InsecureChannelCredentials()));
  v1::GetVerificationKeysResponse keys;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (grpc::Status s = qr->GetVerificationKeys(&context, {}, &keys); !s.ok()) {
    std::fprintf(stderr, "verify_floor_server: GetVerificationKeys: %s\n",
                 s.error_message().c_str());
    return 1;
  }
  std::map<uint32_t, std::string> parsed;
  for (const v1::VerificationKey& k : keys.keys()) parsed[k.key_id()] = k.public_key();
  FloorVerification service(std::move(parsed));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return 1;
  std::ofstream(absl::GetFlag(FLAGS_port_file)) << port << "\n";

  int signal = 0;
  sigwait(&stop, &signal);
  server->Shutdown();
  return 0;
}

}  // namespace
}  // namespace eid::loadgen

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return eid::loadgen::Main();
}
