#!/usr/bin/env bash
# seeds-pki.sh: make the seeds of corpus/crl and corpus/clientca with
# certtool (and OpenSSL for one), from throwaway CAs whose keys are discarded.
#
#   tests/fuzz/seeds-pki.sh [CORPUS-DIR]	(default: tests/fuzz/corpus)
#
# Each seed is two files in one (see fuzz_split in fuzz.h): a client CA
# bundle (PEM), the separator line "%%", then a CRL file (crl/) or a
# client certificate as DER (clientca/).  Dates are fixed, far in the
# past or the future, so that a seed's verdict does not change with the
# day it is replayed.  Rerunning makes new keys and so new bytes: commit
# the result only when a seed is added or changed on purpose.  Seeds kept
# from fuzzer findings (not made here) are left as they are.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$root/tests/fuzz/corpus}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tsr-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

from="2025-01-01 00:00:00"
until="2125-01-01 00:00:00"

# key NAME TYPE [OPTION...]: a private key NAME-key.pem
key() {
	local name=$1 type=$2
	shift 2
	certtool --generate-privkey --key-type "$type" "$@" \
	    --outfile "$name-key.pem" 2>/dev/null
}

# tmpl NAME LINE...: a certtool template NAME.tmpl of validity from-until
tmpl() {
	local name=$1
	shift
	printf '%s\n' "activation_date = \"$from\"" \
	    "expiration_date = \"$until\"" "$@" >"$name.tmpl"
}

# ca NAME CN TYPE [EXTRA TEMPLATE LINE...]: a self-signed CA NAME.pem
ca() {
	local name=$1 cn=$2 type=$3
	shift 3
	key "$name" "$type"
	tmpl "$name" "cn = \"$cn\"" "serial = 1" "ca" "$@"
	certtool --generate-self-signed --load-privkey "$name-key.pem" \
	    --template "$name.tmpl" --outfile "$name.pem" 2>/dev/null
}

# leaf NAME ISSUER KEYTYPE-AND-OPTIONS -- TEMPLATE LINE...: NAME.pem
leaf() {
	local name=$1 issuer=$2 args=()
	shift 2
	while [ "$1" != "--" ]; do
		args+=("$1")
		shift
	done
	shift
	key "$name" "${args[@]}"
	tmpl "$name" "$@"
	certtool --generate-certificate --load-privkey "$name-key.pem" \
	    --load-ca-certificate "$issuer.pem" \
	    --load-ca-privkey "$issuer-key.pem" --template "$name.tmpl" \
	    --outfile "$name.pem" 2>/dev/null
}

# crl OUT ISSUER REVOKED-PEM|- THIS NEXT [OPTION...]: a PEM CRL
crl() {
	local outf=$1 issuer=$2 revoked=$3 this=$4 next=$5 load=()
	shift 5
	[ "$revoked" = - ] || load=(--load-certificate "$revoked")
	printf '%s\n' "crl_number = 7" "crl_this_update_date = \"$this\"" \
	    "crl_next_update_date = \"$next\"" >crl.tmpl
	certtool --generate-crl --load-ca-privkey "$issuer-key.pem" \
	    --load-ca-certificate "$issuer.pem" "${load[@]}" \
	    --template crl.tmpl "$@" --outfile "$outf" 2>/dev/null
}

# pem2der IN OUT: the first certificate or CRL of IN as DER
pem2der() {
	sed -n '/^-----BEGIN/,/^-----END/{/^-----/d;p}' "$1" | base64 -d >"$2"
}

# seed DIR NAME BUNDLE SECOND: BUNDLE, the separator, SECOND
seed() {
	mkdir -p "$out/$1"
	{ cat "$3"; printf '\n%%%%\n'; cat "$4"; } >"$out/$1/$2"
}

# --- the PKI ------------------------------------------------------------------
ca_sign="signing_key"
ca_ext=("cert_signing_key" "crl_signing_key")
ca a "fuzz CA" ecdsa "${ca_ext[@]}"
ca b "fuzz CA two" ecdsa "${ca_ext[@]}"
ca same "fuzz CA" ecdsa "${ca_ext[@]}"	# a's name, another key
ca other "elsewhere CA" ecdsa "${ca_ext[@]}"
ca rsa "fuzz RSA CA" rsa --bits 2048 "${ca_ext[@]}"
ca ed "fuzz Ed25519 CA" ed25519 "${ca_ext[@]}"
ca nocrlsign "fuzz CA" ecdsa "cert_signing_key"
key notca ecdsa
tmpl notca 'cn = "fuzz CA"' "serial = 9" "$ca_sign"
certtool --generate-self-signed --load-privkey notca-key.pem \
    --template notca.tmpl --outfile notca.pem 2>/dev/null
cat a.pem b.pem >ab.pem

client=('cn = "order-service"' "serial = 4660" "$ca_sign"
    "tls_www_client")
leaf ok a ecdsa -- "${client[@]}"
leaf noeku a ecdsa -- 'cn = "order-service"' "$ca_sign"
leaf server a ecdsa -- 'cn = "order-service"' "$ca_sign" "tls_www_server"
leaf anyeku a ecdsa -- 'cn = "order-service"' "$ca_sign" \
    "key_purpose_oid = 2.5.29.37.0"
leaf bothsides a ecdsa -- "${client[@]}" "tls_www_server"
leaf catrue a ecdsa -- "${client[@]}" "ca"
# certtool sets keyCertSign only with CA:TRUE: this one from OpenSSL
key certsign ecdsa
printf '%s\n' "basicConstraints = critical, CA:FALSE" \
    "keyUsage = critical, digitalSignature, keyCertSign" \
    "extendedKeyUsage = clientAuth" >certsign.ext
openssl req -new -key certsign-key.pem -subj /CN=order-service |
    openssl x509 -req -CA a.pem -CAkey a-key.pem -set_serial 4660 \
    -days 36500 -extfile certsign.ext -out certsign.pem 2>/dev/null
leaf rsa1024 a rsa --bits 1024 -- "${client[@]}"
leaf rsa2048 a rsa --bits 2048 -- "${client[@]}"
leaf p384 a ecdsa --curve secp384r1 -- "${client[@]}"
leaf ed25519 a ed25519 -- "${client[@]}"
leaf ed448 a ed448 -- "${client[@]}"
leaf fromb b ecdsa -- "${client[@]}"
leaf foreign other ecdsa -- "${client[@]}"
leaf imposter same ecdsa -- "${client[@]}"
from="2020-01-01 00:00:00" until="2020-02-01 00:00:00" \
    leaf expired a ecdsa -- "${client[@]}"
from="2100-01-01 00:00:00" leaf future a ecdsa -- "${client[@]}"
# twenty revoked serials for one CRL
for i in $(seq 1 20); do
	leaf "r$i" a ecdsa -- 'cn = "revoked"' "serial = $((1000 + i))"
	cat "r$i.pem"
done >revoked20.pem

# --- CRLs --------------------------------------------------------------------
crl good.crl a ok.pem "$from" "$until"
crl stale.crl a ok.pem "2020-01-01 00:00:00" "2020-02-01 00:00:00"
crl future.crl a ok.pem "2100-01-01 00:00:00" "2100-02-01 00:00:00"
crl empty.crl a - "$from" "$until"
crl many.crl a revoked20.pem "$from" "$until"
crl b.crl b fromb.pem "$from" "2099-01-01 00:00:00"
crl same.crl same ok.pem "$from" "$until"
crl other.crl other foreign.pem "$from" "$until"
crl rsa.crl rsa - "$from" "$until"
crl ed.crl ed - "$from" "$until"
crl sha1.crl a ok.pem "$from" "$until" --hash SHA1
crl nocrlsign.crl nocrlsign - "$from" "$until"
crl nocrlsign-stale.crl nocrlsign - "2020-01-01 00:00:00" \
    "2020-02-01 00:00:00"
crl notca.crl notca - "$from" "$until"
cat good.crl b.crl >two.crl
cat good.crl same.crl >second-bad.crl
pem2der good.crl good.der
cp good.der tampered.der
printf '\001' | dd of=tampered.der bs=1 seek=$(($(stat -c %s good.der) - 5)) \
    conv=notrunc 2>/dev/null
{
	echo "-----BEGIN X509 CRL-----"
	base64 -w 64 tampered.der
	echo "-----END X509 CRL-----"
} >tampered.crl
head -c 200 good.crl >truncated.crl
printf -- '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n' \
    >garbage.crl
: >nothing

seed crl good a.pem good.crl
seed crl stale a.pem stale.crl
seed crl future a.pem future.crl
seed crl empty a.pem empty.crl
seed crl many a.pem many.crl
seed crl two-cas-two-crls ab.pem two.crl
seed crl second-ca ab.pem b.crl
seed crl rsa rsa.pem rsa.crl
seed crl ed25519 ed.pem ed.crl
seed crl sha1 a.pem sha1.crl
seed crl same-name-other-key a.pem same.crl
seed crl second-crl-foreign a.pem second-bad.crl
seed crl unknown-issuer a.pem other.crl
seed crl tampered a.pem tampered.crl
seed crl no-crlsign nocrlsign.pem nocrlsign.crl
seed crl no-crlsign-stale nocrlsign.pem nocrlsign-stale.crl
seed crl issuer-not-ca notca.pem notca.crl
seed crl der a.pem good.der
seed crl garbage a.pem garbage.crl
seed crl truncated a.pem truncated.crl
seed crl no-crl a.pem nothing
seed crl no-ca nothing good.crl
cp a.pem "$out/crl/no-separator"

for c in ok noeku server anyeku bothsides catrue certsign rsa1024 rsa2048 \
    p384 ed25519 ed448 foreign imposter expired future; do
	pem2der "$c.pem" "$c.der"
	seed clientca "$c" a.pem "$c.der"
done
pem2der fromb.pem fromb.der
seed clientca second-ca ab.pem fromb.der
seed clientca pinned-leaf ok.pem ok.der
seed clientca pem-not-der a.pem ok.pem
head -c 100 ok.der >truncated.der
seed clientca truncated a.pem truncated.der
seed clientca no-ca nothing ok.der
seed clientca no-cert a.pem nothing
echo "seeds in $out/crl and $out/clientca"
