#include "services/common/sodium.h"

#include <sodium.h>

namespace eid {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;  // Once; C++11 statics are thread-safe.
  return ready;
}

}  // namespace eid
