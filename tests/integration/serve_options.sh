#!/usr/bin/env bash
# serve_options.sh: the serve options that bound connections, and bad
# option values refused before anything starts (exit 2, one line).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null || bail "policy"

bad_option() {	# bad_option DESC WANT-STDERR-SUBSTRING OPTION...
	local desc=$1 want=$2
	shift 2
	"$TESSERA" --db "$DB" --key-dir "$KEYS" serve \
	    --tls-cert "$PKI/server.pem" --tls-key "$PKI/server-key.pem" \
	    --client-ca "$PKI/ca.pem" --listen 127.0.0.1:1 "$@" \
	    >"$T/bad.out" 2>"$T/bad.err"
	is "$desc: exit status" "$?" 2
	like "$desc: says why" "$(cat "$T/bad.err")" "$want"
}
bad_option "max-connections 0" "max-connections must be a number" \
    --max-connections 0
bad_option "max-connections-per-ip 65537" \
    "max-connections-per-ip must be a number" --max-connections-per-ip 65537
bad_option "connection-timeout 2h" "connection-timeout is at most 1h" \
    --connection-timeout 2h
bad_option "connection-timeout 5x" "bad duration" --connection-timeout 5x
bad_option "rate-limit 5/m" "rate-limit wants N/s" --rate-limit 5/m
bad_option "key-bits 1024" "key-bits must be" --key-bits 1024
bad_option "listen without a port" "listen wants ADDR:PORT" --listen 127.0.0.1

# Two connections per address: a third is turned away, and once one of
# the two is gone a new one gets in again.
start_server --max-connections-per-ip 2 || bail "the server did not start"
cat >"$T/hold.py" <<'PY'
import socket, ssl, sys, time
port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
held = []
for _ in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                        server_hostname="127.0.0.1")
    held.append(s)
print("held", flush=True)
sys.stdin.read()		# until the test closes our stdin
PY
coproc HOLD { "$TSR_PYTHON" "$T/hold.py" "$PORT" "$PKI/ca.pem" 2; }
read -r -t 10 line <&"${HOLD[0]}"
is "two connections held open" "$line" held
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
    --cacert "$PKI/ca.pem" "$BASE/healthz")
isnt "a third connection from the same address is refused" "$code" 200
exec {HOLD[1]}>&-
wait "$HOLD_PID" 2>/dev/null
healthy() { curl -sf -o /dev/null --max-time 2 --cacert "$PKI/ca.pem" \
    "$BASE/healthz"; }
ok "after they close, a new connection is served" poll_until 3000 healthy
stop_server
is "the server stops cleanly" "$SERVER_STATUS" 0

# --listen with port 0: the kernel's port, named in the startup line and
# in --port-file (start_server reads the file), the default issuer's.
: >"$T/server.log"
start_server || bail "the server did not start on port 0"
like "port 0: a real port in the port file" "$PORT" '^[1-9][0-9]*$'
like "port 0: the startup line names it" "$(cat "$T/server.log")" \
    "serving on https://127\.0\.0\.1:$PORT issuer=https://127\.0\.0\.1:$PORT "
ok "port 0: no temporary port file left" test ! -e "$T/port.tmp"
stop_server
# A port file that cannot be written: the server does not start.
run timeout 20 "$TSR_BIN" --db "$DB" --key-dir "$KEYS" serve \
    --listen 127.0.0.1:0 --port-file "$T/nodir/port" \
    --tls-cert "$PKI/server.pem" --tls-key "$PKI/server-key.pem" \
    --client-ca "$PKI/ca.pem"
is "port file in a missing directory: exit 1" "$RC" 1
like "port file in a missing directory: says so" "$(tail -n 1 "$T/err")" \
    'port-file: .*nodir/port\.tmp'
done_testing
