#!/usr/bin/env bash
# replicas.sh: three replicas on one PostgreSQL database behind HAProxy
# (TCP mode, so mTLS ends at tessera; health checks GET /healthz over
# TLS), all on loopback.  Under a load of /token through HAProxy one
# replica is killed with SIGKILL: only requests in flight on it may fail
# (at most one per load connection), and none from two seconds after.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/oauth_lib.sh"
. "$(dirname "$0")/replica_lib.sh"

command -v haproxy >/dev/null || bail "haproxy is not installed (scripts/setup-deps --test)"
replica_setup
for r in r1 r2 r3; do
	start_replica "$r" || bail "replica $r did not start"
done
LB_PORT=$(free_port)
{
	cat <<CFG
global
	maxconn 2000
defaults
	mode tcp
	timeout connect 1s
	timeout client 30s
	timeout server 30s
	# A connection refused by a dead replica goes to another one.
	retries 3
	option redispatch 1
frontend tessera
	bind 127.0.0.1:$LB_PORT
	default_backend replicas
backend replicas
	balance roundrobin
	option httpchk
	http-check send meth GET uri /healthz
	http-check expect status 200
	default-server check check-ssl verify required ca-file $PKI/ca.pem inter 300ms fall 2 rise 2
CFG
	i=0
	for p in "${REPLICA_PORTS[@]}"; do
		i=$((i + 1))
		echo "	server r$i 127.0.0.1:$p"
	done
} >"$T/haproxy.cfg"
haproxy -c -q -f "$T/haproxy.cfg" >"$T/haproxy.check" 2>&1
tap_ok $? "haproxy accepts the configuration"
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
HAPROXY_PID=$!
BASE=https://127.0.0.1:$LB_PORT
up() { http_get /healthz; [ "$STATUS" = 200 ]; }
for ((i = 0; i < 100; i++)); do up && break; sleep 0.1; done
is "healthz through HAProxy: 200" "$STATUS" 200
sleep 1	# every replica's first health checks

# All three replicas answer through the balancer: tokens from each
# (round robin on new connections) verify with the one JWKS.
get_token order-service inventory-service
token_ok "a token through HAProxy"

loadgen() {	# loadgen OUT MODE SECONDS
	"$TSR_LOADGEN" --connect "127.0.0.1:$LB_PORT" --ca "$PKI/ca.pem" \
	    --cert "$PKI/order-service.pem" \
	    --key "$PKI/order-service-key.pem" --mode "$2" -c 6 -d "$3" \
	    --body "grant_type=client_credentials&audience=inventory-service" \
	    >"$1" 2>"$1.err"
}

loadgen "$T/load1.json" token 6 &
LOAD=$!
sleep 2
kill -KILL "${REPLICA_PIDS[0]}"
KILLED_AT=$(now_ms)
wait "${REPLICA_PIDS[0]}" 2>/dev/null
REPLICA_PIDS[0]=
wait "$LOAD"
is "load across the kill: the load generator finished" "$?" 0
diag "across the kill: $(cat "$T/load1.json")"
errors=$(loadgen_json "$T/load1.json" errors)
count=$(loadgen_json "$T/load1.json" count)
like "load across the kill: tokens issued" "$count" '^[1-9][0-9]*$'
if [ "$errors" -le 6 ]; then
	pass "load across the kill: at most the 6 requests in flight failed ($errors)"
else
	fail "load across the kill: at most the 6 requests in flight failed" \
	    "errors: $errors" "$(head -c 500 "$T/load1.json.err")"
fi

# Two seconds after the kill: new connections for every request, none
# may fail.
while [ $(($(now_ms) - KILLED_AT)) -lt 2000 ]; do sleep 0.1; done
loadgen "$T/load2.json" token-new 3
is "2 s after the kill: the load generator finished" "$?" 0
diag "after the kill: $(cat "$T/load2.json")"
is "2 s after the kill: zero failed token requests (new connection each)" \
    "$(loadgen_json "$T/load2.json" errors)" 0
like "2 s after the kill: tokens issued" \
    "$(loadgen_json "$T/load2.json" count)" '^[1-9][0-9]*$'
loadgen "$T/load3.json" token 2
is "2 s after the kill: zero failed token requests (keep-alive)" \
    "$(loadgen_json "$T/load3.json" errors)" 0

# The survivors still agree on the keys.
j2=$(curl -s --cacert "$PKI/ca.pem" "https://127.0.0.1:${REPLICA_PORTS[1]}/.well-known/jwks.json")
j3=$(curl -s --cacert "$PKI/ca.pem" "https://127.0.0.1:${REPLICA_PORTS[2]}/.well-known/jwks.json")
is "r2 and r3 publish the same JWKS" "$j2" "$j3"

done_testing
