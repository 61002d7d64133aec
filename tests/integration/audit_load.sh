#!/usr/bin/env bash
# audit_load.sh: the audit trail under load (README "Audit trail",
# "Limits").
#  - A burst of authenticated refusals (keep-alive, tests/bench/loadgen)
#    while another process holds the database's write lock, so that the
#    writer stalls and its queue fills: no event is dropped (the
#    requests wait for room instead), and every one is in the trail.
#  - Requests without a certificate are folded: one row per (peer,
#    reason) and interval, whose count adds up to the requests.
#  - The per-address limit for requests without a certificate: a 429
#    that closes the connection, counted in a metric; clients with a
#    certificate are not limited by it.
#  - --audit-max-rows: the trail is kept to its cap, oldest rows first,
#    with a metric and a log line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

[ -x "${TSR_LOADGEN:-}" ] || bail "TSR_LOADGEN (tests/bench/loadgen) not built"
fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null ||
    bail "cannot set up the policy"
DENIED="grant_type=client_credentials&audience=not-granted"

# metric NAME: its value in the last scrape ($T/m.prom)
scrape() { http_get /metrics; cp "$T/out" "$T/m.prom"; }
metric() { awk -v n="$1" '$1 == n { print $2 }' "$T/m.prom"; }
# audit_eval EXPR: a Python expression on the trail as the CLI lists it
# (tessera audit --json), bound to "E" (the rows, newest first)
audit_eval() {
	"$TSR_BIN" --db "$DB" --key-dir "$KEYS" audit --json --limit 100000 |
	    "$TSR_PYTHON" -c '
import json, sys
E = json.load(sys.stdin)["events"]
print(eval(sys.argv[1], {"E": E}))' "$1"
}
# rows COND / sum COND: how many rows match a Python condition on "e",
# and the requests they stand for
rows() { audit_eval "sum(1 for e in E if $1)"; }
sum() { audit_eval "sum(e['count'] for e in E if $1)"; }

# lock SECONDS: hold the write lock of the database for SECONDS, in the
# background (SQLite: another process's write transaction); LOCK_PID
lock() {
	"$TSR_PYTHON" -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")' "$DB" "$1" >"$T/lock.out" 2>&1 &
	LOCK_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q locked "$T/lock.out" && return 0
		sleep 0.05
	done
	return 1
}

LG=("$TSR_LOADGEN" --ca "$PKI/ca.pem" --mode token)

# --- a burst with the writer stalled: nothing dropped --------------------------------
start_server || bail "the server did not start"
LOCK_PID=
if sqlite_store; then
	lock 3 || bail "cannot take the write lock"
fi
"${LG[@]}" --connect "127.0.0.1:$PORT" --cert "$PKI/order-service.pem" \
    --key "$PKI/order-service-key.pem" -c 2 -d 4 --body "$DENIED" \
    >"$T/lg.json" 2>"$T/lg.err"
[ -z "$LOCK_PID" ] || wait "$LOCK_PID"
scrape
refused=$(metric 'tessera_tokens_total{outcome="invalid_target"}')
diag "loadgen: $(cat "$T/lg.json"); refusals counted: $refused"
[ "${refused:-0}" -ge 4096 ]
tap_ok $? "burst: more refusals than the queue holds (${refused:-0} > 4096)"
is "burst: no audit event dropped" "$(metric tessera_audit_dropped_events_total)" 0
if sqlite_store; then
	[ "$(metric tessera_audit_waits_total)" -gt 0 ] 2>/dev/null
	tap_ok $? "burst: requests waited for room while the writer stalled ($(metric tessera_audit_waits_total))"
else
	skip "burst: requests waited for room while the writer stalled" \
	    "the stall holds SQLite's write lock"
fi
stop_server
is "burst: the server stops cleanly" "$SERVER_STATUS" 0
is "burst: every refusal is in the trail, one row each" \
    "$(rows "e['reason'] == 'audience not granted' and e['count'] == 1")" \
    "$refused"

# --- requests without a certificate: folded into counted rows ---------------------
fresh_store
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null ||
    bail "cannot set up the policy"
start_server --anonymous-rate-limit 1000000/s || bail "the server did not start"
"${LG[@]}" --connect "127.0.0.1:$PORT" -c 1 -d 2 \
    --body "grant_type=client_credentials&audience=inventory" \
    >"$T/lg.json" 2>"$T/lg.err"
scrape
anon=$(metric 'tessera_tokens_total{outcome="invalid_client"}')
diag "loadgen: $(cat "$T/lg.json"); refusals counted: $anon"
[ "${anon:-0}" -ge 1000 ]
tap_ok $? "anonymous: a flood of requests without a certificate (${anon:-0})"
post_token order-service "$DENIED"
is "anonymous: an authenticated refusal alongside" "$STATUS" 400
stop_server
is "anonymous: the server stops cleanly" "$SERVER_STATUS" 0
n=$(rows "e['reason'] == 'no client certificate'")
# One row per interval: the flood may straddle one boundary.
[ "$n" -ge 1 ] && [ "$n" -le 2 ]
tap_ok $? "anonymous: one row per peer, reason and minute ($n rows)"
is "anonymous: their counts add up to the requests" \
    "$(sum "e['reason'] == 'no client certificate'")" "$anon"
is "anonymous: the rows name the peer" \
    "$(audit_eval "sorted({(e['peer'], e['event'], e['outcome']) for e in E if e['reason'] == 'no client certificate'})")" \
    "[('127.0.0.1', 'token', 'denied')]"
is "anonymous: the authenticated refusal has its own row" \
    "$(rows "e['reason'] == 'audience not granted' and e['client'] == 'order-service' and e['count'] == 1")" 1
run tsr audit --json --outcome denied
json_check "anonymous: audit --json shows the count" "
c = [e['count'] for e in d['events'] if e['reason'] == 'no client certificate']
assert sum(c) == $anon, (c, $anon)
assert all(e['count'] == 1 for e in d['events'] if e['reason'] != 'no client certificate'), d"
run tsr audit --outcome denied
like "anonymous: audit (table) shows the count" "$OUT" \
    "COUNT.*
.* token +denied +[0-9]{3,} +- "

# --- the per-address limit --------------------------------------------------------
start_server --anonymous-rate-limit 1/s || bail "the server did not start"
codes=
for i in $(seq 1 20); do
	post_token - "grant_type=client_credentials&audience=inventory"
	codes+="$STATUS "
	[ "$STATUS" = 429 ] && cp "$T/hdr" "$T/hdr429"
done
diag "statuses: $codes"
like "limit: past 1/s, requests without a certificate get 429" "$codes" "429"
like "limit: the first ones are answered as usual" "$codes" "^401 "
tr -d '\r' <"$T/hdr429" >"$T/h"
like "limit: the 429 closes the connection" "$(cat "$T/h")" "[Cc]onnection: close"
like "limit: with Retry-After" "$(cat "$T/h")" "[Rr]etry-[Aa]fter: 1"
scrape
[ "$(metric tessera_anonymous_limited_total)" -gt 0 ] 2>/dev/null
tap_ok $? "limit: counted in tessera_anonymous_limited_total ($(metric tessera_anonymous_limited_total))"
codes=
for i in $(seq 1 10); do
	get_token order-service inventory
	codes+="$STATUS "
done
is "limit: a client with a certificate is not limited" "$codes" \
    "200 200 200 200 200 200 200 200 200 200 "
stop_server

# --- the cap on the trail --------------------------------------------------------
fresh_store
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null ||
    bail "cannot set up the policy"
: >"$T/server.log"
start_server --audit-max-rows 1000 || bail "the server did not start"
sent=0
for i in 1 2 3 4 5; do
	"${LG[@]}" --connect "127.0.0.1:$PORT" --cert "$PKI/order-service.pem" \
	    --key "$PKI/order-service-key.pem" -c 1 -d 1 --body "$DENIED" \
	    >"$T/lg.json" 2>"$T/lg.err"
	scrape
	sent=$(metric 'tessera_tokens_total{outcome="invalid_target"}')
	[ "${sent:-0}" -gt 1500 ] && break
done
[ "${sent:-0}" -gt 1500 ]
tap_ok $? "cap: more refusals than the cap (${sent:-0})"
# The newest row: one refusal of its own, after the load.
post_token order-service "grant_type=client_credentials&audience=cap-marker"
under_cap() { [ "$(rows True)" -le 1000 ]; }
poll_until 5000 under_cap
stop_server
n=$(rows True)
[ "$n" -le 1000 ] && [ "$n" -ge 900 ]
tap_ok $? "cap: the trail holds at most 1000 rows ($n)"
is "cap: the newest row is kept" "$(rows "e['audience'] == 'cap-marker'")" 1
[ "$(metric tessera_audit_trimmed_rows_total)" -gt 0 ] 2>/dev/null
tap_ok $? "cap: counted in tessera_audit_trimmed_rows_total ($(metric tessera_audit_trimmed_rows_total))"
like "cap: the log says so" "$(cat "$T/server.log")" \
    "audit: trail at its cap of 1000 rows \\(--audit-max-rows\\): dropped the [0-9]+ oldest"

done_testing
