#!/usr/bin/env bash
# serve_ops.sh: the running server ("GET /.well-known/jwks.json",
# "Discovery", "Operations endpoints", "The tessera program"): JWKS and
# its caching headers, both discovery documents, /healthz, policy and key
# changes seen live within a second, SIGHUP reloading the TLS
# certificate (and surviving a bad one), SIGTERM draining requests in
# flight and exiting 0, and the TLS versions offered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr grant add order-service inventory --scope stock:read >/dev/null ||
    bail "cannot set up the policy"
ISSUER=https://auth.example.test:8443/tessera
start_server --issuer "$ISSUER" --jwks-max-age 7m ||
    bail "the server did not start"
# On SQLite nothing of PostgreSQL's client library is loaded.
if ! pg_mode; then
	grep -q 'libpq\.so' "/proc/$SERVER_PID/maps"
	is "the server on SQLite has not loaded libpq" "$?" 1
fi
GOOD="grant_type=client_credentials&audience=inventory"

# --- JWKS --------------------------------------------------------------------
http_get /.well-known/jwks.json
cp "$T/out" "$T/jwks1.json"
is "jwks: 200" "$STATUS" 200
is "jwks: Cache-Control public, max-age of --jwks-max-age 7m" \
    "$(header Cache-Control)" "public, max-age=420"
like "jwks: Content-Type application/json" "$(header Content-Type)" \
    '^application/json'
ETAG=$(header ETag)
like "jwks: a strong, quoted ETag" "$ETAG" '^"[^"]+"$'
json_check "jwks: exactly one member, keys, with 2 keys (active and next)" "
assert list(d) == ['keys'], list(d)
assert len(d['keys']) == 2, len(d['keys'])
"
json_check "jwks: every key has exactly kty use alg kid n e" "
for k in d['keys']:
    assert sorted(k) == ['alg', 'e', 'kid', 'kty', 'n', 'use'], sorted(k)
"
json_check "jwks: kty RSA, use sig, alg RS256, e AQAB" "
for k in d['keys']:
    assert (k['kty'], k['use'], k['alg'], k['e']) == ('RSA', 'sig', 'RS256', 'AQAB'), k
"
json_check "jwks: no private members (d p q dp dq qi oth k)" "
for k in d['keys']:
    assert not set(k) & {'d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'}, k
"
json_check "jwks: n is a 2048-bit modulus in base64url without padding" "
import base64, re
for k in d['keys']:
    assert re.fullmatch(r'[A-Za-z0-9_-]+', k['n']), k['n']
    n = base64.urlsafe_b64decode(k['n'] + '=' * (-len(k['n']) % 4))
    assert len(n) == 256 and n[0] >= 0x80, len(n)
"
ok "jwks: every kid is the RFC 7638 thumbprint of its key (jwcrypto)" \
    "$TSR_PYTHON" -c '
import json, sys
from jwcrypto import jwk
ks = json.load(open(sys.argv[1]))["keys"]
kids = [k["kid"] for k in ks]
assert len(set(kids)) == len(kids), kids
for k in ks:
    assert jwk.JWK(**k).thumbprint() == k["kid"], k["kid"]
' "$T/jwks1.json"
tsr key list --json >"$T/keys.json" 2>/dev/null
ok "jwks: the published kids are the store's active and next keys" \
    "$TSR_PYTHON" -c '
import json, sys
jwks = {k["kid"] for k in json.load(open(sys.argv[1]))["keys"]}
st = {k["kid"]: k["state"] for k in json.load(open(sys.argv[2]))["keys"]}
want = {kid for kid, s in st.items() if s in ("active", "next")}
assert sorted(st[k] for k in want) == ["active", "next"], st
assert jwks == want, (jwks, st)
' "$T/jwks1.json" "$T/keys.json"

http_get /.well-known/jwks.json -H "If-None-Match: $ETAG"
is "jwks: matching If-None-Match: 304" "$STATUS" 304
is "jwks: the 304 has an empty body" "$(wc -c <"$T/out")" 0
is "jwks: the 304 carries the same ETag" "$(header ETag)" "$ETAG"
http_get /.well-known/jwks.json -H "If-None-Match: \"other\", $ETAG"
is "jwks: If-None-Match list containing the tag: 304" "$STATUS" 304
http_get /.well-known/jwks.json -H "If-None-Match: W/$ETAG"
is "jwks: weak form of the tag (weak comparison): 304" "$STATUS" 304
http_get /.well-known/jwks.json -H 'If-None-Match: "not-the-etag"'
is "jwks: non-matching If-None-Match: 200" "$STATUS" 200
cmp -s "$T/out" "$T/jwks1.json"
tap_ok $? "jwks: the non-matching request gets the full document"
http_get /.well-known/jwks.json -H "If-None-Match: ${ETAG%\"}x\""
is "jwks: the tag with one character more does not match: 200" "$STATUS" 200
http_get /.well-known/jwks.json
is "jwks: the document is stable: same ETag again" "$(header ETag)" "$ETAG"

# The token's kid is the active key, one of the two published.
post_token order-service "$GOOD"
cp "$T/out" "$T/tok.json"
ok "jwks: the token's kid is published" "$TSR_PYTHON" -c '
import base64, json, sys
tok = json.load(open(sys.argv[1]))["access_token"]
h = tok.split(".")[0]
kid = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"]
assert kid in {k["kid"] for k in json.load(open(sys.argv[2]))["keys"]}, kid
' "$T/tok.json" "$T/jwks1.json"

# Key changes by the CLI are published within a second.
ok "key rotate (CLI, while serving)" tsr key rotate
jwks_changed() {
	http_get /.well-known/jwks.json -H "If-None-Match: $ETAG"
	[ "$STATUS" = 200 ]
}
poll_until 1500 jwks_changed
tap_ok $? "jwks: after key rotate the old ETag no longer matches (${POLL_MS} ms)"
cp "$T/out" "$T/jwks2.json"
isnt "jwks: a new ETag after key rotate" "$(header ETag)" "$ETAG"
tsr key list --json >"$T/keys.json" 2>/dev/null
ok "jwks: after rotation: the retired key, the new active and the new next" \
    "$TSR_PYTHON" -c '
import json, sys
old = {k["kid"] for k in json.load(open(sys.argv[1]))["keys"]}
new = {k["kid"] for k in json.load(open(sys.argv[2]))["keys"]}
st = {k["kid"]: k["state"] for k in json.load(open(sys.argv[3]))["keys"]}
assert sorted(st[k] for k in new) == ["active", "next", "retired"], (new, st)
assert old <= new, (old, new)
' "$T/jwks1.json" "$T/jwks2.json" "$T/keys.json"
signed_by_active() {
	post_token order-service "$GOOD"
	"$TSR_PYTHON" -c '
import base64, json, sys
tok = json.load(open(sys.argv[1]))["access_token"]
h = tok.split(".")[0]
kid = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"]
st = {k["kid"]: k["state"] for k in json.load(open(sys.argv[2]))["keys"]}
sys.exit(0 if st.get(kid) == "active" else 1)
' "$T/out" "$T/keys.json"
}
poll_until 1500 signed_by_active
tap_ok $? "after key rotate, tokens are signed by the new active key (${POLL_MS} ms)"

# --- discovery ---------------------------------------------------------------
for doc in oauth-authorization-server openid-configuration; do
	http_get "/.well-known/$doc"
	cp "$T/out" "$T/$doc.json"
	is "$doc: 200" "$STATUS" 200
	json_check "$doc: issuer is the --issuer given" "
assert d['issuer'] == '$ISSUER', d['issuer']
"
	json_check "$doc: token_endpoint = issuer + /token" "
assert d['token_endpoint'] == '$ISSUER/token', d['token_endpoint']
"
	json_check "$doc: jwks_uri = issuer + /.well-known/jwks.json" "
assert d['jwks_uri'] == '$ISSUER/.well-known/jwks.json', d['jwks_uri']
"
	json_check "$doc: revocation_endpoint = issuer + /revoke, tls_client_auth" "
assert d['revocation_endpoint'] == '$ISSUER/revoke', d
assert d['revocation_endpoint_auth_methods_supported'] == ['tls_client_auth'], d
"
	json_check "$doc: introspection_endpoint = issuer + /introspect, tls_client_auth" "
assert d['introspection_endpoint'] == '$ISSUER/introspect', d
assert d['introspection_endpoint_auth_methods_supported'] == ['tls_client_auth'], d
"
	json_check "$doc: grant_types_supported [client_credentials]" "
assert d['grant_types_supported'] == ['client_credentials'], d
"
	json_check "$doc: token_endpoint_auth_methods_supported [tls_client_auth]" "
assert d['token_endpoint_auth_methods_supported'] == ['tls_client_auth'], d
"
	json_check "$doc: tls_client_certificate_bound_access_tokens true" "
assert d['tls_client_certificate_bound_access_tokens'] is True, d
"
	json_check "$doc: response_types_supported, subject_types_supported: non-empty string lists" "
for m in ('response_types_supported', 'subject_types_supported'):
    v = d[m]
    assert isinstance(v, list) and v and all(isinstance(x, str) for x in v), (m, v)
"
	json_check "$doc: id_token_signing_alg_values_supported [RS256]" "
assert d['id_token_signing_alg_values_supported'] == ['RS256'], d
"
done
cmp -s "$T/oauth-authorization-server.json" "$T/openid-configuration.json"
tap_ok $? "discovery: both documents are the same"

# --- /healthz ----------------------------------------------------------------
http_get /healthz
is "healthz: 200" "$STATUS" 200
json_check "healthz: exactly {\"status\":\"ok\"}" "assert d == {'status': 'ok'}, d"

# --- the policy, live ------------------------------------------------------------
post_token order-service "grant_type=client_credentials&audience=shipping"
oauth_error "live: before grant add, shipping is not granted" 400 invalid_target
ok "live: grant add order-service shipping" \
    tsr grant add order-service shipping --scope ship:create
aud_is() {	# aud_is AUDIENCE STATUS
	post_token order-service "grant_type=client_credentials&audience=$1"
	[ "$STATUS" = "$2" ]
}
poll_until 1500 aud_is shipping 200
tap_ok $? "live: a token for the new audience within 1 s (${POLL_MS} ms)"
json_check "live: the new grant's scope" "assert d['scope'] == 'ship:create', d"
ok "live: grant remove order-service shipping" \
    tsr grant remove order-service shipping
poll_until 1500 aud_is shipping 400
tap_ok $? "live: after grant remove, refused within 1 s (${POLL_MS} ms)"
oauth_error "live: after grant remove: 400 invalid_target" 400 invalid_target
ok "live: client disable order-service" tsr client disable order-service
poll_until 1500 aud_is inventory 401
tap_ok $? "live: a disabled client is refused within 1 s (${POLL_MS} ms)"
oauth_error "live: disabled: 401 invalid_client" 401 invalid_client
ok "live: client enable order-service" tsr client enable order-service
poll_until 1500 aud_is inventory 200
tap_ok $? "live: enabled again, a token within 1 s (${POLL_MS} ms)"

# --- TLS versions --------------------------------------------------------------
# curl (OpenSSL) refuses TLS 1.1 itself at its default security level;
# SECLEVEL=0 lets it offer TLS 1.1, so a failure is the server's refusal.
tls11=(--tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT@SECLEVEL=0')
# Port 0: s_server reports the port it got as "ACCEPT 127.0.0.1:PORT".
openssl s_server -accept 127.0.0.1:0 -cert "$PKI/server.pem" \
    -key "$PKI/server-key.pem" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' -www \
    >"$T/s_server.out" 2>&1 </dev/null &
s_server=$!
s_server_port() {
	port2=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
	    "$T/s_server.out")
	[ -n "$port2" ]
}
poll_until 3000 s_server_port || diag "s_server: $(cat "$T/s_server.out")"
poll_until 3000 curl -s -o /dev/null --max-time 2 --cacert "$PKI/ca.pem" \
    "${tls11[@]}" "https://127.0.0.1:$port2/"
tap_ok $? "tls: control: this curl speaks TLS 1.1 to a TLS 1.1 server"
kill "$s_server" 2>/dev/null
wait "$s_server" 2>/dev/null
curl -s -o /dev/null --max-time 5 --cacert "$PKI/ca.pem" "${tls11[@]}" \
    "$BASE/healthz"
is "tls: TLS 1.1 is refused (curl exit 35, handshake failure)" "$?" 35
for v in 1.2 1.3; do
	got=$(curl -s -o /dev/null --max-time 5 --cacert "$PKI/ca.pem" \
	    "--tlsv$v" --tls-max "$v" -w '%{http_code}' "$BASE/healthz")
	is "tls: TLS $v works" "$got" 200
done
got=$(ccurl order-service --tlsv1.2 --tls-max 1.2 -o /dev/null \
    -w '%{http_code}' --data-binary "$GOOD" "$BASE/token")
is "tls: a token over TLS 1.2 with a client certificate" "$got" 200
got=$(ccurl order-service --tlsv1.3 -o /dev/null -w '%{http_code}' \
    --data-binary "$GOOD" "$BASE/token")
is "tls: a token over TLS 1.3 with a client certificate" "$got" 200

# --- SIGHUP: reload the TLS certificate -----------------------------------------
cat >"$T/tsr_peer_sha256.py" <<'EOF'
import hashlib, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
    with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
        print(hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest())
EOF
served_sha() { "$TSR_PYTHON" "$T/tsr_peer_sha256.py" "$PORT" "$PKI/ca.pem"; }
file_sha() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

old_sha=$(file_sha "$PKI/server.pem")
is "sighup: the server presents server.pem" "$(served_sha)" "$old_sha"
# SIGHUP reloads even when nothing changed on disk (the server may also
# reload on its own when a file changes; a signal must not depend on it).
reloads=$(grep -c 'TLS credentials reloaded' "$T/server.log")
kill -HUP "$SERVER_PID"
reloaded() {
	[ "$(grep -c 'TLS credentials reloaded' "$T/server.log")" -gt "$reloads" ]
}
poll_until 2000 reloaded
tap_ok $? "sighup with unchanged files: the credentials are reloaded (${POLL_MS} ms)"
is "sighup with unchanged files: the same certificate" "$(served_sha)" \
    "$old_sha"
post_token order-service "$GOOD"
is "sighup with unchanged files: tokens still issued" "$STATUS" 200
# A second server certificate from the same CA.
mkdir -m 0700 "$T/pki-b"
cp "$PKI/ca.pem" "$PKI/ca-key.pem" "$T/pki-b/"
"$TSR_SRCDIR/scripts/dev-pki" "$T/pki-b" >/dev/null || bail "second server cert"
new_sha=$(file_sha "$T/pki-b/server.pem")
isnt "sighup: the new certificate differs from the old" "$new_sha" "$old_sha"
cp "$T/pki-b/server-key.pem" "$PKI/server-key.pem.new"
cp "$T/pki-b/server.pem" "$PKI/server.pem.new"
mv "$PKI/server-key.pem.new" "$PKI/server-key.pem"
mv "$PKI/server.pem.new" "$PKI/server.pem"
kill -HUP "$SERVER_PID"
sha_is() { [ "$(served_sha 2>/dev/null)" = "$1" ]; }
poll_until 2000 sha_is "$new_sha"
tap_ok $? "sighup: a new handshake sees the new certificate (${POLL_MS} ms)"
ok "sighup: the server is still running" kill -0 "$SERVER_PID"
post_token order-service "$GOOD"
is "sighup: tokens still issued after the reload" "$STATUS" 200
http_get /healthz
is "sighup: healthz 200 after the reload" "$STATUS" 200

printf 'garbage, not a certificate\n' >"$PKI/server.pem"
reloads_failed=$(grep -c 'TLS reload failed' "$T/server.log")
kill -HUP "$SERVER_PID"
log_says_failed() {
	[ "$(grep -c 'TLS reload failed' "$T/server.log")" -gt "$reloads_failed" ]
}
poll_until 2000 log_says_failed
tap_ok $? "sighup with a garbage certificate: the reload is refused (logged)"
ok "sighup with a garbage certificate: the server is still running" \
    kill -0 "$SERVER_PID"
is "sighup with a garbage certificate: still the last good certificate" \
    "$(served_sha)" "$new_sha"
post_token order-service "$GOOD"
is "sighup with a garbage certificate: tokens still issued" "$STATUS" 200
cp "$T/pki-b/server.pem" "$PKI/server.pem"

# --- SIGTERM: drain requests in flight, exit 0 ------------------------------------
# Deterministic: 20 clients each send their request's headers with
# "Expect: 100-continue" and wait for the server's "100 Continue", proof
# that the request is in flight; SIGTERM arrives while all 20 are; then
# they send their bodies.  Every one must get its complete 200.
cat >"$T/tsr_slow_clients.py" <<'EOF'
import json, socket, ssl, sys, threading, time, os
port, pki, body, n, ready, go, out = sys.argv[1:8]
n = int(n)
body = body.encode()
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/order-service.pem", pki + "/order-service-key.pem")
results = [None] * n
socks = []

def read_head(t, buf=b""):
    while b"\r\n\r\n" not in buf:
        chunk = t.recv(65536)
        if not chunk:
            raise EOFError(buf)
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest

for i in range(n):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    t.sendall(b"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\n"
              b"Content-Length: %d\r\nExpect: 100-continue\r\n"
              b"Connection: close\r\n\r\n" % len(body))
    head, rest = read_head(t)
    assert head.startswith(b"HTTP/1.1 100"), head
    assert rest == b"", rest
    socks.append(t)
open(ready, "w").close()
deadline = time.time() + 15
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.01)

def finish(i, t):
    try:
        t.sendall(body)
        head, payload = read_head(t)
        while True:
            chunk = t.recv(65536)
            if not chunk:
                break
            payload += chunk
        status = int(head.split(b" ")[1])
        clen = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                if l.lower().startswith(b"content-length:")]
        results[i] = {"status": status, "complete": clen == [len(payload)],
                      "token": "access_token" in json.loads(payload)}
    except Exception as e:
        results[i] = {"error": repr(e)}

th = [threading.Thread(target=finish, args=(i, t)) for i, t in enumerate(socks)]
for x in th:
    x.start()
for x in th:
    x.join()
json.dump(results, open(out, "w"))
EOF
stop_server
start_server || bail "the server did not restart for the drain test"
rm -f "$T/ready" "$T/go"
"$TSR_PYTHON" "$T/tsr_slow_clients.py" "$PORT" "$PKI" "$GOOD" 20 \
    "$T/ready" "$T/go" "$T/slow.json" 2>"$T/slow.err" &
slow_pid=$!
poll_until 10000 test -e "$T/ready"
tap_ok $? "sigterm: 20 requests are in flight (each got its 100 Continue)"
pid=$SERVER_PID
log_lines=$(wc -l <"$T/server.log")
new_log() { tail -n +"$((log_lines + 1))" "$T/server.log"; }
kill -TERM "$pid"
draining() { new_log | grep -q 'shutting down: draining'; }
poll_until 3000 draining
tap_ok $? "sigterm: the server says it is draining"
like "sigterm: it drains the 20 requests in flight" \
    "$(new_log | grep -o 'draining [0-9]* request')" '^draining 20 request$'
touch "$T/go"
wait "$slow_pid"
is "sigterm: the slow clients finished" "$?" 0
cp "$T/slow.json" "$T/out" 2>/dev/null || echo null >"$T/out"
json_check "sigterm: all 20 in-flight requests got a complete 200 with a token" "
assert len(d) == 20, d
bad = [r for r in d if r != {'status': 200, 'complete': True, 'token': True}]
assert not bad, bad
"
_wait_pid "$pid" 100
tap_ok $? "sigterm: the server exits after draining"
wait "$pid"
is "sigterm: exit status 0" "$?" 0
SERVER_PID=

# The burst: 20 concurrent curl requests and SIGTERM as soon as the first
# is answered.  Those that got an answer got all of it, a 200 with a
# token; the server exits 0.
start_server || bail "the server did not restart for the burst test"
pid=$SERVER_PID
mkdir "$T/burst"
log_lines=$(wc -l <"$T/server.log")
for i in $(seq 1 20); do
	ccurl order-service -o "$T/burst/$i.body" -w '%{http_code}' \
	    --data-binary "$GOOD" "$BASE/token" >"$T/burst/$i.code" 2>/dev/null &
done
first_answered() { new_log | grep -q 'path=/token status='; }
poll_until 10000 first_answered
kill -TERM "$pid"
_wait_pid "$pid" 150
tap_ok $? "burst: the server exits after SIGTERM"
wait "$pid"
is "burst: exit status 0" "$?" 0
SERVER_PID=
wait
answered=0 bad=()
for i in $(seq 1 20); do
	code=$(cat "$T/burst/$i.code")
	[ "$code" = 000 ] && continue
	answered=$((answered + 1))
	if [ "$code" != 200 ] || ! "$TSR_PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["token_type"] == "Bearer" and d["access_token"].count(".") == 2
' "$T/burst/$i.body" 2>/dev/null; then
		bad+=("request $i: status $code, body $(head -c 200 "$T/burst/$i.body")")
	fi
done
diag "burst: $answered of 20 requests were answered before the server stopped"
isnt "burst: at least one request was answered" "$answered" 0
if [ "${#bad[@]}" -eq 0 ]; then
	pass "burst: every answered request got a complete 200 with a token"
else
	fail "burst: every answered request got a complete 200 with a token" "${bad[@]}"
fi

done_testing
