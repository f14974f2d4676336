#include "services/qr/token/base45.h"

#include <cstdint>

namespace eid::qr {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
static_assert(sizeof(kAlphabet) == 45 + 1, "Base45 has 45 characters");

// The value of Base45 character `c`, or -1.
int ValueOf(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  switch (c) {
    case ' ':
      return 36;
    case '$':
      return 37;
    case '%':
      return 38;
    case '*':
      return 39;
    case '+':
      return 40;
    case '-':
      return 41;
    case '.':
      return 42;
    case '/':
      return 43;
    case ':':
      return 44;
    default:
      return -1;
  }
}

}  // namespace

std::string Base45Encode(absl::string_view bytes) {
  std::string out;
  out.reserve(Base45EncodedSize(bytes.size()));
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    uint32_t n = uint32_t{static_cast<uint8_t>(bytes[i])} << 8 |
                 static_cast<uint8_t>(bytes[i + 1]);
    out.push_back(kAlphabet[n % 45]);
    n /= 45;
    out.push_back(kAlphabet[n % 45]);
    out.push_back(kAlphabet[n / 45]);
  }
  if (i < bytes.size()) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]);
    out.push_back(kAlphabet[n % 45]);
    out.push_back(kAlphabet[n / 45]);
  }
  return out;
}

std::optional<std::string> Base45Decode(absl::string_view text) {
  if (text.size() % 3 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 3 * 2 + 1);
  size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const int c = ValueOf(text[i]);
    const int d = ValueOf(text[i + 1]);
    const int e = ValueOf(text[i + 2]);
    if (c < 0 || d < 0 || e < 0) return std::nullopt;
    const uint32_t n = c + d * 45 + e * 45 * 45;
    if (n > 0xffff) return std::nullopt;
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  }
  if (i < text.size()) {  // Exactly two characters remain.
    const int c = ValueOf(text[i]);
    const int d = ValueOf(text[i + 1]);
    if (c < 0 || d < 0) return std::nullopt;
    const uint32_t n = c + d * 45;
    if (n > 0xff) return std::nullopt;
    out.push_back(static_cast<char>(n));
  }
  return out;
}

}  // namespace eid::qr
