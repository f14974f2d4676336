#!/usr/bin/env bash
# Renders deploy/k8s/base and every overlay with `kubectl kustomize` and
# validates every object (tools/k8s-validate/validate.mjs: Kubernetes and
# prometheus-operator schemas, unknown fields, eid's own rules). Then breaks
# the dev render (and the prod render, for what only prod has) in each way
# the validator must catch, and checks it does.
#
# Needs kubectl (with kustomize v5), node (>= 20) and the npm packages of
# tools/k8s-validate installed by `npm ci --prefix tools/k8s-validate`
# (tools/bootstrap). They are found through the real path of the runfile
# tools/k8s-validate/package.json (this test is tagged "local"), or at
# $EID_K8S_NODE_MODULES.
set -euo pipefail

ws="${TEST_SRCDIR:?run me with bazel test}/${TEST_WORKSPACE:-eid}"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"

for tool in kubectl node; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool not found (tools/bootstrap installs it)" >&2
    exit 1
  fi
done
if ! kubectl kustomize --help 2>/dev/null | grep -q "kustomization"; then
  echo "this kubectl has no kustomize: need kubectl >= 1.27 (kustomize v5)" >&2
  exit 1
fi

node_modules="${EID_K8S_NODE_MODULES:-$(dirname "$(readlink -f "$ws/tools/k8s-validate/package.json")")/node_modules}"
for pkg in kubernetes-models @kubernetes-models/prometheus-operator typescript yaml; do
  if [ ! -f "$node_modules/$pkg/package.json" ]; then
    echo "missing npm package $pkg in $node_modules:" >&2
    echo "  run: npm ci --prefix tools/k8s-validate   (tools/bootstrap does)" >&2
    exit 1
  fi
done

# kustomize refuses files that resolve outside the kustomization's root, and
# runfiles are symlinks into the source tree: render a real copy.
cp -rL "$ws/deploy/k8s" "$tmp/k8s"

validate() {
  node "$ws/tools/k8s-validate/validate.mjs" --node_modules "$node_modules" \
    --repo "$ws" "$@"
}

passed=0
failed=0
cases=""
check() {  # check NAME COMMAND...: one result line (and test case) per check
  local name="$1"; shift
  if "$@"; then
    echo "PASS $name"; passed=$((passed + 1))
    cases+="<testcase name=\"$name\"/>"
  else
    echo "FAIL $name"; failed=$((failed + 1))
    cases+="<testcase name=\"$name\"><failure message=\"see test.log\"/></testcase>"
  fi
}

render_and_validate() {  # overlay dir [validator flags]
  local overlay="$1" dir="$2"; shift 2
  kubectl kustomize "$dir" > "$tmp/$overlay.yaml" &&
    validate --overlay "$overlay" "$@" "$tmp/$overlay.yaml"
}
check base render_and_validate base "$tmp/k8s/base"
check dev render_and_validate dev "$tmp/k8s/overlays/dev" --shards 3
check prod render_and_validate prod "$tmp/k8s/overlays/prod" --shards 8

# The validator must reject each of these breakages of the dev render.
expect_rejected() {  # mutation, text the report must contain[, overlay]
  local out overlay="${3:-dev}"
  if out="$(validate --overlay "$overlay" --mutate "$1" "$tmp/$overlay.yaml")"; then
    echo "validator accepted mutation $1:" >&2; echo "$out" >&2; return 1
  fi
  if ! grep -qF -- "$2" <<<"$out"; then
    echo "mutation $1: report lacks \"$2\":" >&2; echo "$out" >&2; return 1
  fi
}
if [ -f "$tmp/dev.yaml" ]; then
  check rejects-unknown-field expect_rejected unknown-field "'\"readinessprobe\"' does not exist"
  check rejects-bad-type expect_rejected bad-type "containerPort must be integer"
  check rejects-unknown-flag expect_rejected unknown-flag "eidd has no flag --grpc_port"
  check rejects-shard-count expect_rejected shard-count "replicas 4 but eid-config lists 3 shards"
  check rejects-missing-egress expect_rejected missing-egress "verification may not reach shard"
  check rejects-missing-peers expect_rejected missing-peers "needs --peers=\$(EID_PEERS)"
  check rejects-rule-drift expect_rejected rule-drift "differs from deploy/prometheus/alerts.yml"
  check rejects-writable-root expect_rejected writable-root "readOnlyRootFilesystem must be true"
  check rejects-no-tls expect_rejected no-tls "needs --tls_key (mutual TLS between services)"
  check rejects-missing-secret expect_rejected missing-secret "qr reads qr_signing_seed (services/eidd/roles.cc) but does not mount it"
  check rejects-probe-on-tls-port expect_rejected probe-on-tls-port "readinessProbe must be a gRPC probe on the health port 7444"
fi
# Breakages only prod shows: it alone sends SMS through Kannel.
if [ -f "$tmp/prod.yaml" ]; then
  check rejects-outbox-in-prod expect_rejected outbox-in-prod "prod must send SMS through Kannel, not sms_transport=outbox" prod
  check rejects-dlr-port-closed expect_rejected dlr-port-closed "Kannel's delivery reports may not reach otp on 7445" prod
fi

echo "$passed passed, $failed failed"
# One test case per check in Bazel's report (tools/test_summary.py counts them).
if [ -n "${XML_OUTPUT_FILE:-}" ]; then
  printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="k8s_manifests_test" tests="%d" failures="%d">%s</testsuite></testsuites>\n' \
    "$((passed + failed))" "$failed" "$cases" > "$XML_OUTPUT_FILE"
fi
[ "$failed" -eq 0 ]
