#!/usr/bin/env bash
# cert_matrix.sh: client authentication on POST /token ("Client
# authentication").  Every certificate that is missing, untrusted, outside
# its validity, revoked, without clientAuth when it has an EKU, or whose
# CN is not an enabled client of the policy gets 401 invalid_client; the
# positive controls (same CN, good certificate) get 200.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
pki=$PKI
devpki() { "$TSR_SRCDIR/scripts/dev-pki" "$pki" "$@" >/dev/null; }

# Certificates from our CA (scripts/dev-pki).  All but "stranger" carry
# the CN of an enabled client, so only the certificate itself is wrong.
devpki --client expired --cn order-service \
    --not-before '2020-01-01 00:00:00' --not-after '2021-01-01 00:00:00' &&
    devpki --client future --cn order-service \
	--not-before '2090-01-01 00:00:00' --not-after '2091-01-01 00:00:00' &&
    devpki --client server-eku --cn order-service --eku server &&
    devpki --client no-eku --cn order-service --eku none &&
    devpki --client stranger --cn stranger-service &&
    devpki --client ca-named --cn "tessera development CA" &&
    devpki --client revoked --cn order-service ||
    bail "dev-pki could not make the client certificates"

# A second, unrelated CA with its own order-service certificate.
"$TSR_SRCDIR/scripts/dev-pki" "$T/pki2" >/dev/null || bail "second PKI"
cp "$T/pki2/order-service.pem" "$pki/other-ca.pem"
cp "$T/pki2/order-service-key.pem" "$pki/other-ca-key.pem"

# Certificates dev-pki cannot make, with python3-cryptography.
cat >"$T/tsr_forge.py" <<'EOF'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

pki, mode, out = sys.argv[1:4]
with open(pki + "/ca.pem", "rb") as f:
    ca = x509.load_pem_x509_certificate(f.read())
with open(pki + "/ca-key.pem", "rb") as f:
    ca_key = serialization.load_pem_private_key(f.read(), None)
now = datetime.datetime.utcnow()

def key():
    return ec.generate_private_key(ec.SECP256R1())

def build(subject, issuer, pub, sign_key, is_ca=False):
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer).public_key(pub)
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None),
                        critical=True))
    if is_ca:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return b.sign(sign_key, hashes.SHA256())

def cn(*names):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, n)
                      for n in names])

pems = []
k = key()
if mode == "self-signed-ca-dn":
    # An attacker's certificate: subject = issuer = our CA's subject
    # name, signed by the attacker's own key.
    pems.append(build(ca.subject, ca.subject, k.public_key(), k))
elif mode == "forged-chain":
    # A fake CA with our CA's exact subject name, and an order-service
    # leaf it signed; the client sends both.
    fk = key()
    fake = build(ca.subject, ca.subject, fk.public_key(), fk, is_ca=True)
    pems.append(build(cn("order-service"), ca.subject, k.public_key(), fk))
    pems.append(fake)
elif mode == "leaf-own-key":
    # Names our CA as issuer but is signed by the leaf's own key.
    pems.append(build(cn("order-service"), ca.subject, k.public_key(), k))
elif mode == "two-cn":
    pems.append(build(cn("order-service", "billing-service"), ca.subject,
                      k.public_key(), ca_key))
elif mode == "no-cn":
    pems.append(build(x509.Name([x509.NameAttribute(
        NameOID.ORGANIZATION_NAME, "order-service")]), ca.subject,
        k.public_key(), ca_key))
elif mode == "good":
    # Control: the same code path, honestly signed by our CA.
    pems.append(build(cn("order-service"), ca.subject, k.public_key(),
                      ca_key))
else:
    sys.exit("unknown mode " + mode)
with open(out + ".pem", "wb") as f:
    for c in pems:
        f.write(c.public_bytes(serialization.Encoding.PEM))
with open(out + "-key.pem", "wb") as f:
    f.write(k.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()))
EOF
for m in self-signed-ca-dn forged-chain leaf-own-key two-cn no-cn good; do
	"$TSR_PYTHON" "$T/tsr_forge.py" "$pki" "$m" "$pki/py-$m" ||
	    bail "python3-cryptography could not make the $m certificate"
done

# A CRL from our CA revoking the "revoked" certificate.
cat >"$T/crl.tmpl" <<'EOF'
crl_next_update = 30
crl_number = 1
EOF
certtool --generate-crl --load-ca-privkey "$pki/ca-key.pem" \
    --load-ca-certificate "$pki/ca.pem" --load-certificate "$pki/revoked.pem" \
    --template "$T/crl.tmpl" --outfile "$pki/crl.pem" >/dev/null 2>&1 ||
    bail "certtool could not make the CRL"

tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr client add ca-lookalike --cn "tessera development CA" >/dev/null &&
    tsr grant add order-service inventory --scope stock:read >/dev/null &&
    tsr grant add billing-service inventory >/dev/null &&
    tsr grant add ca-lookalike inventory >/dev/null ||
    bail "cannot set up the policy"

start_server || bail "the server did not start"
REQ="grant_type=client_credentials&audience=inventory"

# as CLIENT: POST the good request as $PKI/CLIENT.pem
as() { post_token "$1" "$REQ"; }

# accepted DESC CLIENT: 200 with a token
accepted() {
	as "$2"
	TOKEN=$(json 'd.get("access_token", "")' <"$T/out" 2>/dev/null)
	token_ok "$1"
}
# rejected DESC CLIENT: 401 invalid_client, no token, database unchanged
rejected() {
	local before
	before=$(policy_checksum "$DB")
	as "$2"
	if [ "$(policy_checksum "$DB")" != "$before" ]; then
		fail "$1" "the database changed"
	else
		oauth_error "$1" 401 invalid_client
	fi
}

# --- positive controls ---------------------------------------------------------
accepted "control: order-service's certificate gets 200" order-service
accepted "control: billing-service's certificate gets 200" billing-service
accepted "control: a certificate without an EKU extension is accepted" no-eku
accepted "control: a python-made certificate signed by our CA gets 200" \
    py-good
accepted "control: a valid certificate with CN = the CA's CN gets 200" \
    ca-named

# --- the matrix ------------------------------------------------------------------
rejected "no certificate: 401 invalid_client" -
rejected "certificate from another CA: 401 invalid_client" other-ca
rejected "expired certificate (not after 2021): 401 invalid_client" expired
rejected "certificate not yet valid (not before 2090): 401 invalid_client" \
    future
rejected "serverAuth-only EKU: 401 invalid_client" server-eku
rejected "self-signed certificate with the CA's subject name: 401 invalid_client" \
    py-self-signed-ca-dn
rejected "leaf naming our CA as issuer, signed by its own key: 401 invalid_client" \
    py-leaf-own-key
rejected "chain through a fake CA with our CA's subject name: 401 invalid_client" \
    py-forged-chain
rejected "unknown CN (valid certificate from our CA): 401 invalid_client" \
    stranger
rejected "two CommonNames, both clients: 401 invalid_client" py-two-cn
rejected "no CommonName: 401 invalid_client" py-no-cn
# Our CA's own certificate (CA:TRUE, keyUsage certSign/cRLSign only, no
# digitalSignature) cannot sign the TLS handshake: GnuTLS drops the
# connection before any HTTP answer, or the server answers 401.  Either
# way no token.
: >"$T/out"
as ca
if [ "$STATUS" = 000 ] || { [ "$STATUS" = 401 ] &&
    [ "$(cat "$T/out")" = '{"error":"invalid_client"}' ]; }; then
	pass "our CA's own certificate as a client certificate: refused"
else
	fail "our CA's own certificate as a client certificate: refused" \
	    "status $STATUS" "body: $(head -c 300 "$T/out")"
fi

ok "client disable billing-service" tsr client disable billing-service
poll_until 1500 eval 'as billing-service; [ "$STATUS" = 401 ]'
rejected "disabled client: 401 invalid_client" billing-service
accepted "disabling billing-service leaves order-service alone" order-service
ok "client enable billing-service" tsr client enable billing-service
poll_until 1500 eval 'as billing-service; [ "$STATUS" = 200 ]'
accepted "enabled again: billing-service gets 200" billing-service

# --- revocation through a CRL ------------------------------------------------------
accepted "without --client-crl the revoked certificate still works" revoked
stop_server
start_server --client-crl "$pki/crl.pem" ||
    bail "the server did not start with --client-crl"
rejected "certificate revoked by the CRL: 401 invalid_client" revoked
accepted "with the CRL, order-service's certificate gets 200" order-service
rejected "with the CRL, an expired certificate is still refused" expired

done_testing
