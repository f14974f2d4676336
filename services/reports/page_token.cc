#include "services/reports/page_token.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/common/status.h"
#include "storage/router/shard_hash.h"

namespace eid::reports {

uint64_t Fingerprint(const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&out);
  }
  return storage::StableHash64(bytes);
}

std::string EncodePageToken(absl::string_view rpc, uint64_t fingerprint,
                            absl::string_view cursor) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(rpc, ":", absl::StrFormat("%016x", fingerprint), ":", cursor));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view rpc,
                                            uint64_t fingerprint) {
  std::string text;
  if (token.size() > 1024 || !absl::WebSafeBase64Unescape(token, &text)) {
    return InvalidArgument(v1::PAGE_TOKEN_INVALID, "page.page_token is not a token");
  }
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(':', 2));
  if (parts.size() != 3 || parts[0] != rpc ||
      parts[1] != absl::StrFormat("%016x", fingerprint)) {
    return InvalidArgument(v1::PAGE_TOKEN_INVALID,
                           "page.page_token belongs to another request");
  }
  return parts[2];
}

}  // namespace eid::reports
