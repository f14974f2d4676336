// QR symbols of tokens (libqrencode) and their pictures: PNG, SVG and
// terminal art.
//
// A token is encoded in alphanumeric mode at error-correction level M, in
// the smallest version that holds it; a maximal v1 token needs version 9
// (docs/qr-token.md). Pictures have a quiet zone of kQuietZoneModules light
// modules around the symbol, as the QR standard asks.
//
// Pure functions; thread-safe (libqrencode is built thread-safe in Debian).
#ifndef EID_SERVICES_QR_TOKEN_QR_RENDER_H_
#define EID_SERVICES_QR_TOKEN_QR_RENDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eid::qr {

inline constexpr int kQuietZoneModules = 4;
// Bounds of RenderPng's pixels per module (IssueQrRequest.scale).
inline constexpr int kMinPngScale = 1;
inline constexpr int kMaxPngScale = 32;

// The modules of one QR symbol.
struct QrSymbol {
  int version = 0;  // 1 to 40
  int width = 0;    // modules per side: 17 + 4 * version
  // width * width, row by row from the top; true = dark.
  std::vector<bool> dark;

  bool IsDark(int x, int y) const { return dark[y * width + x]; }
};

// `text` as a QR symbol in alphanumeric mode, level M, smallest version.
// INVALID_ARGUMENT if `text` is empty or holds a character outside QR's
// alphanumeric set (0-9 A-Z space $ % * + - . / :); OUT_OF_RANGE if it is
// too long for version 40; INTERNAL if libqrencode fails otherwise.
absl::StatusOr<QrSymbol> EncodeQrSymbol(absl::string_view text);

// A PNG (1-bit greyscale) of `symbol`, `scale` pixels per module.
// INVALID_ARGUMENT if `scale` is outside [kMinPngScale, kMaxPngScale];
// INTERNAL if zlib fails.
absl::StatusOr<std::string> RenderPng(const QrSymbol& symbol, int scale);

// An SVG document of `symbol`, one unit per module (scales to any size).
std::string RenderSvg(const QrSymbol& symbol);

// How terminal art maps modules to glyphs.
enum class TerminalColors {
  // Light text on a dark background (most terminals): light modules are
  // drawn, dark ones left blank.
  kLightOnDark,
  // Dark text on a light background: dark modules are drawn.
  kDarkOnLight,
};

// `symbol` as lines of UTF-8 half blocks (two module rows per line, one
// module per column), each line ending in '\n'.
std::string RenderTerminal(
    const QrSymbol& symbol,
    TerminalColors colors = TerminalColors::kLightOnDark);

}  // namespace eid::qr

#endif  // EID_SERVICES_QR_TOKEN_QR_RENDER_H_
