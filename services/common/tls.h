// Mutual TLS for eid's gRPC servers and channels: credentials from PEM
// files (a CA, a certificate, its key) and the caller's identity from the
// certificate it presented.
//
// Identity: every URI SAN of the form spiffe://eid/<name> (a process that
// hosts several roles may carry several); a certificate without one is
// known by its subject common name. Certificates come from eid's CA only
// (tools/certs/make-certs.sh in development, the operators' CA in
// production): whoever holds a key the CA signed *is* that identity, so the
// CA key never lives on a server.
//
// Thread-safe (plain functions and immutable values).
#ifndef EID_SERVICES_COMMON_TLS_H_
#define EID_SERVICES_COMMON_TLS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace eid {

// Where the PEM files are (the --tls_ca, --tls_cert, --tls_key flags).
struct TlsFiles {
  std::string ca;    // CA certificate(s) that sign every peer.
  std::string cert;  // This process's certificate (chain).
  std::string key;   // Its private key; mode 0600 (a secret file).
};

// The loaded and checked PEM contents.
struct TlsConfig {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Loads `files`. None given: nullopt (plaintext). Fails fast with
// INVALID_ARGUMENT if only some are given (naming the missing flags), and
// FAILED_PRECONDITION if a file is unreadable, not PEM of the right kind,
// the key is readable by group or others (ReadSecretFile), or the key does
// not belong to the certificate. Messages name paths, never key bytes.
absl::StatusOr<std::optional<TlsConfig>> LoadTlsFiles(const TlsFiles& files);

// Server credentials: TLS with this certificate, asking every client for
// its certificate and verifying it against the CA (a client with an
// unverifiable certificate fails the handshake). A client that sends none
// completes the handshake with no identity, and `processor` (which sees
// every call before its handler) turns it away with UNAUTHENTICATED, so the
// refusal is counted per method. `processor` may be null (tests only).
std::shared_ptr<grpc::ServerCredentials> MtlsServerCredentials(
    const TlsConfig& tls, std::shared_ptr<grpc::AuthMetadataProcessor> processor);

// Channel credentials: verify the server against the CA (and its name
// against the address dialled), present this certificate.
std::shared_ptr<grpc::ChannelCredentials> MtlsChannelCredentials(
    const TlsConfig& tls);

// The eid identities of the peer behind `context`: the <name> of each
// spiffe://eid/<name> URI SAN, else the subject common name; empty for a
// peer with no verified certificate (or an in-process or plaintext call).
std::vector<std::string> CallerIdentities(const grpc::AuthContext& context);

}  // namespace eid

#endif  // EID_SERVICES_COMMON_TLS_H_
