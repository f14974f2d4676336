#include "services/activation/device_signature.h"

#include "eid/v1/activation.pb.h"
#include "gtest/gtest.h"
#include "services/activation/test_device.h"

namespace eid::activation {
namespace {

constexpr char kMethod[] = "/eid.v1.ActivationService/Login";

TEST(DeviceSignatureTest, AcceptsTheDevicesSignatureOverTheSameBytesOnly) {
  TestDevice device("phone-1");
  const v1::DeviceSignature sig = device.Sign(kMethod, "challenge");
  EXPECT_TRUE(VerifyDeviceSignature(device.public_der(), kMethod, "challenge",
                                    sig.signature()));
  EXPECT_FALSE(VerifyDeviceSignature(device.public_der(), kMethod, "challengf",
                                     sig.signature()));
  EXPECT_FALSE(VerifyDeviceSignature(device.public_der(),
                                     "/eid.v1.ActivationService/Other", "challenge",
                                     sig.signature()));
  TestDevice other("phone-2");
  EXPECT_FALSE(VerifyDeviceSignature(other.public_der(), kMethod, "challenge",
                                     sig.signature()));
}

TEST(DeviceSignatureTest, RepeatedChecksWithACachedKeyGiveTheSameAnswers) {
  TestDevice device("phone-1");
  TestDevice other("phone-2");
  const v1::DeviceSignature sig = device.Sign(kMethod, "challenge");
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(VerifyDeviceSignature(device.public_der(), kMethod, "challenge",
                                      sig.signature()));
    EXPECT_FALSE(VerifyDeviceSignature(other.public_der(), kMethod, "challenge",
                                       sig.signature()));
    // A key that once decoded stays valid; a bad one is never cached.
    EXPECT_TRUE(ValidateDevicePublicKey(device.public_der()).ok());
    EXPECT_FALSE(ValidateDevicePublicKey(device.public_der() + "x").ok());
  }
}

TEST(DeviceSignatureTest, RejectsKeysThatAreNotP256) {
  TestDevice device("phone-1");
  EXPECT_TRUE(ValidateDevicePublicKey(device.public_der()).ok());
  EXPECT_FALSE(ValidateDevicePublicKey("").ok());
  EXPECT_FALSE(ValidateDevicePublicKey("not a key").ok());
  std::string trailing = device.public_der() + "x";
  EXPECT_FALSE(ValidateDevicePublicKey(trailing).ok());
}

// The usual form (an uncompressed point) is decoded without OpenSSL's DER
// decoders; it must refuse what they refuse.
TEST(DeviceSignatureTest, AnUncompressedPointOffTheCurveIsRefused) {
  TestDevice device("phone-1");
  const std::string der = device.public_der();
  ASSERT_EQ(der.size(), 91u);
  ASSERT_EQ(der[26], '\x04');  // Uncompressed.
  std::string off_curve = der;
  off_curve[60] ^= 1;  // A bit of Y.
  EXPECT_FALSE(ValidateDevicePublicKey(off_curve).ok());
  std::string not_a_point = der;
  not_a_point[26] = '\x05';  // No such point format.
  EXPECT_FALSE(ValidateDevicePublicKey(not_a_point).ok());
  std::string other_curve = der;
  other_curve[25 - 2] ^= 1;  // The curve's OID, last byte.
  EXPECT_FALSE(ValidateDevicePublicKey(other_curve).ok());
  EXPECT_TRUE(ValidateDevicePublicKey(der).ok());
}

TEST(DeviceSignatureTest, RequestDigestIgnoresTheSignatureItself) {
  v1::ActivateDeviceRequest r;
  r.set_device_id("phone-1");
  r.set_public_key("key");
  const std::string before = RequestDigest(r);
  r.mutable_proof()->set_signature("anything");
  EXPECT_EQ(RequestDigest(r), before);
  r.set_device_name("Samsung");
  EXPECT_NE(RequestDigest(r), before);
}

TEST(DeviceSignatureTest, SignedRequestVerifiesAndAnEditedOneDoesNot) {
  TestDevice device("phone-1");
  v1::ActivateDeviceRequest r;
  r.set_device_id("phone-1");
  r.set_public_key(device.public_der());
  const char* method = "/eid.v1.ActivationService/ActivateDevice";
  *r.mutable_proof() = device.SignRequest(method, r);
  EXPECT_TRUE(VerifyDeviceSignature(device.public_der(), method, RequestDigest(r),
                                    r.proof().signature()));
  r.set_device_name("edited");
  EXPECT_FALSE(VerifyDeviceSignature(device.public_der(), method, RequestDigest(r),
                                     r.proof().signature()));
}

}  // namespace
}  // namespace eid::activation
