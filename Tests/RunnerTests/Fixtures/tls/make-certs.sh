#!/bin/sh
# Makes the throwaway certificates the TLS tests use, into the folder given
# as $1. Test-only: the keys are unencrypted and the CA trusts nothing real.
#   ca.pem / ca.key                 "ward test CA" (a CA, signs the next two)
#   server.pem / server.key         localhost, 127.0.0.1 and ::1, from the CA
#   other.pem / other.key           other.test only, from the CA
#   selfsigned.pem / selfsigned.key localhost and 127.0.0.1, signed by itself
#   two-certs.pem                   ca.pem followed by selfsigned.pem
# $curve holds several options and is split into words on purpose.
# shellcheck disable=SC2086
set -eu
dir=$1
cd "$dir"
days=3650
curve="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

openssl req -x509 $curve -days $days -subj "/CN=ward test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca.key -out ca.pem 2>/dev/null

leaf() {
    name=$1 cn=$2 san=$3
    openssl req -new $curve -subj "/CN=$cn" -keyout "$name.key" -out "$name.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
        "$san" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -days $days -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}
leaf server localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf other other.test "DNS:other.test"

openssl req -x509 $curve -days $days -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -keyout selfsigned.key -out selfsigned.pem 2>/dev/null

cat ca.pem selfsigned.pem > two-certs.pem
