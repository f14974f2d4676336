#include "services/common/tls.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/grpc_security_constants.h"
#include "services/common/secrets.h"

namespace eid {
namespace {

constexpr absl::string_view kSpiffePrefix = "spiffe://eid/";

absl::StatusOr<std::string> ReadPublicFile(const std::string& flag,
                                           const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream data;
  data << in.rdbuf();
  if (!in || data.str().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--", flag, ": cannot read ", path));
  }
  return data.str();
}

// The number of PEM certificates in `pem` (0 if none parses).
int CountCertificates(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  int n = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++n;
  }
  BIO_free(bio);
  return n;
}

// Whether `key_pem` parses and is the key of the first certificate in
// `cert_pem`.
bool KeyMatchesCertificate(const std::string& cert_pem, const std::string& key_pem) {
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  const bool ok = cert != nullptr && key != nullptr && X509_check_private_key(cert, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

absl::StatusOr<std::optional<TlsConfig>> LoadTlsFiles(const TlsFiles& files) {
  std::vector<std::string> given, missing;
  for (auto [flag, path] : {std::pair<const char*, const std::string*>{"tls_ca", &files.ca},
                            {"tls_cert", &files.cert},
                            {"tls_key", &files.key}}) {
    (path->empty() ? missing : given).push_back(absl::StrCat("--", flag));
  }
  if (given.empty()) return std::nullopt;
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        absl::StrJoin(given, ", "), " given without ", absl::StrJoin(missing, ", "),
        ": mutual TLS needs all three (or none, for plaintext)"));
  }
  TlsConfig tls;
  absl::StatusOr<std::string> ca = ReadPublicFile("tls_ca", files.ca);
  if (!ca.ok()) return ca.status();
  if (CountCertificates(*ca) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--tls_ca: ", files.ca, " holds no PEM certificate"));
  }
  absl::StatusOr<std::string> cert = ReadPublicFile("tls_cert", files.cert);
  if (!cert.ok()) return cert.status();
  if (CountCertificates(*cert) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--tls_cert: ", files.cert, " holds no PEM certificate"));
  }
  absl::StatusOr<std::string> key = ReadSecretFile(files.key, /*min_bytes=*/1);
  if (!key.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--tls_key: ", key.status().message()));
  }
  if (!KeyMatchesCertificate(*cert, *key)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--tls_key: ", files.key, " is not a PEM private key of the certificate in ",
        files.cert));
  }
  tls.ca_pem = std::move(*ca);
  tls.cert_pem = std::move(*cert);
  tls.key_pem = std::move(*key);
  return tls;
}

std::shared_ptr<grpc::ServerCredentials> MtlsServerCredentials(
    const TlsConfig& tls, std::shared_ptr<grpc::AuthMetadataProcessor> processor) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.ca_pem;
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::SslServerCredentials(options);
  if (processor != nullptr) credentials->SetAuthMetadataProcessor(std::move(processor));
  return credentials;
}

std::shared_ptr<grpc::ChannelCredentials> MtlsChannelCredentials(
    const TlsConfig& tls) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca_pem;
  options.pem_private_key = tls.key_pem;
  options.pem_cert_chain = tls.cert_pem;
  return grpc::SslCredentials(options);
}

std::vector<std::string> CallerIdentities(const grpc::AuthContext& context) {
  std::vector<std::string> out;
  // No verified peer certificate, no identity.
  if (!context.IsPeerAuthenticated()) return out;
  for (const grpc::string_ref& san :
       context.FindPropertyValues(GRPC_X509_SAN_PROPERTY_NAME)) {
    const absl::string_view value(san.data(), san.size());
    if (absl::StartsWith(value, kSpiffePrefix) && value.size() > kSpiffePrefix.size()) {
      std::string name(value.substr(kSpiffePrefix.size()));
      if (name.find('/') == std::string::npos) out.push_back(std::move(name));
    }
  }
  if (out.empty()) {
    for (const grpc::string_ref& cn :
         context.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME)) {
      if (cn.size() > 0) out.emplace_back(cn.data(), cn.size());
    }
  }
  return out;
}

}  // namespace eid
