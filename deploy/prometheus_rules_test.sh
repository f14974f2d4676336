#!/usr/bin/env bash
# promtool checks deploy/prometheus/alerts.yml and runs its unit tests
# (alerts_test.yml). promtool comes with Debian's prometheus package
# (tools/bootstrap installs it).
set -euo pipefail
dir="${TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/${TEST_WORKSPACE:-eid}/deploy/prometheus"
[ -d "$dir" ] || dir="$(cd "$(dirname "$0")" && pwd)/prometheus"
if ! command -v promtool >/dev/null; then
  echo "promtool not found: install Debian's prometheus package (tools/bootstrap does)" >&2
  exit 1
fi
cd "$dir"
promtool check rules alerts.yml
promtool test rules alerts_test.yml
