#!/usr/bin/env bash
# Fuzzes the QR token parser with libFuzzer (Debian's clang), starting from
# the seed corpus services/qr/token/testdata/qr_token_corpus.
#   tools/fuzz/qr_token_fuzz.sh [SECONDS]    (default 20)
# Builds with clang++ directly (Bazel's toolchain here is gcc), with
# AddressSanitizer and UBSan. New inputs go to a scratch corpus under
# ${EID_FUZZ_DIR:-/tmp/eid-fuzz}, never into the repository; a crash leaves
# its input there (crash-*) and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-20}
out=${EID_FUZZ_DIR:-/tmp/eid-fuzz}/qr_token
seeds=services/qr/token/testdata/qr_token_corpus
mkdir -p "$out/corpus"

cxx=${CXX_FUZZ:-clang++}
if ! command -v "$cxx" >/dev/null; then
  echo "qr_token_fuzz: $cxx not found (Debian package clang)" >&2
  exit 1
fi

absl_modules="absl_status absl_statusor absl_strings absl_time absl_cord"
# shellcheck disable=SC2046,SC2086  # pkg-config prints several flags
"$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. \
  services/common/sodium.cc \
  services/qr/token/base45.cc \
  services/qr/token/qr_token.cc \
  services/qr/token/qr_token_fuzzer.cc \
  $(pkg-config --cflags --libs $absl_modules libsodium) \
  -o "$out/qr_token_fuzzer"

# The first directory receives new inputs; the seeds are only read.
cd "$out"
./qr_token_fuzzer -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -max_len=512 -print_final_stats=1 corpus "$OLDPWD/$seeds"
