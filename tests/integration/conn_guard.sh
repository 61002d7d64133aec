#!/usr/bin/env bash
# conn_guard.sh: connection limits the idle timer cannot give (README
# "Limits").  A peer that trickles its TLS handshake or its request
# headers, one byte a second, is never idle, yet is cut off at
# --handshake-timeout; a keep-alive client that pauses between requests
# is not.  Connections without a client certificate are limited per
# address by --max-anon-connections-per-ip, while a client with a
# certificate from the same address still gets a token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null ||
    bail "cannot set up the policy"
start_server --handshake-timeout 3s --connection-timeout 30s \
    --max-anon-connections-per-ip 4 || bail "the server did not start"

cat >"$T/tsr_trickle.py" <<'PY'
import socket, ssl, sys, time
port, ca, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.monotonic()
s = socket.create_connection(("127.0.0.1", port), timeout=30)
try:
    if mode == "headers":
        ctx = ssl.create_default_context(cafile=ca)
        s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
        data = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " +
                b"a" * 30)
    else:
        # The start of a ClientHello, one byte a second.
        data = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 30
    for b in data:
        s.send(bytes([b]))
        time.sleep(1)
    print("never cut")
except OSError:
    print("cut after %d s" % (time.monotonic() - t0))
PY
cat >"$T/tsr_pause.py" <<'PY'
import http.client, ssl, sys, time
port, ca, pause = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
out = []
try:
    for i in range(2):
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        out.append(str(r.status))
        if i == 0:
            sock = c.sock
            time.sleep(pause)
    out.append("same connection" if c.sock is sock else "reconnected")
except Exception as e:
    out.append(repr(e))
print(" ".join(out))
PY
cat >"$T/tsr_anon.py" <<'PY'
import socket, ssl, sys, time
port, ca, n, out, hold = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                          sys.argv[4], float(sys.argv[5]))
ctx = ssl.create_default_context(cafile=ca)
conns, ok, refused = [], 0, 0
for i in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                 timeout=5),
                        server_hostname="127.0.0.1")
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    if data.startswith(b"HTTP/1.1 200"):
        ok += 1
    else:
        refused += 1
    conns.append(s)
with open(out + ".tmp", "w") as f:
    f.write("%d %d\n" % (ok, refused))
import os
os.rename(out + ".tmp", out)
time.sleep(hold)
PY

# --- the deadline -------------------------------------------------------------------
"$TSR_PYTHON" "$T/tsr_trickle.py" "$PORT" "$PKI/ca.pem" headers \
    >"$T/trickle-headers" &
p1=$!
"$TSR_PYTHON" "$T/tsr_trickle.py" "$PORT" "$PKI/ca.pem" handshake \
    >"$T/trickle-handshake" &
p2=$!
"$TSR_PYTHON" "$T/tsr_pause.py" "$PORT" "$PKI/ca.pem" 5 >"$T/pause" &
p3=$!
wait "$p1" "$p2" "$p3"
for what in headers handshake; do
	got=$(cat "$T/trickle-$what")
	if [[ "$got" =~ ^cut\ after\ ([0-9]+)\ s$ ]] &&
	    [ "${BASH_REMATCH[1]}" -ge 3 ] && [ "${BASH_REMATCH[1]}" -le 8 ]; then
		pass "trickled $what: cut off at the 3 s deadline ($got)"
	else
		fail "trickled $what: cut off at the 3 s deadline" "got: $got"
	fi
done
is "keep-alive with a 5 s pause between requests: both answered" \
    "$(cat "$T/pause")" "200 200 same connection"

# --- connections without a certificate -------------------------------------------------
"$TSR_PYTHON" "$T/tsr_anon.py" "$PORT" "$PKI/ca.pem" 8 "$T/anon" 8 &
p4=$!
have_anon() { [ -s "$T/anon" ]; }
poll_until 10000 have_anon
is "8 anonymous connections from one address: 4 answered, 4 refused" \
    "$(cat "$T/anon")" "4 4"
http_get /healthz
is "a 9th anonymous connection while 4 are open: refused" "$STATUS" 000
get_token order-service inventory
token_ok "a client with a certificate from the same address gets a token"
wait "$p4"
poll_until 3000 eval 'http_get /healthz; [ "$STATUS" = 200 ]'
is "once they are closed, an anonymous connection is answered again" \
    "$STATUS" 200

done_testing
