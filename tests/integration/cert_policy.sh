#!/usr/bin/env bash
# cert_policy.sh: what a client certificate must be beyond a chain that
# verifies (README "Certificates").  Each of these is signed by our CA,
# carries the CN of an enabled client and is within its validity, yet
# gets 401 invalid_client: a CA certificate (CA:TRUE, keyCertSign) used as
# a client certificate; a certificate that CA certificate issued for
# another client (sent with it as the chain); an EKU of only
# anyExtendedKeyUsage; an RSA-1024 key.  Controls made by the same code
# (EKU clientAuth, P-256 and RSA-2048 keys) get 200.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
pki=$PKI

cat >"$T/tsr_forge.py" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

pki, mode, out = sys.argv[1:4]
with open(pki + "/ca.pem", "rb") as f:
    ca = x509.load_pem_x509_certificate(f.read())
with open(pki + "/ca-key.pem", "rb") as f:
    ca_key = serialization.load_pem_private_key(f.read(), None)
now = datetime.datetime.utcnow()

def cn(name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])

def build(subject, issuer, pub, sign_key, is_ca=False,
          eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)):
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer).public_key(pub)
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None),
                        critical=True)
         .add_extension(x509.KeyUsage(
             digital_signature=True, content_commitment=False,
             key_encipherment=False, data_encipherment=False,
             key_agreement=False, key_cert_sign=is_ca, crl_sign=is_ca,
             encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False))
    return b.sign(sign_key, hashes.SHA256())

def save(name, certs, key):
    with open(name + ".pem", "wb") as f:
        for c in certs:
            f.write(c.public_bytes(serialization.Encoding.PEM))
    with open(name + "-key.pem", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))

p256 = lambda: ec.generate_private_key(ec.SECP256R1())
rsa_key = lambda bits: rsa.generate_private_key(65537, bits)
if mode == "ca-leaf":
    # A CA:TRUE, keyCertSign certificate for order-service (issued by
    # mistake); its holder then issues one for billing-service.
    k = p256()
    sub = build(cn("order-service"), ca.subject, k.public_key(), ca_key,
                is_ca=True)
    save(out, [sub], k)
    k2 = p256()
    save(out + "-issued", [build(cn("billing-service"), sub.subject,
                                 k2.public_key(), k), sub], k2)
elif mode == "any-eku":
    k = p256()
    save(out, [build(cn("order-service"), ca.subject, k.public_key(),
                     ca_key, eku=(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,))],
         k)
elif mode in ("rsa1024", "rsa2048"):
    k = rsa_key(int(mode[3:]))
    save(out, [build(cn("order-service"), ca.subject, k.public_key(),
                     ca_key)], k)
elif mode == "good":
    k = p256()
    save(out, [build(cn("order-service"), ca.subject, k.public_key(),
                     ca_key)], k)
else:
    sys.exit("unknown mode " + mode)
PY
for m in ca-leaf any-eku rsa1024 rsa2048 good; do
	"$TSR_PYTHON" "$T/tsr_forge.py" "$pki" "$m" "$pki/py-$m" ||
	    bail "python3-cryptography could not make the $m certificate"
done

tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null &&
    tsr grant add billing-service inventory >/dev/null ||
    bail "cannot set up the policy"

start_server || bail "the server did not start"
REQ="grant_type=client_credentials&audience=inventory"
as() { post_token "$1" "$REQ"; }
accepted() {
	as "$2"
	TOKEN=$(json 'd.get("access_token", "")' <"$T/out" 2>/dev/null)
	token_ok "$1"
}
rejected() { as "$2"; oauth_error "$1" 401 invalid_client; }

accepted "control: a python-made P-256 clientAuth certificate gets 200" py-good
accepted "control: an RSA-2048 key gets 200" py-rsa2048
rejected "a CA:TRUE keyCertSign certificate as a client certificate: 401" \
    py-ca-leaf
rejected "a certificate issued by that CA certificate (chain sent): 401" \
    py-ca-leaf-issued
rejected "an EKU of only anyExtendedKeyUsage: 401" py-any-eku
# OpenSSL (curl's TLS library) will not load an RSA-1024 key at its
# default security level; this python client lowers it to 0 to try.
cat >"$T/tsr_weak.py" <<'PY'
import http.client, ssl, sys
port, pki, name, body = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
ctx.load_cert_chain(pki + "/" + name + ".pem", pki + "/" + name + "-key.pem")
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
try:
    c.request("POST", "/token", body, {"Content-Type":
              "application/x-www-form-urlencoded"})
    r = c.getresponse()
    sys.stdout.buffer.write(r.read())
    sys.stderr.write(str(r.status))
except OSError:
    sys.stderr.write("000")
PY
weak() {
	STATUS=$("$TSR_PYTHON" "$T/tsr_weak.py" "$PORT" "$pki" "$1" "$REQ" \
	    2>&1 >"$T/out")
}
weak py-rsa2048
is "control: the python client with an RSA-2048 key gets 200" "$STATUS" 200
weak py-rsa1024
oauth_error "an RSA-1024 key: 401" 401 invalid_client
accepted "control: billing-service's own certificate still gets 200" \
    billing-service

done_testing
