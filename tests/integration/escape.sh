#!/usr/bin/env bash
# escape.sh: control bytes from outside never reach a terminal or a log
# line raw (README "Logs and metrics").  An unauthenticated request with
# an escape sequence in its method is logged as method=OTHER; an audience
# with a newline and an escape in a /token request shows escaped in
# `tessera audit` (no forged second line); the claims of a forged token
# show escaped in `tessera token inspect`; and the claims of a token whose
# signature does not verify are not recorded by /introspect or /revoke.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
. "$(dirname "$0")/revocation_lib.sh"

fresh_store
make_pki
revocation_policy
start_server || bail "the server did not start"
ESC=$(printf '\033')

# has_ctl FILE: does FILE hold a control byte other than newline?
has_ctl() { LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$1"); }

# --- the request log ---------------------------------------------------------------
cat >"$T/tsr_raw.py" <<'PY'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
    with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
        t.sendall(b"GE\x1b[2J\x1b[31mT /healthz HTTP/1.1\r\n"
                  b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        try:
            while t.recv(4096):
                pass
        except OSError:
            pass
PY
before=$(grep -c 'request method=' "$T/server.log")
"$TSR_PYTHON" "$T/tsr_raw.py" "$PORT" "$PKI/ca.pem"
more_requests() { [ "$(grep -c 'request method=' "$T/server.log")" -gt "$before" ]; }
poll_until 2000 more_requests
tap_ok $? "a request with an escape sequence in its method is logged"
like "its method is logged as OTHER" \
    "$(grep 'request method=' "$T/server.log" | tail -n 1)" \
    '^.* request method=OTHER path='
if grep -q "$ESC" "$T/server.log"; then
	fail "no escape byte in the server log"
else
	pass "no escape byte in the server log"
fi

# --- tessera audit -------------------------------------------------------------------
post_token order-service \
    "grant_type=client_credentials&audience=x%0aFORGED%20line%1b%5b2J"
is "an audience with control bytes: 400" "$STATUS" 400
forged_audience() { tsr audit --limit 5 | grep -q 'x\\x0aFORGED line\\x1b\[2J'; }
poll_until 3000 forged_audience
tap_ok $? "tessera audit shows the audience escaped"
tsr audit --limit 50 >"$T/audit.txt"
if grep -q '^FORGED' "$T/audit.txt" || has_ctl "$T/audit.txt"; then
	fail "tessera audit: no forged line, no control byte" \
	    "$(head -c 2000 "$T/audit.txt")"
else
	pass "tessera audit: no forged line, no control byte"
fi

# --- tessera token inspect: a forged token --------------------------------------------
get_token order-service inventory-service
[ -n "$TOKEN" ] || bail "no token for order-service"
GOODTOKEN=$TOKEN
FORGED=$("$TSR_PYTHON" - "$TOKEN" <<'PY'
import base64, json, sys
h, p, s = sys.argv[1].split(".")
d = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
d["sub"] = "evil\n\x1b[2Jissued to:  order-service"
d["aud"] = "order-service"
d["jti"] = "forged\x1b[31m\njti"
p = base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
print(h + "." + p + "." + s)
PY
)
run tsr token inspect "$FORGED"
is "inspect: a forged token exits 1" "$RC" 1
like "inspect: the claims are marked as not verified" "$OUT" "NOT VERIFIED"
like "inspect: the forged sub is shown escaped" "$OUT" \
    'issued to:  evil\\x0a\\x1b\[2Jissued to:  order-service'
if has_ctl "$T/out" || [ "$(grep -c '^issued to:' "$T/out")" -ne 1 ]; then
	fail "inspect: no control byte and one 'issued to:' line" \
	    "$(head -c 2000 "$T/out")"
else
	pass "inspect: no control byte and one 'issued to:' line"
fi

# --- /introspect and /revoke: unverified claims are not recorded ------------------------
introspect order-service "$GOODTOKEN"
introspect order-service "$FORGED"
is "introspect of the forged token: inactive" "$(cat "$T/out")" \
    '{"active":false}'
revoke order-service "$FORGED"
is "revoke of the forged token: 200" "$STATUS" 200
introspect inventory-service "$GOODTOKEN"
last_is_inventory() {
	tsr audit --json --limit 1 | json 'd["events"][0]["client"]' |
	    grep -qx inventory-service
}
poll_until 3000 last_is_inventory
tsr audit --json --limit 4 >"$T/out"
json_check "introspect/revoke of a forged token record neither its jti nor its audience" '
ev = d["events"]
assert len(ev) == 4, ev
forged = [e for e in ev if e["client"] == "order-service"]
assert len(forged) == 3, forged
for e in forged:
    assert "forged" not in e["jti"] and "\x1b" not in e["jti"], e
    assert e["audience"] in ("", "inventory-service"), e
bad = [e for e in forged if e["reason"] in ("bad signature",
       "invalid or expired token: nothing to revoke")]
assert len(bad) == 2, forged
for e in bad:
    assert e["jti"] == "" and e["audience"] == "" and e["kid"] == "", e
good = [e for e in ev if e["client"] == "inventory-service"]
assert good and good[0]["jti"] and good[0]["audience"] == "inventory-service", good
'

done_testing
