#!/usr/bin/env bash
# tools/capacity: the national case, a 10x peak, and bad input.
set -euo pipefail
capacity="$TEST_SRCDIR/$TEST_WORKSPACE/tools/capacity/capacity"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$capacity")
grep -q "live replay entries   7,100,000" <<<"$out" || fail "live entries: $out"
grep -q "^shards: 8 " <<<"$out" || fail "shards: $out"
grep -q "one shard down: still fits" <<<"$out" || fail "one down: $out"

json=$("$capacity" --peak-verifications-per-second 1000000 --json)
python3 - "$json" <<'PY' || fail "10x peak: $json"
import json, sys
r = json.loads(sys.argv[1])["result"]
assert r["live_replay_entries"] == 71_000_000, r
assert abs(r["replay_cpu_cores"] - 1e6 / 350_000) < 1e-9, r
assert r["shards"] >= r["shards_needed_by"]["cpu"], r
PY

# Few cores and a high peak: CPU decides the shard count.
out=$("$capacity" --peak-verifications-per-second 2000000 --cores-per-shard 1)
grep -q "^shards: 12 (needed by cpu 12" <<<"$out" || fail "cpu-bound: $out"

if "$capacity" --peak-verifications-per-second -5 2>/dev/null; then
  fail "a negative peak was accepted"
fi
echo PASS
