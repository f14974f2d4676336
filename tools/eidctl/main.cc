// eidctl: the eid command line, over the same gRPC stubs other backends use.
//
//   eidctl [--server=HOST:PORT] [--json] [--timeout=5s]
//          [--tls_ca=F --tls_cert=F --tls_key=F] COMMAND [ARGS...]
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/common/secrets.h"
#include "services/common/tls.h"
#include "tools/eidctl/accounts.h"
#include "tools/eidctl/audit.h"
#include "tools/eidctl/command.h"
#include "tools/eidctl/health.h"
#include "tools/eidctl/reports.h"
#include "tools/eidctl/qr.h"
#include "tools/eidctl/shard.h"

ABSL_FLAG(std::string, server, "127.0.0.1:7443", "eidd gRPC address.");
ABSL_FLAG(bool, json, false, "Print JSON instead of text.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "Deadline of each call.");
ABSL_FLAG(std::string, internal_token_file, "",
          "File holding eid's internal-caller token (e.g. var/keys/internal_token), "
          "for operators' commands such as audit verify.");

ABSL_FLAG(std::string, tls_ca, "",
          "Mutual TLS: the eid CA (e.g. var/certs/ca.crt). With --tls_cert and "
          "--tls_key; without them eidctl speaks plaintext.");
ABSL_FLAG(std::string, tls_cert, "",
          "Mutual TLS: eidctl's certificate, identity operator (var/certs/operator.crt).");
ABSL_FLAG(std::string, tls_key, "",
          "Mutual TLS: its private key, mode 0600 (var/certs/operator.key).");

namespace {

constexpr const char kUsage[] =
    "eidctl [--server=HOST:PORT] [--json] [--timeout=5s]\n"
    "       [--internal_token_file=FILE]\n"
    "       [--tls_ca=FILE --tls_cert=FILE --tls_key=FILE] COMMAND\n"
    "commands:\n"
    "  health       gRPC health of the server and each eid service\n"
    "  shard info   a storage shard: replay fence and entries, namespaces\n"
    "  audit verify [PARTITION]\n"
    "               recompute the audit log's trees, check every checkpoint\n"
    "  accounts import FILE\n"
    "               register the rows of a CSV or JSON-lines file (docs/reports.md)\n"
    "  reports counts [--province=P --district=D --commune=C --level=L --by=DIMS]\n"
    "               registrations, activations and the activation rate\n"
    "  reports not-activated --province=P [--district=D] [--csv]\n"
    "               approved accounts not yet activated, oldest first\n"
    "  qr keys      the QR service's published verification keys\n"
    "  qr show TOKEN\n"
    "               a token as terminal art, its fields, an offline check\n";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  eid::ctl::CommandContext ctx;
  ctx.server = absl::GetFlag(FLAGS_server);
  absl::StatusOr<std::optional<eid::TlsConfig>> tls = eid::LoadTlsFiles(
      {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
       absl::GetFlag(FLAGS_tls_key)});
  if (!tls.ok()) {
    std::fprintf(stderr, "eidctl: %s\n", tls.status().ToString().c_str());
    return 2;
  }
  ctx.channel = grpc::CreateChannel(
      ctx.server, tls->has_value() ? eid::MtlsChannelCredentials(**tls)
                                   : grpc::InsecureChannelCredentials());
  ctx.json = absl::GetFlag(FLAGS_json);
  ctx.timeout = absl::GetFlag(FLAGS_timeout);
  if (const std::string file = absl::GetFlag(FLAGS_internal_token_file);
      !file.empty()) {
    absl::StatusOr<std::string> token = eid::ReadSecretFile(file);
    if (!token.ok()) {
      std::fprintf(stderr, "eidctl: %s\n", token.status().ToString().c_str());
      return 2;
    }
    ctx.internal_token = std::move(*token);
  }
  const std::string command = positional[1];
  ctx.args.assign(positional.begin() + 2, positional.end());

  if (command == "health") return eid::ctl::Health(ctx);
  if (command == "shard") return eid::ctl::Shard(ctx);
  if (command == "audit") return eid::ctl::Audit(ctx);
  if (command == "accounts") return eid::ctl::Accounts(ctx);
  if (command == "reports") return eid::ctl::Reports(ctx);
  if (command == "qr") return eid::ctl::Qr(ctx);
  std::fprintf(stderr, "eidctl: unknown command \"%s\"\n%s", command.c_str(),
               kUsage);
  return 2;
}
