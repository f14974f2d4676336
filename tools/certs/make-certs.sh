#!/usr/bin/env bash
# DEVELOPMENT ONLY. Makes a dev CA and the certificates eid's mTLS needs,
# with openssl (EC P-256):
#   make-certs.sh [DIR]      (default var/certs)
#
# DIR/ca.crt, ca.key        the dev CA (ca.key never leaves this machine)
# DIR/<id>.crt, <id>.key    one per caller identity: the seven roles (shard,
#                           audit, otp, activation, qr, verification, reports),
#                           client (the public gateway / app), operator
#                           (eidctl), agency (issuing agencies' backends)
# DIR/all.crt, all.key      one process hosting every role (tools/dev up):
#                           all seven role identities in one certificate
#
# Identity = the URI SAN spiffe://eid/<id> (services/common/tls.h); every
# certificate is also valid for localhost and 127.0.0.1 as a server.
# Idempotent: files that exist are kept (a new CA only when ca.crt is
# missing, and then every certificate is remade). Keys are mode 0600.
set -euo pipefail
dir="${1:-var/certs}"
days="${EID_CERT_DAYS:-825}"
roles="shard audit otp activation qr verification reports"
ids="$roles client operator agency"

mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

if [ ! -s ca.crt ] || [ ! -s ca.key ]; then
  rm -f ./*.crt ./*.key
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.crt -days "$days" \
    -subj "/O=eid DEV ONLY/CN=eid dev CA $(hostname)-$$" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

make_cert() {  # make_cert NAME CN URI_SAN...
  local name="$1" cn="$2"; shift 2
  [ -s "$name.crt" ] && [ -s "$name.key" ] && return 0
  local sans="DNS:localhost,IP:127.0.0.1,DNS:$cn" uri
  for uri in "$@"; do sans="$sans,URI:$uri"; done
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$name.key" -out "$name.csr" -subj "/O=eid DEV ONLY/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out "$name.crt" -days "$days" \
    -extfile <(printf '%s\n' "subjectAltName=$sans" \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth,clientAuth") 2>/dev/null
  rm -f "$name.csr"
}

for id in $ids; do make_cert "$id" "$id" "spiffe://eid/$id"; done
all_uris=()
for role in $roles; do all_uris+=("spiffe://eid/$role"); done
make_cert all eidd "${all_uris[@]}"
rm -f ca.srl
chmod 600 ./*.key
chmod 644 ./*.crt
