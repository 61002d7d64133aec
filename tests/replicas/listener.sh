#!/usr/bin/env bash
# listener.sh: changes reach every replica as they are committed
# (LISTEN/NOTIFY), also after the database drops tessera's connections
# (pg_terminate_backend): the listener reconnects, listens again and
# reloads in full.  Two replicas on one database; a change is a grant
# added with the CLI, in force once both replicas issue tokens for it.
# The generation poll runs only every 2 s, so changes in force within
# 1 s, five times in a row, came by notification.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/oauth_lib.sh"
. "$(dirname "$0")/replica_lib.sh"

replica_setup
start_replica r1 || bail "replica r1 did not start"
start_replica r2 || bail "replica r2 did not start"
P1=${REPLICA_PORTS[0]}
P2=${REPLICA_PORTS[1]}

grep -q 'listening for changes' "$T/r1.log"
tap_ok $? "r1 listens for changes"
grep -q 'listening for changes' "$T/r2.log"
tap_ok $? "r2 listens for changes"

# propagate AUDIENCE: grant it with the CLI; prints the milliseconds
# from the CLI's exit (its transaction committed just before) until both
# replicas issue a token for it (99999: not within 5 s).  The CLI's own
# start and connection (a few hundred ms on a loaded machine) are not
# the propagation.
propagate() {
	local aud=$1 t0 i
	tsr grant add order-service "$aud" >/dev/null 2>&1 || { echo 99999; return; }
	t0=$(now_ms)
	for ((i = 0; i < 250; i++)); do
		if [ "$(token_at "$P1" "$aud")" = 200 ] &&
		    [ "$(token_at "$P2" "$aud")" = 200 ]; then
			echo $(($(now_ms) - t0))
			return
		fi
		sleep 0.02
	done
	echo 99999
}

# in_force DESC AUDIENCE: one TAP line, the change in force within 1 s
in_force() {
	local ms
	ms=$(propagate "$2")
	if [ "$ms" -le 1000 ]; then
		pass "$1 (${ms} ms)"
	else
		fail "$1" "in force after ${ms} ms" \
		    "r1: $(tail -n 5 "$T/r1.log")" "r2: $(tail -n 5 "$T/r2.log")"
	fi
}

for i in 1 2 3 4 5; do
	in_force "change $i (grant add) in force on both replicas within 1 s" \
	    "aud-$i"
done

# --- the database drops every connection of tessera -------------------------
n=$(psql_c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name = 'tessera'")
like "pg_terminate_backend: tessera's connections terminated (at least 2 x 5)" \
    "$n" '^([1-9][0-9]+)$'
[ "${n:-0}" -ge 10 ] || fail "at least 10 connections" "got $n"
sleep 0.3
in_force "after the terminate: a change is in force on both within 1 s" \
    aud-after
in_force "and the next one too" aud-after-2
for r in r1 r2; do
	grep -q 'listener lost' "$T/$r.log"
	tap_ok $? "$r: the log says the listener was lost"
	grep -q 'listening for changes again; full reload' "$T/$r.log"
	tap_ok $? "$r: the log says it listens again and reloaded in full"
done
http_get_at() {
	curl -s -o "$T/out" -w '%{http_code}' --max-time 5 \
	    --cacert "$PKI/ca.pem" "https://127.0.0.1:$1/healthz"
}
is "r1: healthz 200 after the terminate" "$(http_get_at "$P1")" 200
is "r1: healthz ok" "$(cat "$T/out")" '{"status":"ok"}'
is "r2: healthz 200 after the terminate" "$(http_get_at "$P2")" 200
is "r2: healthz ok" "$(cat "$T/out")" '{"status":"ok"}'

# A revocation by the CLI reaches both replicas' introspection too.
ccurl order-service -o "$T/tok.json" --data \
    "grant_type=client_credentials&audience=inventory-service" \
    "https://127.0.0.1:$P1/token"
TOKEN=$(json 'd.get("access_token", "")' <"$T/tok.json")
"$TSR_SRCDIR/scripts/dev-pki" "$PKI" --client inventory-service >/dev/null ||
    bail "dev-pki --client inventory-service failed"
tsr client add inventory-service --cn inventory-service >/dev/null 2>&1 ||
    bail "cannot add inventory-service"
inactive_on() {	# inactive_on PORT
	ccurl inventory-service -o "$T/intro" --data "token=$TOKEN" \
	    "https://127.0.0.1:$1/introspect" >/dev/null
	[ "$(cat "$T/intro")" = '{"active":false}' ]
}
tsr token revoke "$TOKEN" >/dev/null 2>&1 || fail "tessera token revoke"
t0=$(now_ms)
for ((i = 0; i < 100; i++)); do
	inactive_on "$P1" && inactive_on "$P2" && break
	sleep 0.02
done
ms=$(($(now_ms) - t0))
if [ "$ms" -le 1000 ]; then
	pass "a CLI revocation is in force on both replicas within 1 s (${ms} ms)"
else
	fail "a CLI revocation is in force on both replicas within 1 s" \
	    "after ${ms} ms: $(cat "$T/intro")"
fi

done_testing
