#include "services/qr/token/qr_render.h"

#include <qrencode.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "services/qr/token/qr_token.h"
#include "tests/util/subprocess.h"

namespace eid::qr {
namespace {

// The longest token v1 allows: both variable fields at their bounds.
std::string MaximalToken() {
  std::unique_ptr<QrSigningKey> key =
      *QrSigningKey::FromSeed(0xffffffff, std::string(kSeedBytes, 'k'));
  QrTokenClaims c;
  c.account_handle.assign(kMaxAccountHandleBytes, '\xff');
  c.device_id.assign(kMaxDeviceIdBytes, '\xff');
  c.nonce.assign(kNonceBytes, '\xff');
  c.issued_at = absl::FromUnixSeconds(4000000000);
  c.expires_at = c.issued_at + kTokenLifetime;
  return *Encode(c, *key);
}

uint32_t BigEndian32(absl::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(s[at + i]);
  return v;
}

// The UTF-8 glyphs of line `n` of terminal art.
std::vector<std::string> Glyphs(const std::string& art, size_t n) {
  const std::vector<std::string> lines = absl::StrSplit(art, '\n');
  std::vector<std::string> glyphs;
  for (char c : lines.at(n)) {
    if ((static_cast<uint8_t>(c) & 0xc0) == 0x80) {
      glyphs.back().push_back(c);
    } else {
      glyphs.emplace_back(1, c);
    }
  }
  return glyphs;
}

TEST(QrRenderTest, MaximalTokenFitsVersion10AtLevelMInAlphanumericMode) {
  const std::string token = MaximalToken();
  ASSERT_EQ(token.size(), MaxTokenChars());
  absl::StatusOr<QrSymbol> symbol = EncodeQrSymbol(token);
  ASSERT_TRUE(symbol.ok()) << symbol.status();
  EXPECT_LE(symbol->version, 10);
  EXPECT_EQ(symbol->version, 9);  // docs/qr-token.md states it
  EXPECT_EQ(symbol->width, 17 + 4 * symbol->version);

  // libqrencode's own mode choice agrees (QRcode_encodeString accepts only
  // the 8-bit or Kanji hints; it picks alphanumeric mode for this text).
  QRcode* code = QRcode_encodeString(token.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8,
                                     /*casesensitive=*/1);
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->version, symbol->version);
  QRcode_free(code);
}

TEST(QrRenderTest, Version10AtLevelMHolds311AlphanumericCharacters) {
  // The headroom above a maximal token (244 characters).
  EXPECT_EQ(EncodeQrSymbol(std::string(311, 'A'))->version, 10);
  EXPECT_EQ(EncodeQrSymbol(std::string(312, 'A'))->version, 11);
}

TEST(QrRenderTest, RejectsTextOutsideTheAlphanumericSet) {
  EXPECT_EQ(EncodeQrSymbol("EID1:abc").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeQrSymbol("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeQrSymbol(std::string(5000, 'A')).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(QrRenderTest, PngHasTheSymbolsSizeAndPixels) {
  const QrSymbol symbol = *EncodeQrSymbol(MaximalToken());
  const int scale = 3;
  absl::StatusOr<std::string> png = RenderPng(symbol, scale);
  ASSERT_TRUE(png.ok()) << png.status();
  ASSERT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  ASSERT_EQ(png->substr(12, 4), "IHDR");
  const uint32_t pixels = (symbol.width + 2 * kQuietZoneModules) * scale;
  EXPECT_EQ(BigEndian32(*png, 16), pixels);
  EXPECT_EQ(BigEndian32(*png, 20), pixels);
  EXPECT_EQ((*png)[24], 1);  // bit depth
  EXPECT_EQ((*png)[25], 0);  // greyscale
  EXPECT_TRUE(absl::EndsWith(*png, std::string("IEND\xae\x42\x60\x82", 8)));

  // Inflate IDAT and compare every pixel with the symbol.
  const size_t idat = 8 + 12 + 13;
  ASSERT_EQ(png->substr(idat + 4, 4), "IDAT");
  const uint32_t idat_size = BigEndian32(*png, idat);
  const size_t row_bytes = (pixels + 7) / 8 + 1;
  std::string raw(row_bytes * pixels, '\0');
  uLongf raw_size = raw.size();
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(&raw[0]), &raw_size,
                       reinterpret_cast<const Bytef*>(png->data() + idat + 8),
                       idat_size),
            Z_OK);
  ASSERT_EQ(raw_size, raw.size());
  int mismatches = 0;
  for (uint32_t y = 0; y < pixels; ++y) {
    ASSERT_EQ(raw[y * row_bytes], 0) << "filter of row " << y;
    for (uint32_t x = 0; x < pixels; ++x) {
      const bool white =
          (static_cast<uint8_t>(raw[y * row_bytes + 1 + x / 8]) >>
           (7 - x % 8)) &
          1;
      const int mx = static_cast<int>(x / scale) - kQuietZoneModules;
      const int my = static_cast<int>(y / scale) - kQuietZoneModules;
      const bool dark = mx >= 0 && my >= 0 && mx < symbol.width &&
                        my < symbol.width && symbol.IsDark(mx, my);
      if (white == dark) ++mismatches;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(QrRenderTest, PngScaleIsBounded) {
  const QrSymbol symbol = *EncodeQrSymbol("EID1:ABC");
  EXPECT_EQ(RenderPng(symbol, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RenderPng(symbol, 33).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(RenderPng(symbol, 1).ok());
  EXPECT_TRUE(RenderPng(symbol, 32).ok());
}

TEST(QrRenderTest, SvgDrawsEveryDarkModuleOnce) {
  const QrSymbol symbol = *EncodeQrSymbol(MaximalToken());
  const std::string svg = RenderSvg(symbol);
  const int modules = symbol.width + 2 * kQuietZoneModules;
  EXPECT_TRUE(
      absl::StartsWith(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_TRUE(absl::StrContains(
      svg, absl::StrCat("viewBox=\"0 0 ", modules, " ", modules, "\"")));
  EXPECT_TRUE(absl::EndsWith(svg, "</svg>\n"));
  // Each run is "M<x> <y>h<len>v1h-<len>z"; the lengths add up to the
  // number of dark modules.
  int drawn = 0;
  for (absl::string_view part : absl::StrSplit(svg, 'h')) {
    if (part.empty() || part[0] < '1' || part[0] > '9') continue;
    if (!absl::EndsWith(part, "v1")) continue;
    drawn += std::atoi(std::string(part).c_str());
  }
  int dark = 0;
  for (bool d : symbol.dark) dark += d;
  EXPECT_EQ(drawn, dark);
}

TEST(QrRenderTest, TerminalArtHasTwoModuleRowsPerLine) {
  const QrSymbol symbol = *EncodeQrSymbol(MaximalToken());
  const int modules = symbol.width + 2 * kQuietZoneModules;
  for (TerminalColors colors :
       {TerminalColors::kLightOnDark, TerminalColors::kDarkOnLight}) {
    const std::string art = RenderTerminal(symbol, colors);
    std::vector<std::string> lines = absl::StrSplit(art, '\n');
    ASSERT_EQ(lines.back(), "");
    lines.pop_back();
    ASSERT_EQ(lines.size(), static_cast<size_t>((modules + 1) / 2));
    for (const std::string& line : lines) {
      int glyphs = 0;
      for (char c : line) glyphs += (static_cast<uint8_t>(c) & 0xc0) != 0x80;
      EXPECT_EQ(glyphs, modules);
    }
  }
  // Line 2 covers picture rows 4 and 5, the finder pattern's first two rows,
  // dark at column 4: a full block when dark is drawn, blank when light is.
  EXPECT_EQ(Glyphs(RenderTerminal(symbol, TerminalColors::kDarkOnLight), 2)[4],
            "\u2588");
  EXPECT_EQ(Glyphs(RenderTerminal(symbol, TerminalColors::kLightOnDark), 2)[4],
            " ");
  // Line 0 is all quiet zone: blank when dark is drawn.
  EXPECT_EQ(Glyphs(RenderTerminal(symbol, TerminalColors::kDarkOnLight), 0),
            std::vector<std::string>(modules, " "));
  EXPECT_EQ(Glyphs(RenderTerminal(symbol, TerminalColors::kLightOnDark), 0),
            std::vector<std::string>(modules, "\u2588"));
}

TEST(QrRenderTest, ZbarimgReadsThePngBackAsTheToken) {
  const char* zbarimg = "/usr/bin/zbarimg";
  ASSERT_EQ(access(zbarimg, X_OK), 0)
      << "zbarimg is missing: install zbar-tools (tools/bootstrap)";
  const std::string token = MaximalToken();
  const std::string png = *RenderPng(*EncodeQrSymbol(token), 4);
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(tmpdir != nullptr ? tmpdir : "/tmp", "/qr_token.png");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(png.data(), png.size());
    ASSERT_TRUE(out.good());
  }
  std::string output;
  absl::StatusOr<int> code =
      eid::testing::Run({zbarimg, "--raw", "-q", "--nodbus", "-Sdisable",
                         "-Sqrcode.enable", path},
                        &output, absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << output;
  EXPECT_EQ(output, token + "\n");
  EXPECT_TRUE(Parse(absl::StripSuffix(output, "\n")).ok());
}

}  // namespace
}  // namespace eid::qr
