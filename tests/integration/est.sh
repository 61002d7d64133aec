#!/usr/bin/env bash
# est.sh: tessera as the CA of its clients (README, "Service
# certificates"), with OpenSSL and curl as an independent EST client:
# enrollment with a one-time secret, the certificate used for /token,
# re-enrollment over mTLS, every refusal, the CRL read and verified by
# OpenSSL, revocation seen by the server within a second, the inventory,
# and python3-cryptography checking the profile of an EST certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
C=$T/est
mkdir -p "$C"
ok "ca init" tsr ca init --cn "tessera test CA"
tsr ca show >"$C/show" 2>&1
sed -n '/BEGIN/,/END/p' "$C/show" >"$C/ca.pem"
FP=$(sed -n 's/^SHA-256 //p' "$C/show")
is "ca show: the fingerprint is the certificate's" "$FP" \
    "$(openssl x509 -in "$C/ca.pem" -outform DER | sha256sum | cut -d' ' -f1)"
tsr client add svc --cn svc --cert-ttl 2h >/dev/null &&
    tsr client add other --cn other >/dev/null &&
    tsr grant add svc inventory >/dev/null ||
    bail "cannot set up the policy"
# The CA key is kept like a signing key: a 0600 file, or sealed in the
# store (never a file) with a key-encryption key.
if pg_mode; then
	ok "the CA key is no file" test ! -e "$KEYS/ca-key.pem"
	is "the CA key is sealed in the store" "$(sql "$DB" \
	    "SELECT key_ref, key_sealed LIKE '-----BEGIN%' FROM ca")" "sealed|f"
	tsr kek generate "$T/other-kek" >/dev/null
	run env TESSERA_KEY_ENCRYPTION_KEY="$T/other-kek" "$TSR_BIN" --db "$DB" \
	    cert issue svc --out "$T"
	is "another KEK cannot use the CA key: exit 1" "$RC" 1
	like "another KEK: a clear error" "$ERR" 'key-encryption key|unseal|KEK'
else
	is "the CA key is a 0600 file" "$(file_mode "$KEYS/ca-key.pem")" 600
fi
start_server || bail "the server did not start"

EST=$BASE/.well-known/est

# This test reads the store behind the server's back (SQL is the same on
# both engines for what it asks).
sq() {
	if pg_mode; then
		sql "$DB" "$1"
	else
		sqlite3 -batch "$DB" "$1"
	fi
}

# A curl that trusts the server's CA and nothing else (no client cert).
scurl() { curl -s --max-time 10 --cacert "$PKI/ca.pem" "$@"; }

# csr NAME CN [OPENSSL-KEY-ARGS...]: $C/NAME.b64 (base64 DER request) and
# $C/NAME-key.pem; P-256 by default
csr() {
	local name=$1 cn=$2
	shift 2
	[ $# -gt 0 ] || set -- -newkey ec -pkeyopt ec_paramgen_curve:P-256
	openssl req -new "$@" -nodes -keyout "$C/$name-key.pem" \
	    -subj "/CN=$cn" -outform DER -out "$C/$name.der" 2>/dev/null &&
	    base64 <"$C/$name.der" >"$C/$name.b64"
}

# enroll NAME [CURL-ARGS...]: POST $C/NAME.b64 to simpleenroll; the
# answer in $T/out, its status in $STATUS
enroll() {
	local name=$1
	shift
	STATUS=$(scurl -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
	    -H 'Content-Type: application/pkcs10' \
	    --data-binary "@$C/$name.b64" "$@" "$EST/simpleenroll")
}

# reenroll NAME CERT KEY: the same over mTLS with CERT/KEY
reenroll() {
	STATUS=$(scurl -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
	    --cert "$2" --key "$3" -H 'Content-Type: application/pkcs10' \
	    --data-binary "@$C/$1.b64" "$EST/simplereenroll")
}

# certs OUT: the PKCS #7 answer in $T/out as PEM certificates in OUT
certs() {
	base64 -d <"$T/out" | openssl pkcs7 -inform DER -print_certs \
	    -out "$1" 2>/dev/null
}

# token CERT KEY: POST /token with that certificate; status in $STATUS
token() {
	STATUS=$(curl -s --max-time 10 --cacert "$PKI/ca.pem" --cert "$1" \
	    --key "$2" -o "$T/out" -w '%{http_code}' \
	    --data 'grant_type=client_credentials&audience=inventory' \
	    "$BASE/token")
}

# --- cacerts ----------------------------------------------------------
STATUS=$(scurl -o "$T/out" -D "$T/hdr" -w '%{http_code}' "$EST/cacerts")
is "cacerts: 200" "$STATUS" 200
like "cacerts: application/pkcs7-mime" "$(cat "$T/hdr")" \
    'application/pkcs7-mime'
like "cacerts: base64 transfer encoding" "$(cat "$T/hdr")" \
    'Content-Transfer-Encoding: base64'
certs "$C/cacerts.pem"
is "cacerts: holds our CA" \
    "$(openssl x509 -in "$C/cacerts.pem" -outform DER | sha256sum)" \
    "$(openssl x509 -in "$C/ca.pem" -outform DER | sha256sum)"

# --- simpleenroll -----------------------------------------------------
SECRET=$(tsr cert enroll-token svc)
like "enroll-token prints a secret" "$SECRET" '^[0-9a-f]{64}$'
ok "the secret is not stored in clear" \
    test "$(sq "SELECT count(*) FROM enroll_tokens
	WHERE secret_sha256 = '$SECRET'")" = 0
csr svc svc || bail "openssl req failed"
enroll svc -u "svc:$SECRET"
is "simpleenroll: 200" "$STATUS" 200
like "simpleenroll: PKCS #7 answer" "$(cat "$T/hdr")" \
    'application/pkcs7-mime'
certs "$C/svc.pem"
ok "simpleenroll: the certificate chains to our CA" \
    openssl verify -CAfile "$C/ca.pem" "$C/svc.pem"
like "simpleenroll: subject is the client's CN" \
    "$(openssl x509 -in "$C/svc.pem" -noout -subject)" 'CN ?= ?svc'
token "$C/svc.pem" "$C/svc-key.pem"
is "the enrolled certificate gets a token" "$STATUS" 200
json_check "the answer holds an access token" 'assert d["access_token"]'
ok "the secret is spent" test "$(sq \
    "SELECT count(*) FROM enroll_tokens WHERE used_at IS NOT NULL")" = 1
ok "the audit trail holds the issuance" test "$(sq \
    "SELECT count(*) FROM audit_events WHERE event = 'simpleenroll'
	AND outcome = 'issued' AND client = 'svc'")" = 1
ok "the secret is in no audit row" test "$(sq \
    "SELECT count(*) FROM audit_events WHERE reason LIKE '%$SECRET%'
	OR error LIKE '%$SECRET%'")" = 0
ok "the secret is not in the log" bash -c "! grep -q '$SECRET' '$T/server.log'"

# The profile, field by field, with python3-cryptography.
openssl x509 -in "$C/svc.pem" -outform DER -out "$C/svc.crt.der"
if msg=$("$TSR_PYTHON" - "$C/svc.crt.der" "$C/ca.pem" <<'PY' 2>&1
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID as EKU, NameOID
c = x509.load_der_x509_certificate(open(sys.argv[1], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
assert c.subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svc")])
assert c.issuer == ca.subject
assert 2**120 <= c.serial_number < 2**127
now = datetime.datetime.utcnow()
assert abs((now - c.not_valid_before).total_seconds() - 60) < 30
assert abs((c.not_valid_after - now).total_seconds() - 7200) < 30  # --cert-ttl 2h
assert len(c.extensions) == 5
bc = c.extensions.get_extension_for_class(x509.BasicConstraints)
assert bc.critical and not bc.value.ca
ku = c.extensions.get_extension_for_class(x509.KeyUsage)
assert ku.critical and ku.value.digital_signature and not ku.value.key_encipherment
eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
assert list(eku.value) == [EKU.CLIENT_AUTH]
ski = c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
assert ski.value == x509.SubjectKeyIdentifier.from_public_key(c.public_key())
aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
assert aki.value.key_identifier == ca.extensions.get_extension_for_class(
    x509.SubjectKeyIdentifier).value.digest
ca.public_key().verify(c.signature, c.tbs_certificate_bytes,
                       ec.ECDSA(c.signature_hash_algorithm))
PY
); then pass "EST certificate: the profile, field by field"
else fail "EST certificate: the profile, field by field" "$msg"; fi

# --- refusals ---------------------------------------------------------
enroll svc -u "svc:$SECRET"
is "a used secret: 401" "$STATUS" 401
like "401 asks for Basic credentials" "$(cat "$T/hdr")" \
    'WWW-Authenticate: Basic'
enroll svc
is "no credentials: 401" "$STATUS" 401
SECRET=$(tsr cert enroll-token svc)
# The secret with its last character changed (to one it is not).
wrong=0
[ "${SECRET: -1}" = 0 ] && wrong=1
enroll svc -u "svc:${SECRET%?}$wrong"
is "a wrong secret: 401" "$STATUS" 401
enroll svc -u "other:$SECRET"
is "another client's secret: 401" "$STATUS" 401
csr oth other
enroll oth -u "svc:$SECRET"
is "a request for another CN: 400" "$STATUS" 400
csr weak svc -newkey rsa:1024
enroll weak -u "svc:$SECRET"
is "an RSA-1024 key: 400" "$STATUS" 400
# Flip a bit in the last byte: the ECDSA signature no longer verifies.
cp "$C/svc.der" "$C/badsig.der"
"$TSR_PYTHON" - "$C/badsig.der" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-1] ^= 1
open(p, "wb").write(b)
PY
base64 <"$C/badsig.der" >"$C/badsig.b64"
enroll badsig -u "svc:$SECRET"
is "a bad request signature: 400" "$STATUS" 400
printf 'not base64 at all!\n' >"$C/junk.b64"
enroll junk -u "svc:$SECRET"
is "a body that is not base64 DER: 400" "$STATUS" 400
enroll svc -u "svc:$SECRET"
is "the refusals did not spend the secret" "$STATUS" 200
SHORT=$(tsr cert enroll-token svc --ttl 1s)
sleep 2
enroll svc -u "svc:$SHORT"
is "an expired secret: 401" "$STATUS" 401
tsr client disable other >/dev/null
OSECRET=$(tsr cert enroll-token other)
sleep 1
enroll oth -u "other:$OSECRET"
is "a disabled client: 401" "$STATUS" 401
ok "every refusal is audited" test "$(sq \
    "SELECT count(*) FROM audit_events WHERE event = 'simpleenroll'
	AND outcome = 'denied'")" -ge 9

# --- simplereenroll ---------------------------------------------------
csr re1 svc
reenroll re1 "$C/svc.pem" "$C/svc-key.pem"
is "simplereenroll with the current certificate: 200" "$STATUS" 200
certs "$C/re1.pem"
ok "the renewed certificate chains to our CA" \
    openssl verify -CAfile "$C/ca.pem" "$C/re1.pem"
isnt "the renewed certificate is a new one" \
    "$(openssl x509 -in "$C/re1.pem" -noout -serial)" \
    "$(openssl x509 -in "$C/svc.pem" -noout -serial)"
STATUS=$(scurl -o "$T/out" -w '%{http_code}' --data-binary "@$C/re1.b64" \
    "$EST/simplereenroll")
is "simplereenroll without a certificate: 401" "$STATUS" 401
reenroll oth "$C/re1.pem" "$C/re1-key.pem"
is "simplereenroll for another CN: 400" "$STATUS" 400

# --- the CRL ----------------------------------------------------------
STATUS=$(scurl -o "$C/crl1.der" -D "$T/hdr" -w '%{http_code}' "$BASE/crl")
is "GET /crl: 200" "$STATUS" 200
like "GET /crl: application/pkix-crl" "$(cat "$T/hdr")" 'application/pkix-crl'
ok "openssl verifies the CRL with our CA" openssl crl -inform DER \
    -in "$C/crl1.der" -CAfile "$C/ca.pem" -noout
openssl crl -inform DER -in "$C/crl1.der" -text -noout >"$C/crl1.txt"
N1=$(sed -n '/CRL Number/{n;s/ //g;p}' "$C/crl1.txt")
STATUS=$(scurl -o "$C/crl1.pem" -w '%{http_code}' "$BASE/crl?pem")
like "GET /crl?pem: PEM" "$(head -1 "$C/crl1.pem")" 'BEGIN X509 CRL'

# --- revocation -------------------------------------------------------
SERIAL=$(openssl x509 -in "$C/re1.pem" -noout -serial | cut -d= -f2 |
    tr 'A-F' 'a-f')
token "$C/re1.pem" "$C/re1-key.pem"
is "before revocation the certificate gets a token" "$STATUS" 200
ok "cert revoke" tsr cert revoke "$SERIAL" --reason keyCompromise
sleep 1.2
token "$C/re1.pem" "$C/re1-key.pem"
is "a revoked certificate: 401 on /token within a second" "$STATUS" 401
csr re2 svc
reenroll re2 "$C/re1.pem" "$C/re1-key.pem"
is "a revoked certificate cannot renew: 401" "$STATUS" 401
scurl -o "$C/crl2.der" "$BASE/crl"
openssl crl -inform DER -in "$C/crl2.der" -text -noout >"$C/crl2.txt"
N2=$(sed -n '/CRL Number/{n;s/ //g;p}' "$C/crl2.txt")
ok "the CRL lists the serial" grep -qi "Serial Number: $SERIAL" "$C/crl2.txt"
like "with its reason" "$(cat "$C/crl2.txt")" 'Key Compromise'
ok "the CRL number grew" test $((16#$N2)) -gt $((16#$N1))
ok "the new CRL verifies" openssl crl -inform DER -in "$C/crl2.der" \
    -CAfile "$C/ca.pem" -noout
NU=$(openssl crl -inform DER -in "$C/crl2.der" -noout -nextupdate |
    cut -d= -f2)
LU=$(openssl crl -inform DER -in "$C/crl2.der" -noout -lastupdate |
    cut -d= -f2)
is "nextUpdate is thisUpdate + 24h" \
    $(($(date -d "$NU" +%s) - $(date -d "$LU" +%s))) 86400
token "$C/svc.pem" "$C/svc-key.pem"
is "an unrevoked certificate still gets a token" "$STATUS" 200

# --- inventory --------------------------------------------------------
tsr cert list --json >"$T/out"
json_check "cert list: every issued certificate" \
    'assert len(d["certificates"]) == 3 and all(c["client"] == "svc" for c in d["certificates"])'
json_check "cert list: the revoked one says so" \
    "assert [c['reason'] for c in d['certificates'] if c['serial'] == '$SERIAL'] == ['keyCompromise']"
tsr cert list --expiring 3h --json >"$T/out"
json_check "cert list --expiring 3h: the two live ones" \
    'assert len(d["certificates"]) == 2'
tsr cert list --expiring 1h --json >"$T/out"
json_check "cert list --expiring 1h: none" 'assert d["certificates"] == []'
STATUS=$(scurl -o "$T/out" -w '%{http_code}' "$BASE/metrics")
like "metric: certificates expiring within 7 days" "$(cat "$T/out")" \
    'tessera_certificates_expiring_7d 2'
ok "revoke --client" tsr cert revoke --client svc
tsr cert list --expiring 3h --json >"$T/out"
json_check "nothing of svc is left unrevoked" 'assert d["certificates"] == []'

# --- the CRL grows by one entry, and sheds expired ones when due -------
# A revocation signs the current CRL's entries again with one more; the
# CRL due every 8 hours is built anew from the store, without entries
# whose certificates have expired.
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 |
    tr 'A-F' 'a-f'; }
crl_number() { openssl crl -inform DER -in "$1" -noout -crlnumber |
    cut -d= -f2; }
# crl_text N: a CRL newer than $C/crl(N-1).der, fetched and verified,
# as text in $C/crlN.txt
crl_text() {
	local prev=$C/crl$(($1 - 1)).der
	# The server takes up a new CRL within a second.
	for _ in $(seq 30); do
		scurl -o "$C/crl$1.der" "$BASE/crl"
		[ "$(crl_number "$C/crl$1.der")" != "$(crl_number "$prev")" ] &&
		    break
		sleep 0.1
	done
	ok "CRL $1 verifies" openssl crl -inform DER -in "$C/crl$1.der" \
	    -CAfile "$C/ca.pem" -noout
	openssl crl -inform DER -in "$C/crl$1.der" -text -noout \
	    >"$C/crl$1.txt"
}
entries() { grep -c "Serial Number:" "$C/crl$1.txt"; }
crl_text 3
mkdir "$C/late1" "$C/late2"
tsr cert issue svc --out "$C/late1" >/dev/null
tsr cert issue svc --out "$C/late2" >/dev/null
L1=$(serial_of "$C/late1/svc.pem")
L2=$(serial_of "$C/late2/svc.pem")
ok "cert revoke (one more entry)" tsr cert revoke "$L1"
crl_text 4
is "the CRL has one entry more" "$(entries 4)" $(($(entries 3) + 1))
ok "the first revoked serial is still listed" \
    grep -qi "Serial Number: $SERIAL" "$C/crl4.txt"
ok "the new serial is listed" grep -qi "Serial Number: $L1" "$C/crl4.txt"
like "the old entry keeps its reason" "$(cat "$C/crl4.txt")" \
    'Key Compromise'
# $SERIAL's certificate has expired, and the CRL is 8 hours old.
sq "UPDATE certificates SET not_after = $(($(date +%s) - 60))
    WHERE serial = '$SERIAL'" >/dev/null
sq "UPDATE crl SET this_update = this_update - 8 * 3600" >/dev/null
ok "cert revoke (a CRL due anyway)" tsr cert revoke "$L2"
crl_text 5
ok "the expired certificate has left the CRL" \
    test "$(grep -ci "Serial Number: $SERIAL" "$C/crl5.txt")" = 0
ok "the other entries stay" grep -qi "Serial Number: $L1" "$C/crl5.txt"
is "one entry fewer, one more" "$(entries 5)" "$(entries 4)"

# --- client set --cert-ttl bounds ------------------------------------
ok "client set --cert-ttl 5m" tsr client set svc --cert-ttl 5m
ok "client set --cert-ttl 7d" tsr client set svc --cert-ttl 7d
exits "client set --cert-ttl 4m" 1 tsr client set svc --cert-ttl 4m
exits "client set --cert-ttl 8d" 1 tsr client set svc --cert-ttl 8d
exits "client add --cert-ttl 1m" 1 tsr client add x --cn x --cert-ttl 1m
tsr client show svc --json >"$T/out"
json_check "client show: the lifetime" 'assert d["cert_ttl_s"] == 604800'

stop_server
is "the server exits 0" "$SERVER_STATUS" 0
done_testing
