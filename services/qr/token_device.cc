#include "services/qr/token_device.h"

#include "services/common/keyed_hash.h"

namespace eid::qr {

std::string TokenDeviceOf(absl::string_view device_id) {
  return Sha256(device_id).substr(0, kTokenDeviceBytes);
}

}  // namespace eid::qr
