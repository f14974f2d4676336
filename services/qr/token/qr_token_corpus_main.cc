// Writes the fuzzer's seed corpus (testdata/qr_token_corpus) into the
// directory given as the only argument:
//   bazel run //services/qr/token:qr_token_corpus --
//     "$PWD/services/qr/token/testdata/qr_token_corpus"
// Valid tokens (smallest, typical, largest) signed by the fuzzer's seed key
// (32 'k' bytes, key id 1), their truncations at a few lengths, and a few
// kinds of rejects (bad prefix, bad Base45, other version, trailing bytes).
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/qr/token/base45.h"
#include "services/qr/token/qr_token.h"

namespace {

using namespace eid::qr;

std::string Token(const QrSigningKey& key, size_t handle, size_t device,
                  int64_t issued) {
  QrTokenClaims c;
  c.account_handle.assign(handle, 'A');
  c.device_id.assign(device, 'D');
  c.nonce.assign(kNonceBytes, 'n');
  c.issued_at = absl::FromUnixSeconds(issued);
  c.expires_at = c.issued_at + kTokenLifetime;
  return *Encode(c, key);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::unique_ptr<QrSigningKey> key =
      *QrSigningKey::FromSeed(1, std::string(kSeedBytes, 'k'));
  std::vector<std::pair<std::string, std::string>> seeds;
  const std::string small = Token(*key, 1, 1, 1767225600);
  const std::string typical = Token(*key, 22, 16, 1767225600);
  const std::string large = Token(*key, 32, 32, 1767225630);
  seeds.push_back({"valid_smallest", small});
  seeds.push_back({"valid_typical", typical});
  seeds.push_back({"valid_largest", large});
  for (size_t n : {0, 3, 5, 6, 7, 12, 50, 100, 150, 200, 243}) {
    seeds.push_back({absl::StrCat("truncated_", n), large.substr(0, n)});
  }
  seeds.push_back({"bad_prefix_lower", "eid1:" + typical.substr(5)});
  seeds.push_back({"bad_prefix_version", "EID2:" + typical.substr(5)});
  seeds.push_back(
      {"bad_base45_char", typical.substr(0, 40) + "a" + typical.substr(41)});
  seeds.push_back({"bad_base45_group", "EID1:GGW" + typical.substr(8)});
  std::string bytes = *Base45Decode(absl::string_view(typical).substr(5));
  seeds.push_back(
      {"trailing_byte", absl::StrCat(kTokenPrefix, Base45Encode(bytes + "x"))});
  std::string other_version = bytes;
  other_version[0] = 2;
  seeds.push_back({"other_version",
                   absl::StrCat(kTokenPrefix, Base45Encode(other_version))});
  std::string long_handle = bytes;
  long_handle[5] = 33;
  seeds.push_back({"handle_too_long",
                   absl::StrCat(kTokenPrefix, Base45Encode(long_handle))});
  for (const auto& [name, content] : seeds) {
    const std::string path = absl::StrCat(argv[1], "/", name);
    std::ofstream out(path, std::ios::binary);
    out.write(content.data(), content.size());
    if (!out.good()) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), argv[1]);
  return 0;
}
