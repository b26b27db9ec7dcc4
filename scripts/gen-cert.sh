#!/usr/bin/env bash
# Test PKI for the mock's TLS listeners: a throwaway CA and a server cert it
# signed, so Envoy (and curl) can verify the mock like a real provider.
#
#   scripts/gen-cert.sh OUTDIR [NAMES...]
#
# Writes OUTDIR/ca.crt, OUTDIR/ca.key, OUTDIR/server.crt, OUTDIR/server.key.
# The server cert's subjectAltName has DNS:NAME for every NAME (default:
# openai.mock.test anthropic.mock.test) plus DNS:localhost and IP:127.0.0.1.
# Both certificates are valid for 30 days. Needs the openssl CLI.
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    echo "usage: $0 OUTDIR [NAMES...]" >&2
    exit 2
fi
OUT="$1"
shift
if [ $# -eq 0 ]; then
    set -- openai.mock.test anthropic.mock.test
fi

mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

SAN=""
for name in "$@"; do
    SAN="${SAN}DNS:$name,"
done
SAN="${SAN}DNS:localhost,IP:127.0.0.1"

# CA: self-signed, may only sign certificates.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
    -subj "/CN=modelmux mock test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$OUT/ca.key" -out "$OUT/ca.crt" 2>"$TMP/log" || { cat "$TMP/log" >&2; exit 1; }

# Server: key + CSR, then signed by the CA with the SANs (a leaf for TLS servers).
openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -subj "/CN=$1" \
    -keyout "$OUT/server.key" -out "$TMP/server.csr" 2>"$TMP/log" || { cat "$TMP/log" >&2; exit 1; }
cat >"$TMP/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$SAN
EXT
openssl x509 -req -in "$TMP/server.csr" -days 30 -sha256 \
    -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial -CAserial "$TMP/ca.srl" \
    -extfile "$TMP/ext.cnf" -out "$OUT/server.crt" 2>"$TMP/log" || { cat "$TMP/log" >&2; exit 1; }

chmod 600 "$OUT/ca.key" "$OUT/server.key"
echo "gen-cert: wrote $OUT/{ca.crt,ca.key,server.crt,server.key} for $SAN"
