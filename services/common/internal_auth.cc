#include "services/common/internal_auth.h"

#include "absl/strings/escaping.h"
#include "services/common/keyed_hash.h"

namespace eid {

bool InternalAuth::IsInternal(const grpc::ServerContext& context) const {
  if (token_.empty()) return false;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kInternalTokenMetadata);
  if (it == metadata.end()) return false;
  std::string sent;
  if (!absl::WebSafeBase64Unescape(absl::string_view(it->second.data(), it->second.size()),
                                   &sent)) {
    return false;
  }
  // Both compared every time: how long it takes says nothing of which.
  const bool current = ConstantTimeEquals(sent, token_);
  const bool also = !also_accepted_.empty() && ConstantTimeEquals(sent, also_accepted_);
  return current | also;
}

void InternalAuth::Attach(grpc::ClientContext& context) const {
  if (!token_.empty()) {
    context.AddMetadata(kInternalTokenMetadata, absl::WebSafeBase64Escape(token_));
  }
}

}  // namespace eid
