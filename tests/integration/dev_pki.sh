#!/usr/bin/env bash
# dev_pki.sh: scripts/dev-pki makes a usable development PKI, idempotently.
. "$(dirname "$0")/lib.sh"

P=$T/pki
# shellcheck disable=SC2317
pki() { "$TSR_SRCDIR/scripts/dev-pki" "$@"; }

ok "dev-pki makes a PKI" pki "$P"
like "dev-pki says what it made" "$OUT" "made .*/server\.pem"
is "the directory is mode 0700" "$(file_mode "$P")" 700
for n in ca server order-service billing-service; do
	ok "$n.pem exists" test -s "$P/$n.pem"
	is "$n-key.pem is mode 0600" "$(file_mode "$P/$n-key.pem")" 600
done

# check_cert DESC NAME PYTHON-ASSERTS: cert as c, its CA as ca
check_cert() {
	local msg
	if msg=$("$TSR_PYTHON" - "$P/$2.pem" "$P/ca.pem" "$P/$2-key.pem" \
	    "$3" <<'PY' 2>&1
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import ExtendedKeyUsageOID as EKU, NameOID
def load(p):
    with open(p, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())
c, ca = load(sys.argv[1]), load(sys.argv[2])
with open(sys.argv[3], "rb") as f:
    key = serialization.load_pem_private_key(f.read(), None)
def cn(cert):
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
def eku(cert):
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return None
assert c.issuer == ca.subject
ca.public_key().verify(c.signature, c.tbs_certificate_bytes,
                       ec.ECDSA(c.signature_hash_algorithm))
assert key.public_key().public_numbers() == c.public_key().public_numbers()
exec(sys.argv[4])
PY
	); then
		pass "$1"
	else
		fail "$1" "$(printf '%s\n' "$msg" | tail -n 2)"
	fi
}

check_cert "ca: a CA certificate" ca "
bc = c.extensions.get_extension_for_class(x509.BasicConstraints).value
assert bc.ca
"
check_cert "server: P-256, serverAuth, localhost and 127.0.0.1" server "
assert isinstance(key, ec.EllipticCurvePrivateKey)
assert key.curve.name == 'secp256r1', key.curve.name
assert eku(c) == {EKU.SERVER_AUTH}, eku(c)
san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
assert san.get_values_for_type(x509.DNSName) == ['localhost']
assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address('127.0.0.1')]
"
for n in order-service billing-service; do
	check_cert "$n: CN $n, clientAuth" "$n" "
assert cn(c) == ['$n'], cn(c)
assert eku(c) == {EKU.CLIENT_AUTH}, eku(c)
"
done
ok "certtool verifies the server chain" \
    certtool --verify --load-ca-certificate "$P/ca.pem" --infile "$P/server.pem"

sums=$(cat "$P"/*.pem | sha256sum)
ok "a second run succeeds" pki "$P"
is "a second run says nothing" "$OUT" ""
is "a second run changes nothing" "$(cat "$P"/*.pem | sha256sum)" "$sums"
casum=$(file_checksum "$P/ca.pem")
ok "--force remakes" pki "$P" --force
isnt "--force makes a new CA" "$(file_checksum "$P/ca.pem")" "$casum"
check_cert "--force: clients signed by the new CA" order-service "pass"

ok "--client makes an extra client" \
    pki "$P" --client odd --cn "Odd One" --eku none \
    --not-before '2020-01-01 00:00:00' --not-after '2021-01-01 00:00:00'
check_cert "--client: CN, no EKU, the given validity" odd "
assert cn(c) == ['Odd One'], cn(c)
assert eku(c) is None, eku(c)
assert c.not_valid_before == datetime.datetime(2020, 1, 1), c.not_valid_before
assert c.not_valid_after == datetime.datetime(2021, 1, 1), c.not_valid_after
"
ok "--client --eku server" pki "$P" --client srv-only --eku server --days 2
check_cert "--client --eku server: serverAuth only" srv-only "
assert eku(c) == {EKU.SERVER_AUTH}, eku(c)
"
usage_error "an unknown option is a usage error" pki "$P" --bogus

done_testing
