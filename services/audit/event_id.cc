#include "services/audit/event_id.h"

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "services/audit/audit_keys.h"

namespace eid::audit {

std::string EventIdAt(absl::Time now, uint64_t random_bits) {
  std::string bytes;
  PutBigEndian64(static_cast<uint64_t>(absl::ToUnixMicros(now)), &bytes);
  PutBigEndian64(random_bits, &bytes);
  return absl::BytesToHexString(bytes);
}

std::string NewEventId(RandomSource& random) {
  uint64_t bits;
  random.Fill(reinterpret_cast<uint8_t*>(&bits), sizeof(bits));
  return EventIdAt(absl::Now(), bits);
}

}  // namespace eid::audit
