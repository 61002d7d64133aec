#!/usr/bin/env bash
# reload.sh: server certificate reload without SIGHUP (README "Operations:
# Certificates").  The server watches its TLS files: a new certificate
# and key written in place (cp) or renamed over (mv) are served to new
# handshakes within 2 s; a connection opened before keeps working; a
# garbage file or a certificate that does not match the key keeps the old
# credentials in service and the log says why.  At start: an expired or
# not yet valid certificate, or a key that does not match, is refused
# (exit 1, one clear line); the log names the certificate by its SHA-256
# and warns when it has less than 7 days left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null ||
    bail "cannot set up the policy"
GOOD="grant_type=client_credentials&audience=inventory"

# Server certificates from the same CA, each with a new key (python3-
# cryptography): tsr_server_cert.py PKI OUT NOT_BEFORE_DAYS NOT_AFTER_DAYS
# (days from now, may be negative) writes OUT.pem and OUT-key.pem.
cat >"$T/tsr_server_cert.py" <<'EOF'
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
pki, out, nb, na = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
with open(pki + "/ca.pem", "rb") as f:
    ca = x509.load_pem_x509_certificate(f.read())
with open(pki + "/ca-key.pem", "rb") as f:
    ca_key = serialization.load_pem_private_key(f.read(), None)
now = datetime.datetime.utcnow()
k = ec.generate_private_key(ec.SECP256R1())
crt = (x509.CertificateBuilder()
       .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
       .issuer_name(ca.subject).public_key(k.public_key())
       .serial_number(x509.random_serial_number())
       .not_valid_before(now + datetime.timedelta(days=nb))
       .not_valid_after(now + datetime.timedelta(days=na))
       .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
       .add_extension(x509.SubjectAlternativeName([
           x509.DNSName("localhost"),
           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
       .sign(ca_key, hashes.SHA256()))
with open(out + ".pem", "wb") as f:
    f.write(crt.public_bytes(serialization.Encoding.PEM))
with open(out + "-key.pem", "wb") as f:
    f.write(k.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()))
EOF
mkdir -m 0700 "$T/new"
for spec in "b -1 30" "c -1 30" "d -1 30" "expired -400 -1" "future 1 30" \
    "short -1 3"; do
	set -- $spec
	"$TSR_PYTHON" "$T/tsr_server_cert.py" "$PKI" "$T/new/$1" "$2" "$3" ||
	    bail "python3-cryptography could not make server certificate $1"
done

file_sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
cat >"$T/tsr_peer_sha256.py" <<'EOF'
import hashlib, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
    with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
        print(hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest())
EOF
# served_sha: SHA-256 of the certificate a new handshake gets (verified
# against the CA, so a broken certificate would not do either)
served_sha() { "$TSR_PYTHON" "$T/tsr_peer_sha256.py" "$PORT" "$PKI/ca.pem" 2>/dev/null; }
sha_is() { [ "$(served_sha)" = "$1" ]; }
count() { grep -c -F -- "$1" "$T/server.log"; }

a_sha=$(file_sha "$PKI/server.pem")
b_sha=$(file_sha "$T/new/b.pem")
c_sha=$(file_sha "$T/new/c.pem")
start_server || bail "the server did not start"

# --- the start log -----------------------------------------------------------------
grep -q "TLS certificate sha256=$a_sha " "$T/server.log"
tap_ok $? "start: the log has the server certificate's SHA-256"
grep -q "client CA bundle: 1 certificate(s), first sha256=$(file_sha "$PKI/ca.pem")" \
    "$T/server.log"
tap_ok $? "start: the log has the client CA's SHA-256"
is "start: no expiry warning for a certificate of 825 days" \
    "$(count 'expires in less than')" 0
is "start: a new handshake gets server.pem" "$(served_sha)" "$a_sha"

# --- a keep-alive connection opened before the reloads ----------------------------
# tsr_keepalive.py: one HTTPS connection with a client certificate; a
# token request now, then (once $T/ka.go exists) another on the same
# socket.  Reports "1 STATUS SERVER-SHA" and "2 STATUS SAME-SOCKET".
cat >"$T/tsr_keepalive.py" <<'EOF'
import hashlib, http.client, os, ssl, sys, time
port, pki, body, go, out = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/order-service.pem", pki + "/order-service-key.pem")
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=20)
hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
def post():
    c.request("POST", "/token", body, hdrs)
    r = c.getresponse()
    r.read()
    return r.status
def say(line):
    with open(out, "a") as f:
        f.write(line + "\n")
st = post()
sock = c.sock
sha = hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest() if sock else "-"
say("1 %d %s" % (st, sha))
deadline = time.time() + 40
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.05)
try:
    st = post()
    say("2 %d %s" % (st, "same" if (sock is not None and c.sock is sock) else "new"))
except Exception as e:
    say("2 000 %s" % type(e).__name__)
EOF
"$TSR_PYTHON" "$T/tsr_keepalive.py" "$PORT" "$PKI" "$GOOD" "$T/ka.go" \
    "$T/ka.out" 2>"$T/ka.err" &
ka_pid=$!
ka_line() { grep "^$1 " "$T/ka.out" 2>/dev/null; }
ka_has() { grep -q "^$1 " "$T/ka.out" 2>/dev/null; }
poll_until 10000 ka_has 1
is "keep-alive: the first request (before the reloads)" "$(ka_line 1)" \
    "1 200 $a_sha"

# --- written in place (cp) -------------------------------------------------------------
reloads=$(count 'TLS credentials reloaded')
cp "$T/new/b-key.pem" "$PKI/server-key.pem"
cp "$T/new/b.pem" "$PKI/server.pem"
poll_until 2000 sha_is "$b_sha"
tap_ok $? "cp over the files: new handshakes get the new certificate within 2 s (${POLL_MS} ms)"
[ "$(count 'TLS credentials reloaded')" -gt "$reloads" ]
tap_ok $? "cp: the log says the credentials were reloaded"
grep -q "TLS certificate sha256=$b_sha " "$T/server.log"
tap_ok $? "cp: the log names the new certificate by its SHA-256"
post_token order-service "$GOOD"
is "cp: a token over a new connection" "$STATUS" 200

# The connection from before the reload still works, on the same socket.
touch "$T/ka.go"
poll_until 10000 ka_has 2
is "keep-alive: the connection from before the reload still answers" \
    "$(ka_line 2)" "2 200 same"
wait "$ka_pid" 2>/dev/null
[ -s "$T/ka.err" ] && diag "keep-alive client: $(cat "$T/ka.err")"

# --- renamed over (mv), as certificate tools and Kubernetes do ---------------
cp "$T/new/c-key.pem" "$PKI/.server-key.pem.tmp"
cp "$T/new/c.pem" "$PKI/.server.pem.tmp"
mv "$PKI/.server-key.pem.tmp" "$PKI/server-key.pem"
mv "$PKI/.server.pem.tmp" "$PKI/server.pem"
poll_until 2000 sha_is "$c_sha"
tap_ok $? "mv over the files: new handshakes get the new certificate within 2 s (${POLL_MS} ms)"
post_token order-service "$GOOD"
is "mv: a token over a new connection" "$STATUS" 200

# --- a garbage certificate file: the old credentials stay ------------------------
failed_line='TLS reload failed, keeping the old credentials'
fails=$(count "$failed_line")
printf 'garbage, not a certificate\n' >"$PKI/server.pem"
more_fails() { [ "$(count "$failed_line")" -gt "$fails" ]; }
poll_until 2000 more_fails
tap_ok $? "garbage certificate: the log says the reload failed within 2 s (${POLL_MS} ms)"
like "garbage certificate: the log line names the file" \
    "$(grep -F "$failed_line" "$T/server.log" | tail -n 1)" \
    "keeping the old credentials: .*server\.pem"
is "garbage certificate: new handshakes still get the last good certificate" \
    "$(served_sha)" "$c_sha"
post_token order-service "$GOOD"
is "garbage certificate: tokens still issued" "$STATUS" 200
ok "garbage certificate: the server is still running" kill -0 "$SERVER_PID"

# --- a certificate that does not match the key: the old ones stay ----------------
# server.pem = b's certificate, server-key.pem = c's key.
fails=$(count "$failed_line")
cp "$T/new/b.pem" "$PKI/server.pem"
poll_until 2000 more_fails
tap_ok $? "certificate/key mismatch: the log says the reload failed within 2 s (${POLL_MS} ms)"
like "certificate/key mismatch: the log line names both files" \
    "$(grep -F "$failed_line" "$T/server.log" | tail -n 1)" \
    'server\.pem and .*server-key\.pem: '
is "certificate/key mismatch: new handshakes still get the last good certificate" \
    "$(served_sha)" "$c_sha"
http_get /healthz
is "certificate/key mismatch: healthz 200" "$STATUS" 200
# The matching certificate back: reloaded again.
reloads=$(count 'TLS credentials reloaded')
cp "$T/new/c.pem" "$PKI/server.pem"
more_reloads() { [ "$(count 'TLS credentials reloaded')" -gt "$reloads" ]; }
poll_until 2000 more_reloads
tap_ok $? "the matching certificate back: reloaded (${POLL_MS} ms)"
is "the matching certificate back: served" "$(served_sha)" "$c_sha"
stop_server
is "SIGTERM after the reloads: exit 0" "$SERVER_STATUS" 0

# --- start-up checks ------------------------------------------------------------------
# serve_with CERT KEY: run tessera serve (bounded: it must not start)
serve_with() {
	run timeout 20 "$TSR_BIN" --db "$DB" --key-dir "$KEYS" serve \
	    --listen 127.0.0.1:0 --tls-cert "$1" --tls-key "$2" \
	    --client-ca "$PKI/ca.pem"
}
# refuses_start DESC CERT KEY ERE: exit 1, the last stderr line matches ERE
refuses_start() {
	serve_with "$2" "$3"
	local last
	last=$(tail -n 1 "$T/err")
	if [ "$RC" -eq 1 ] && [[ "$last" =~ $4 ]]; then
		pass "$1"
	else
		fail "$1" "want exit 1 and a last line matching /$4/" \
		    "exit: $RC" "stderr: $(tail -n 5 "$T/err")"
	fi
}
refuses_start "start with an expired certificate: exit 1, says so" \
    "$T/new/expired.pem" "$T/new/expired-key.pem" \
    'expired\.pem: certificate has expired'
refuses_start "start with a certificate not yet valid: exit 1, says so" \
    "$T/new/future.pem" "$T/new/future-key.pem" \
    'future\.pem: certificate is not yet valid'
refuses_start "start with a key that does not match: exit 1, says so" \
    "$T/new/b.pem" "$T/new/d-key.pem" 'b\.pem and .*d-key\.pem: '
printf 'garbage, not a certificate\n' >"$T/new/garbage.pem"
refuses_start "start with a garbage certificate: exit 1, says so" \
    "$T/new/garbage.pem" "$T/new/d-key.pem" 'garbage\.pem'

# A certificate with 3 days left: the server starts, and warns.
cp "$T/new/short.pem" "$PKI/server.pem"
cp "$T/new/short-key.pem" "$PKI/server-key.pem"
: >"$T/server.log"
start_server || bail "the server did not start with a 3-day certificate"
grep -Eq "TLS certificate sha256=$(file_sha "$T/new/short.pem") expires in [23] day" \
    "$T/server.log"
tap_ok $? "3 days left: the start log names the certificate and its days"
grep -Eq ' warn(ing)? TLS certificate expires in less than 7 days' "$T/server.log"
tap_ok $? "3 days left: the start log warns"
is "3 days left: the certificate is served" "$(served_sha)" \
    "$(file_sha "$T/new/short.pem")"

done_testing
