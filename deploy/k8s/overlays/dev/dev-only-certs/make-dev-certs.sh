#!/usr/bin/env bash
# DEV ONLY. Makes the dev overlay's CA and one certificate per role (EC
# P-256, ten years) for namespace eid-dev. The files beside this script were
# made by it and are committed on purpose: they protect nothing, every clone
# has the same private keys. Never use them, or this CA, outside a
# throwaway dev cluster. Rerun to replace them: ./make-dev-certs.sh
set -euo pipefail
cd "$(dirname "$0")"
ns=eid-dev
days=3650
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$tmp/ca.key" -out ca.crt -days "$days" \
  -subj "/O=eid DEV ONLY/CN=eid DEV ONLY CA - never trust" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

for role in shard audit otp activation qr verification reports; do
  sans="DNS:$role,DNS:$role.$ns.svc,DNS:$role.$ns.svc.cluster.local,URI:spiffe://eid/$role"
  if [ "$role" = shard ]; then
    sans="$sans,DNS:*.shard,DNS:*.shard.$ns.svc,DNS:*.shard.$ns.svc.cluster.local"
  fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$role.key" -out "$tmp/$role.csr" \
    -subj "/O=eid DEV ONLY/CN=$role" 2>/dev/null
  openssl x509 -req -in "$tmp/$role.csr" -CA ca.crt -CAkey "$tmp/ca.key" \
    -CAcreateserial -out "$role.crt" -days "$days" \
    -extfile <(printf '%s\n' "subjectAltName=$sans" \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth,clientAuth") 2>/dev/null
done
rm -f ca.srl
echo "dev certificates written to $(pwd)"
