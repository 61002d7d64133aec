#!/usr/bin/env bash
# store_outage.sh: a running server whose store goes away (the test-hook
# fault TSR_FAULT_STORE_DOWN_FILE: while that file exists every store
# operation fails, as with an unreachable database or an SQLite file that
# cannot be written).  Within --max-staleness: /healthz says degraded,
# tokens, the JWKS and introspection keep coming from memory, /revoke
# answers 503 temporarily_unavailable with Retry-After, and the audit
# events of the outage reach the trail once the store is back.  Past
# --max-staleness: /healthz, /token and /introspect answer 503.  Needs a
# build with -Dtest_hooks=true.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
. "$(dirname "$0")/revocation_lib.sh"

DOWN=$T/store-down
export TSR_FAULT_STORE_DOWN_FILE=$DOWN
RS=inventory-service

fresh_store
make_pki
revocation_policy
start_server || bail "the server did not start"

# poll_until MS CMD...: true once CMD succeeds, tried every 0.05 s
wait_for() {
	local ms=$1 i
	shift
	for ((i = 0; i < ms / 50; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
health_is() {	# health_is STATUS-CODE STATUS-FIELD
	http_get /healthz
	[ "$STATUS" = "$1" ] &&
	    [ "$(json 'd.get("status")' <"$T/out" 2>/dev/null)" = "$2" ]
}
# audit_has JTI...: every jti is in the audit trail as an issued token
audit_has() {
	tsr audit --json --limit 1000 >"$T/audit.json" 2>/dev/null || return 1
	"$TSR_PYTHON" -c '
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
seen = {e.get("jti") for e in d["events"] if e.get("outcome") == "issued"}
sys.exit(0 if set(sys.argv[2:]) <= seen else 1)
' "$T/audit.json" "$@"
}

# --- before -----------------------------------------------------------------
http_get /healthz
is "store up: healthz 200" "$STATUS" 200
is "store up: healthz body" "$(cat "$T/out")" '{"status":"ok"}'
get_token order-service "$RS"
T1=$TOKEN
isnt "store up: a token" "$T1" ""

# --- the store goes away ----------------------------------------------------
: >"$DOWN"
if wait_for 3000 health_is 200 degraded; then
	pass "store down: healthz 200 degraded within 3 s"
else
	fail "store down: healthz 200 degraded within 3 s" \
	    "status $STATUS body $(cat "$T/out")"
fi
json_check "store down: healthz says database down and how stale" '
assert d["status"] == "degraded", d
assert d["database"] == "down", d
assert isinstance(d["stale_s"], int) and 0 <= d["stale_s"] <= 10, d
assert sorted(d) == ["database", "stale_s", "status"], d
'
jtis=()
n_ok=0
for i in 1 2 3 4 5 6 7 8; do
	get_token order-service "$RS"
	if [ "$STATUS" = 200 ] && [ -n "$TOKEN" ]; then
		n_ok=$((n_ok + 1))
		jtis+=("$("$TSR_PYTHON" -c '
import base64, json, sys
p = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["jti"])
' "$TOKEN")")
	fi
done
is "store down: 8 of 8 token requests answered 200 with a token" "$n_ok" 8
T2=$TOKEN
http_get /.well-known/jwks.json
is "store down: JWKS 200" "$STATUS" 200
if is_active "$RS" "$T1"; then
	pass "store down: introspection answers from memory (active)"
else
	fail "store down: introspection answers from memory (active)" \
	    "status $STATUS body $(head -c 300 "$T/out")"
fi
revoke order-service "$T1"
oauth_error "store down: /revoke 503 temporarily_unavailable" 503 \
    temporarily_unavailable
like "store down: /revoke Retry-After in seconds" "$(header Retry-After)" \
    '^[1-9][0-9]*$'
is_active "$RS" "$T1"
is "store down: the refused revocation changed nothing" "$STATUS" 200
http_get /metrics
like "store down: tessera_database_up 0" "$(cat "$T/out")" \
    $'(^|\n)tessera_database_up 0(\n|$)'

# --- the store comes back ---------------------------------------------------
rm -f "$DOWN"
if wait_for 5000 health_is 200 ok; then
	pass "store back: healthz 200 ok within 5 s"
else
	fail "store back: healthz 200 ok within 5 s" \
	    "status $STATUS body $(cat "$T/out")"
fi
if wait_for 5000 audit_has "${jtis[@]}"; then
	pass "store back: all 8 tokens of the outage are in the audit trail"
else
	fail "store back: all 8 tokens of the outage are in the audit trail" \
	    "$(head -c 1500 "$T/audit.json")"
fi
http_get /metrics
like "store back: no audit event dropped" "$(cat "$T/out")" \
    $'(^|\n)tessera_audit_dropped_events_total 0(\n|$)'
revoke order-service "$T2"
is "store back: /revoke 200" "$STATUS" 200
inactive_within "store back: the revoked token is inactive" 2000 "$RS" "$T2"
stop_server
is "store back: clean stop" "$SERVER_STATUS" 0

# --- past --max-staleness ---------------------------------------------------
start_server --max-staleness 1s || bail "the server did not start"
get_token order-service "$RS"
T3=$TOKEN
: >"$DOWN"
if wait_for 6000 health_is 503 unavailable; then
	pass "past max-staleness: healthz 503 unavailable"
else
	fail "past max-staleness: healthz 503 unavailable" \
	    "status $STATUS body $(cat "$T/out")"
fi
get_token order-service "$RS"
oauth_error "past max-staleness: /token 503 temporarily_unavailable" 503 \
    temporarily_unavailable
like "past max-staleness: /token Retry-After" "$(header Retry-After)" \
    '^[1-9][0-9]*$'
introspect "$RS" "$T3"
oauth_error "past max-staleness: /introspect 503 temporarily_unavailable" \
    503 temporarily_unavailable
revoke order-service "$T3"
oauth_error "past max-staleness: /revoke 503 temporarily_unavailable" 503 \
    temporarily_unavailable
http_get /.well-known/jwks.json
is "past max-staleness: the JWKS is still served" "$STATUS" 200
rm -f "$DOWN"
if wait_for 5000 health_is 200 ok; then
	pass "store back: healthz 200 ok"
else
	fail "store back: healthz 200 ok" "status $STATUS body $(cat "$T/out")"
fi
get_token order-service "$RS"
is "store back: /token 200 again" "$STATUS" 200
stop_server
is "clean stop" "$SERVER_STATUS" 0
grep -q 'database unreachable' "$T/server.log"
tap_ok $? "the log says the database was unreachable"
grep -q 'reachable again' "$T/server.log"
tap_ok $? "the log says the database was reachable again"

done_testing
