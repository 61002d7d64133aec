#!/usr/bin/env bash
# ca_profile.sh: certificates, PKCS #7 messages and CRLs from lib/ca, read
# by tools that share no code with it: OpenSSL makes the requests and
# reads the PKCS #7 and CRLs, python3-cryptography checks every field.
. "$(dirname "$0")/lib.sh"

: "${TSR_CA_TOOL:?TSR_CA_TOOL must name tests/unit/ca_tool}"
C=$T/ca
mkdir -p "$C"
catool() { "$TSR_CA_TOOL" "$@"; }

ok "a CA is made" catool init "$C"
is "its key is mode 0600" "$(file_mode "$C/ca-key.pem")" 600
openssl x509 -in "$C/ca.pem" -outform DER -out "$C/ca.der" 2>/dev/null

# csr NAME CN OPENSSL-KEY-ARGS...: $C/NAME.der, a DER request
csr() {
	local name=$1 cn=$2
	shift 2
	openssl req -new "$@" -nodes -keyout "$C/$name-key.pem" \
	    -subj "/CN=$cn" -outform DER -out "$C/$name.csr" 2>"$T/err"
}

# check NAME CN RSA?: the certificate $C/NAME.der, field by field
check() {
	local msg
	if msg=$("$TSR_PYTHON" - "$C/$1.der" "$C/ca.pem" "$2" "$3" \
	    "$(cat "$C/$1.serial")" <<'PY' 2>&1
import datetime, hashlib, sys
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID as EKU, NameOID
with open(sys.argv[1], "rb") as f:
    der = f.read()
c = x509.load_der_x509_certificate(der)
with open(sys.argv[2], "rb") as f:
    ca = x509.load_pem_x509_certificate(f.read())
cn, rsa = sys.argv[3], sys.argv[4] == "rsa"
serial, nb, na, fp = sys.argv[5].split()
assert c.version == x509.Version.v3
assert c.subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]), c.subject
assert c.issuer == ca.subject
assert c.serial_number == int(serial, 16)
assert 2**120 <= c.serial_number < 2**127, hex(c.serial_number)
assert hashlib.sha256(der).hexdigest() == fp
now = datetime.datetime.utcnow()
assert int(c.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp()) == int(nb)
assert int(c.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()) == int(na)
assert abs((now - c.not_valid_before).total_seconds() - 60) < 30
assert abs((c.not_valid_after - now).total_seconds() - 3600) < 30
ext = {e.oid: e for e in c.extensions}
assert len(ext) == len(c.extensions) == 5, [e.oid for e in c.extensions]
bc = c.extensions.get_extension_for_class(x509.BasicConstraints)
assert bc.critical and not bc.value.ca and bc.value.path_length is None
ku = c.extensions.get_extension_for_class(x509.KeyUsage)
assert ku.critical and ku.value.digital_signature
assert ku.value.key_encipherment == rsa
assert not (ku.value.key_cert_sign or ku.value.crl_sign or
            ku.value.content_commitment or ku.value.data_encipherment or
            ku.value.key_agreement)
eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
assert list(eku.value) == [EKU.CLIENT_AUTH], list(eku.value)
ski = c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
assert ski.value == x509.SubjectKeyIdentifier.from_public_key(c.public_key())
aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
assert aki.value.key_identifier == ca_ski.value.digest
ca.public_key().verify(c.signature, c.tbs_certificate_bytes,
                       ec.ECDSA(c.signature_hash_algorithm))
PY
	); then
		pass "$1: every field as profiled, signed by the CA"
	else
		fail "$1: every field as profiled, signed by the CA" \
		    "$(printf '%s\n' "$msg" | tail -n 3)"
	fi
}

# issue NAME CN [CSR]: issue $C/CSR.csr (default NAME) for CN into $C/NAME.der
issue() {
	run catool issue "$C" "$2" "$C/${3:-$1}.csr" 3600 "$C/$1.der"
	printf '%s\n' "$OUT" >"$C/$1.serial"
}

csr p256 svc-a -newkey ec -pkeyopt ec_paramgen_curve:P-256
issue p256 svc-a
is "P-256 request issued" "$RC" 0
check p256 svc-a ec
csr p384 svc-a -newkey ec -pkeyopt ec_paramgen_curve:P-384
issue p384 svc-a
is "P-384 request issued" "$RC" 0
check p384 svc-a ec
csr ed svc-a -newkey ed25519
issue ed svc-a
is "Ed25519 request issued" "$RC" 0
check ed svc-a ec
csr rsa svc-a -newkey rsa:2048
issue rsa svc-a
is "RSA-2048 request issued" "$RC" 0
check rsa svc-a rsa

# OpenSSL agrees that the chain verifies for client authentication.
openssl x509 -inform DER -in "$C/p256.der" -out "$C/p256.pem"
ok "openssl verify -purpose sslclient" openssl verify -purpose sslclient \
    -CAfile "$C/ca.pem" "$C/p256.pem"

# Refusals, each with its own reason.
csr weak svc-a -newkey rsa:1024
issue weak svc-a
like "RSA-1024 refused" "$RC $ERR" "^2 TSR_ERR_WEAK_KEY"
if csr p192 svc-a -newkey ec -pkeyopt ec_paramgen_curve:P-192; then
	issue p192 svc-a
	like "P-192 refused" "$RC $ERR" "^2 TSR_ERR_WEAK_KEY"
fi
csr other svc-b -newkey ec -pkeyopt ec_paramgen_curve:P-256
issue other svc-a
like "a request for another CN refused" "$RC $ERR" "^2 TSR_ERR_CSR_SUBJECT"
cp "$C/p256.csr" "$C/bad.csr"
printf '\x01' | dd of="$C/bad.csr" bs=1 seek=$(($(stat -c %s "$C/bad.csr") - 3)) \
    conv=notrunc 2>/dev/null
issue bad svc-a
like "a tampered signature refused" "$RC $ERR" "^2 TSR_ERR_CSR_SIG"
printf 'garbage' >"$C/junk.csr"
issue junk svc-a
like "garbage refused" "$RC $ERR" "^2 TSR_ERR_CSR:"

# Every serial differs.
for i in 1 2 3 4 5; do
	issue "again$i" svc-a p256
	cut -d' ' -f1 "$C/again$i.serial"
done | sort -u >"$T/serials"
is "five serials, all different" "$(wc -l <"$T/serials")" 5

# PKCS #7 certs-only, as /cacerts and simpleenroll answer.
ok "PKCS #7 made" catool p7 "$C/p7.der" "$C/p256.der" "$C/ca.der"
run openssl pkcs7 -inform DER -in "$C/p7.der" -print_certs
like "openssl reads the client certificate" "$OUT" "subject=CN = svc-a"
like "openssl reads the CA certificate" "$OUT" "subject=CN = tessera CA"

# CRL: OpenSSL reads and verifies it.
serial=$(cut -d' ' -f1 "$C/p256.serial")
ok "CRL made" catool crl "$C" 5 "$C/crl.der" "$serial:1" 0badc0de
run openssl crl -inform DER -in "$C/crl.der" -noout -text
like "CRL version 2" "$OUT" "Version 2"
like "CRL number 5" "$OUT" "CRL Number:[[:space:]]*5"
like "CRL names the revoked serial" "$OUT" "Serial Number: ${serial^^}"
like "CRL keeps the reason" "$OUT" "Key Compromise"
like "CRL has the CA's key identifier" "$OUT" "Authority Key Identifier"
run openssl crl -inform DER -in "$C/crl.der" -CAfile "$C/ca.pem" -noout
like "openssl verifies the CRL" "$ERR" "verify OK"
if "$TSR_PYTHON" - "$C/crl.der" "$C/ca.pem" <<'PY'
import sys
from cryptography import x509
crl = x509.load_der_x509_crl(open(sys.argv[1], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
assert crl.is_signature_valid(ca.public_key())
assert (crl.next_update - crl.last_update).total_seconds() == 86400
assert len(crl) == 2
PY
then pass "python3-cryptography: CRL signature, 24 h, two entries"
else fail "python3-cryptography: CRL signature, 24 h, two entries"; fi
openssl x509 -inform DER -in "$C/p256.der" -out "$C/p256.pem"
run openssl verify -crl_check -CAfile "$C/ca.pem" -CRLfile <(openssl crl \
    -inform DER -in "$C/crl.der") "$C/p256.pem"
like "openssl verify -crl_check: revoked" "$OUT $ERR" "certificate revoked"

ok "a CRL of 100,000 entries" catool crl-many "$C" 100000 "$C/big.der"
run openssl crl -inform DER -in "$C/big.der" -CAfile "$C/ca.pem" -noout
like "openssl verifies the large CRL" "$ERR" "verify OK"
is "it lists 100,000 serials" "$(openssl crl -inform DER -in "$C/big.der" \
    -noout -text | grep -c 'Serial Number:')" 100000

done_testing
