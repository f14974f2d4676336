#include "services/activation/device_signature.h"

#include <openssl/core_names.h>
#include <openssl/core.h>
#include <openssl/params.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "eid/v1/common.pb.h"
#include "eid/v1/error.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/common/keyed_hash.h"
#include "services/common/status.h"

namespace eid::activation {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A P-256 SubjectPublicKeyInfo with an uncompressed point, as phones make
// them, is exactly these 26 bytes, then the 65-byte point (04 || X || Y).
constexpr char kP256SpkiPrefix[] =
    "\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce"
    "\x3d\x03\x01\x07\x03\x42\x00";
constexpr size_t kP256SpkiPrefixSize = sizeof(kP256SpkiPrefix) - 1;
constexpr size_t kP256PointSize = 65;

// The P-256 key whose public point is `point`, or null if it is not one on
// the curve. A sixth of the CPU of OpenSSL 3's DER decoders, which try
// every provider's decoder in turn.
Pkey FromP256Point(absl::string_view point) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                       const_cast<char*>("prime256v1"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<char*>(point.data()), point.size()),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return nullptr;
  }
  return Pkey(key);
}

// The P-256 key in `der`, or null.
Pkey DecodeP256(absl::string_view der) {
  if (der.empty() || der.size() > 512) return nullptr;
  if (der.size() == kP256SpkiPrefixSize + kP256PointSize &&
      der.substr(0, kP256SpkiPrefixSize) ==
          absl::string_view(kP256SpkiPrefix, kP256SpkiPrefixSize)) {
    return FromP256Point(der.substr(kP256SpkiPrefixSize));
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (key == nullptr) return nullptr;
  // Trailing bytes after the key are not a well-formed key either.
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return nullptr;
  }
  if (!EVP_PKEY_is_a(key.get(), "EC")) return nullptr;
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                     group, sizeof(group), &len) != 1) {
    return nullptr;
  }
  if (absl::string_view(group, len) != "prime256v1") return nullptr;
  return key;
}

// Decoded device keys by their DER. Building a key costs OpenSSL 3 18 µs
// (the usual form) to 110 µs (its DER decoders), and the same key is
// checked at every login (and twice in ActivateDevice).
// Only valid P-256 keys are kept; emptied when full (a bound, not an LRU).
class KeyCache {
 public:
  static KeyCache& Get() {
    static KeyCache* cache = new KeyCache();
    return *cache;
  }
  // A new reference to the key, or null if not cached.
  Pkey Find(absl::string_view der) {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(der);
    if (it == keys_.end()) return nullptr;
    EVP_PKEY_up_ref(it->second.get());
    return Pkey(it->second.get());
  }
  void Add(absl::string_view der, EVP_PKEY* key) {
    absl::MutexLock lock(&mu_);
    if (keys_.size() >= kMaxKeys) keys_.clear();
    EVP_PKEY_up_ref(key);
    keys_.try_emplace(std::string(der), Pkey(key));
  }

 private:
  static constexpr size_t kMaxKeys = 10000;  // ~ a few MiB.
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Pkey> keys_ ABSL_GUARDED_BY(mu_);
};

// The P-256 key in `der` (decoded once, then from the cache), or null.
Pkey ParseP256(absl::string_view der) {
  if (der.empty() || der.size() > 512) return nullptr;
  if (Pkey cached = KeyCache::Get().Find(der)) return cached;
  Pkey key = DecodeP256(der);
  if (key != nullptr) KeyCache::Get().Add(der, key.get());
  return key;
}

void ClearDeviceSignatures(Message& message) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->message_type()->full_name() ==
        v1::DeviceSignature::descriptor()->full_name()) {
      reflection->ClearField(&message, field);
    } else if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        ClearDeviceSignatures(*reflection->MutableRepeatedMessage(&message, field, i));
      }
    } else {
      ClearDeviceSignatures(*reflection->MutableMessage(&message, field));
    }
  }
}

}  // namespace

absl::Status ValidateDevicePublicKey(absl::string_view der) {
  if (ParseP256(der) == nullptr) {
    return InvalidArgument(v1::DEVICE_PUBLIC_KEY_INVALID,
                           "public_key is not a DER P-256 SubjectPublicKeyInfo");
  }
  return absl::OkStatus();
}

std::string DeviceSigningInput(absl::string_view method,
                               absl::string_view payload) {
  return absl::StrCat("eid.v1-device-signature\n", method, "\n", payload);
}

std::string RequestDigest(const Message& request) {
  std::unique_ptr<Message> copy(request.New());
  copy->CopyFrom(request);
  ClearDeviceSignatures(*copy);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  return Sha256(bytes);
}

bool VerifyDeviceSignature(absl::string_view public_der,
                           absl::string_view method, absl::string_view payload,
                           absl::string_view signature) {
  if (signature.empty() || signature.size() > 72) return false;
  Pkey key = ParseP256(public_der);
  if (key == nullptr) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                           key.get()) != 1) {
    return false;
  }
  const std::string input = DeviceSigningInput(method, payload);
  return EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(input.data()),
             input.size()) == 1;
}

}  // namespace eid::activation
