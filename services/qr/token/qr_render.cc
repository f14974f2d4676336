#include "services/qr/token/qr_render.h"

#include <qrencode.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace eid::qr {
namespace {

struct QRinputDeleter {
  void operator()(QRinput* p) const { QRinput_free(p); }
};
struct QRcodeDeleter {
  void operator()(QRcode* p) const { QRcode_free(p); }
};

void PutUint32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

// Appends a PNG chunk: length, type, data, CRC-32 of type and data.
void PutChunk(absl::string_view type, absl::string_view data,
              std::string* out) {
  PutUint32(static_cast<uint32_t>(data.size()), out);
  const size_t type_at = out->size();
  out->append(type.data(), type.size());
  out->append(data.data(), data.size());
  const uLong crc =
      crc32(0, reinterpret_cast<const Bytef*>(out->data() + type_at),
            static_cast<uInt>(type.size() + data.size()));
  PutUint32(static_cast<uint32_t>(crc), out);
}

// Whether module (x, y) of the picture (quiet zone included) is dark.
bool DarkWithMargin(const QrSymbol& symbol, int x, int y) {
  x -= kQuietZoneModules;
  y -= kQuietZoneModules;
  return x >= 0 && y >= 0 && x < symbol.width && y < symbol.width &&
         symbol.IsDark(x, y);
}

}  // namespace

absl::StatusOr<QrSymbol> EncodeQrSymbol(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("nothing to encode");
  std::unique_ptr<QRinput, QRinputDeleter> input(
      QRinput_new2(/*version=*/0, QR_ECLEVEL_M));
  if (input == nullptr) return absl::InternalError("QRinput_new2 failed");
  if (QRinput_append(input.get(), QR_MODE_AN, static_cast<int>(text.size()),
                     reinterpret_cast<const unsigned char*>(text.data())) !=
      0) {
    if (errno == EINVAL) {
      return absl::InvalidArgumentError(
          "not QR alphanumeric text (0-9 A-Z space $ % * + - . / :)");
    }
    return absl::InternalError("QRinput_append failed");
  }
  errno = 0;
  std::unique_ptr<QRcode, QRcodeDeleter> code(QRcode_encodeInput(input.get()));
  if (code == nullptr) {
    if (errno == ERANGE) {
      return absl::OutOfRangeError(
          absl::StrCat(text.size(), " characters do not fit a QR code"));
    }
    return absl::InternalError("QRcode_encodeInput failed");
  }
  QrSymbol symbol;
  symbol.version = code->version;
  symbol.width = code->width;
  symbol.dark.resize(static_cast<size_t>(code->width) * code->width);
  for (size_t i = 0; i < symbol.dark.size(); ++i) {
    symbol.dark[i] = (code->data[i] & 1) != 0;  // Bit 0: dark module.
  }
  return symbol;
}

absl::StatusOr<std::string> RenderPng(const QrSymbol& symbol, int scale) {
  if (scale < kMinPngScale || scale > kMaxPngScale) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scale must be ", kMinPngScale, " to ", kMaxPngScale, " pixels"));
  }
  const int modules = symbol.width + 2 * kQuietZoneModules;
  const uint32_t pixels = static_cast<uint32_t>(modules) * scale;
  const size_t row_bytes = (pixels + 7) / 8;

  // Raw image: per row, filter type 0 then 1-bit pixels (1 = white),
  // most significant bit first.
  std::string raw;
  raw.reserve((row_bytes + 1) * pixels);
  std::string row(row_bytes + 1, '\0');
  for (int my = 0; my < modules; ++my) {
    std::fill(row.begin(), row.end(), '\0');
    for (uint32_t px = 0; px < pixels; ++px) {
      if (!DarkWithMargin(symbol, static_cast<int>(px / scale), my)) {
        row[1 + px / 8] |= static_cast<char>(0x80 >> (px % 8));
      }
    }
    for (int i = 0; i < scale; ++i) raw.append(row);
  }

  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string compressed(compressed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(&compressed[0]), &compressed_size,
                reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), Z_BEST_COMPRESSION) != Z_OK) {
    return absl::InternalError("zlib compress2 failed");
  }
  compressed.resize(compressed_size);

  std::string ihdr;
  PutUint32(pixels, &ihdr);  // width
  PutUint32(pixels, &ihdr);  // height
  ihdr.push_back(1);         // bit depth
  ihdr.push_back(0);         // colour type: greyscale
  ihdr.push_back(0);         // compression: deflate
  ihdr.push_back(0);         // filter method 0
  ihdr.push_back(0);         // no interlace

  std::string png("\x89PNG\r\n\x1a\n", 8);
  PutChunk("IHDR", ihdr, &png);
  PutChunk("IDAT", compressed, &png);
  PutChunk("IEND", "", &png);
  return png;
}

std::string RenderSvg(const QrSymbol& symbol) {
  const int modules = symbol.width + 2 * kQuietZoneModules;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
      "shape-rendering=\"crispEdges\">"
      "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path d=\"",
      modules, modules, modules, modules);
  // One rectangle per horizontal run of dark modules.
  for (int y = 0; y < symbol.width; ++y) {
    int x = 0;
    while (x < symbol.width) {
      if (!symbol.IsDark(x, y)) {
        ++x;
        continue;
      }
      const int start = x;
      while (x < symbol.width && symbol.IsDark(x, y)) ++x;
      absl::StrAppendFormat(&svg, "M%d %dh%dv1h-%dz", start + kQuietZoneModules,
                            y + kQuietZoneModules, x - start, x - start);
    }
  }
  svg.append("\" fill=\"#000\"/></svg>\n");
  return svg;
}

std::string RenderTerminal(const QrSymbol& symbol, TerminalColors colors) {
  // Glyphs by (top drawn, bottom drawn).
  static constexpr const char* kGlyph[2][2] = {
      {" ", "\u2584"},        // lower half block
      {"\u2580", "\u2588"}};  // upper half block, full block
  const bool draw_dark = colors == TerminalColors::kDarkOnLight;
  const int modules = symbol.width + 2 * kQuietZoneModules;
  std::string out;
  for (int y = 0; y < modules; y += 2) {
    for (int x = 0; x < modules; ++x) {
      const bool top = DarkWithMargin(symbol, x, y) == draw_dark;
      // Below the last row (odd count) is more quiet zone: light.
      const bool bottom = (y + 1 < modules ? DarkWithMargin(symbol, x, y + 1)
                                           : false) == draw_dark;
      out.append(kGlyph[top][bottom]);
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace eid::qr
