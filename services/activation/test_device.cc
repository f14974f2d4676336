#include "services/activation/test_device.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "services/activation/device_signature.h"

namespace eid::activation {

TestDevice::TestDevice(std::string device_id)
    : device_id_(std::move(device_id)) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  key_ = key;
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  public_der_.assign(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
}

TestDevice::~TestDevice() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

v1::DeviceSignature TestDevice::Sign(absl::string_view method,
                                     absl::string_view payload) const {
  const std::string input = DeviceSigningInput(method, payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr,
                     static_cast<EVP_PKEY*>(key_));
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len,
                 reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  v1::DeviceSignature out;
  out.set_device_id(device_id_);
  out.set_signature(sig);
  return out;
}

v1::DeviceSignature TestDevice::SignRequest(
    absl::string_view method, const google::protobuf::Message& request) const {
  return Sign(method, RequestDigest(request));
}

}  // namespace eid::activation
