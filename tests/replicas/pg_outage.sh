#!/usr/bin/env bash
# pg_outage.sh: PostgreSQL stops under load (pg_ctl stop -m fast) and
# starts again.  The replica keeps issuing from memory: zero failed token
# requests, /healthz degraded then ok, and every token issued (during the
# outage too) is in the audit trail afterwards, none dropped.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/oauth_lib.sh"
. "$(dirname "$0")/replica_lib.sh"

replica_setup
start_replica r1 || bail "replica r1 did not start"
P1=${REPLICA_PORTS[0]}
BASE=https://127.0.0.1:$P1

health_is() {	# health_is STATUS-CODE STATUS-FIELD
	http_get /healthz
	[ "$STATUS" = "$1" ] &&
	    [ "$(json 'd.get("status")' <"$T/out" 2>/dev/null)" = "$2" ]
}
wait_for() {	# wait_for MS CMD...
	local ms=$1 i
	shift
	for ((i = 0; i < ms / 50; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# One connection: the outage must fit the audit queue (4096 events), which
# holds the events until the store is back; above that rate events drop.
"$TSR_LOADGEN" --connect "127.0.0.1:$P1" --ca "$PKI/ca.pem" \
    --cert "$PKI/order-service.pem" --key "$PKI/order-service-key.pem" \
    --mode token -c 1 -d 9 \
    --body "grant_type=client_credentials&audience=inventory-service" \
    >"$T/load.json" 2>"$T/load.err" &
LOAD=$!
sleep 1.5
pg_down
tap_ok $? "PostgreSQL stopped (pg_ctl stop -m fast) under load"
if wait_for 4000 health_is 200 degraded; then
	pass "PostgreSQL down: healthz 200 degraded"
else
	fail "PostgreSQL down: healthz 200 degraded" "status $STATUS body $(cat "$T/out")"
fi
json_check "PostgreSQL down: database down, stale_s a small number" '
assert d["database"] == "down" and 0 <= d["stale_s"] <= 30, d
'
sleep 2
pg_up
tap_ok $? "PostgreSQL started again"
if wait_for 8000 health_is 200 ok; then
	pass "PostgreSQL back: healthz 200 ok"
else
	fail "PostgreSQL back: healthz 200 ok" "status $STATUS body $(cat "$T/out")"
fi
wait "$LOAD"
is "the load generator finished" "$?" 0
count=$(loadgen_json "$T/load.json" count)
errors=$(loadgen_json "$T/load.json" errors)
diag "load: $(cat "$T/load.json")"
is "zero failed token requests across the outage" "$errors" 0
like "tokens were issued" "$count" '^[1-9][0-9]*$'

# Every token the load generator got is an "issued" event.
issued() {
	tsr audit --json --outcome issued --limit 100000 >"$T/audit.json" \
	    2>/dev/null || return 1
	AUDITED=$(json 'len(d["events"])' <"$T/audit.json")
	[ "$AUDITED" = "$count" ]
}
if wait_for 10000 issued; then
	pass "all $count tokens are in the audit trail"
else
	fail "all $count tokens are in the audit trail" "audited: ${AUDITED:-?}"
fi
http_get /metrics
like "no audit event dropped" "$(cat "$T/out")" \
    $'(^|\n)tessera_audit_dropped_events_total 0(\n|$)'
like "tessera_database_up 1 again" "$(cat "$T/out")" \
    $'(^|\n)tessera_database_up 1(\n|$)'
grep -q 'database unreachable' "$T/r1.log"
tap_ok $? "the log says the database was unreachable"
grep -q 'reconnected to the database' "$T/r1.log"
tap_ok $? "the log says the replica reconnected"

done_testing
