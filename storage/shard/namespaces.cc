#include "storage/shard/namespaces.h"

namespace eid::storage {

const std::vector<NamespaceSpec>& Namespaces() {
  static const auto* const namespaces = new std::vector<NamespaceSpec>{
      {"accounts", true, "registrations and account state"},
      {"devices", true, "bound devices and their public keys"},
      {"documents", true, "wallet documents"},
      {"indexes", true, "secondary indexes: ID hash, phone, report counters"},
      {"audit_spool", true, "audit events not yet acknowledged by audit"},
      // OTP records hold consumed flags and wrong-attempt counters: losing
      // one could let a code be used twice or give a guesser more tries.
      {"otp", true, "OTP codes (as HMAC), attempts, delivery queue"},
      {"flows", true, "activation and recovery flows in progress"},
      // A lost session means logging in again.
      {"sessions", false, "login sessions and challenges"},
      {"cache", false, "derived data that can be rebuilt"},
  };
  return *namespaces;
}

const NamespaceSpec* FindNamespace(absl::string_view name) {
  for (const NamespaceSpec& spec : Namespaces()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace eid::storage
