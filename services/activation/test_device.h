// TestDevice: a phone's side of device signatures, for tests and benchmarks:
// a fresh P-256 key that signs the way common.proto DeviceSignature says.
#ifndef EID_SERVICES_ACTIVATION_TEST_DEVICE_H_
#define EID_SERVICES_ACTIVATION_TEST_DEVICE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "eid/v1/common.pb.h"
#include "google/protobuf/message.h"

namespace eid::activation {

class TestDevice {
 public:
  explicit TestDevice(std::string device_id);
  ~TestDevice();
  TestDevice(const TestDevice&) = delete;
  TestDevice& operator=(const TestDevice&) = delete;

  const std::string& device_id() const { return device_id_; }
  // DER SubjectPublicKeyInfo.
  const std::string& public_der() const { return public_der_; }

  // A signature over DeviceSigningInput(method, payload).
  v1::DeviceSignature Sign(absl::string_view method,
                           absl::string_view payload) const;
  // A signature over `request` (its RequestDigest).
  v1::DeviceSignature SignRequest(absl::string_view method,
                                  const google::protobuf::Message& request) const;

 private:
  std::string device_id_;
  std::string public_der_;
  void* key_;  // EVP_PKEY*
};

}  // namespace eid::activation

#endif  // EID_SERVICES_ACTIVATION_TEST_DEVICE_H_
