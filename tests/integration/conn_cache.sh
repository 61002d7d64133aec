#!/usr/bin/env bash
# conn_cache.sh: a keep-alive connection's verified client certificate is
# remembered, but never past what could change it: a policy change is
# seen on the very next request, and a reload of the client CA makes the
# same connection verify again (and fail, when its CA is gone).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
"$TSR_SRCDIR/scripts/dev-pki" "$T/pki2" >/dev/null || bail "second PKI"
cp "$PKI/ca.pem" "$T/server-ca.pem"	# to trust the server throughout
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null || bail "policy"
start_server || bail "the server did not start"

# One TLS connection; each line on stdin is a step, each answer a status.
cat >"$T/keepalive.py" <<'PY'
import http.client, ssl, sys, time
port, ca, cert, key = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx)

def token():
    conn.request("POST", "/token",
                 body="grant_type=client_credentials&audience=inventory",
                 headers={"Content-Type":
                          "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    r.read()
    return r.status

def until(want, seconds):
    deadline = time.monotonic() + seconds
    while True:
        got = token()
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)

for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "token":
        print(token(), flush=True)
    elif cmd[0] == "until":
        print(until(int(cmd[1]), float(cmd[2])), flush=True)
    sys.stdout.flush()
PY

coproc KA { "$TSR_PYTHON" "$T/keepalive.py" "$PORT" "$T/server-ca.pem" \
    "$PKI/order-service.pem" "$PKI/order-service-key.pem" 2>"$T/ka.err"; }
step() { echo "$*" >&"${KA[1]}"; read -r -t 10 REPLY <&"${KA[0]}"; }

step token
is "keep-alive: first request" "$REPLY" 200
step token
is "keep-alive: second request on the same connection" "$REPLY" 200

tsr client disable order-service >/dev/null
step until 401 1.5
is "a disabled client is refused on its open connection" "$REPLY" 401
tsr client enable order-service >/dev/null
step until 200 1.5
is "enabled again, the same connection works" "$REPLY" 200

# The client CA changes: the remembered verification no longer counts.
cp "$T/pki2/ca.pem" "$PKI/ca.pem.new" && mv "$PKI/ca.pem.new" "$PKI/ca.pem"
step until 401 3
is "after the client CA is replaced, the open connection is refused" \
    "$REPLY" 401
status=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/server-ca.pem" \
    --cert "$T/pki2/order-service.pem" --key "$T/pki2/order-service-key.pem" \
    -d grant_type=client_credentials -d audience=inventory "$BASE/token")
is "a certificate of the new CA is accepted" "$status" 200

exec {KA[1]}>&-
stop_server
is "the server stops cleanly" "$SERVER_STATUS" 0
done_testing
