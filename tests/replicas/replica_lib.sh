# replica_lib.sh: helpers for the tests of tessera replicas sharing one
# PostgreSQL database (replicas.sh, pg_outage.sh, listener.sh).  Source it
# after lib.sh and oauth_lib.sh; run the test under tests/pg/with-pg,
# which starts a throwaway cluster and sets TSR_PG_DSN and TSR_PG_DIR.
# shellcheck shell=bash disable=SC2034

[ -n "${TSR_PG_DSN:-}" ] || bail "no PostgreSQL cluster (run under tests/pg/with-pg)"
DB=$TSR_PG_DSN
PG_BIN=${TSR_PG_BIN:-/usr/lib/postgresql/15/bin}
: "${TSR_LOADGEN:?TSR_LOADGEN must name tests/bench/loadgen}"
REPLICA_PIDS=()
REPLICA_PORTS=()
HAPROXY_PID=

_replica_cleanup() {
	local p
	[ -n "$HAPROXY_PID" ] && kill -TERM "$HAPROXY_PID" 2>/dev/null
	for p in "${REPLICA_PIDS[@]}"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	done
	for p in "${REPLICA_PIDS[@]}" $HAPROXY_PID; do
		[ -n "$p" ] && { _wait_pid "$p" 50 || kill -KILL "$p" 2>/dev/null; }
	done
	_lib_cleanup
}
trap _replica_cleanup EXIT

# psql_c SQL: one statement as the cluster's superuser; rows on stdout
psql_c() { psql -X -q -At "$TSR_PG_DSN" -c "$1"; }

# pg_as CMD...: as the owner of the cluster (PostgreSQL refuses root)
pg_as() {
	local owner
	owner=$(stat -c %U "$TSR_PG_DIR/data")
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$TSR_PG_DIR" && runuser -u "$owner" -- "$@")
	else
		(cd "$TSR_PG_DIR" && "$@")
	fi
}

# pg_down: a fast shutdown (clients disconnected, no new connection)
pg_down() { pg_as "$PG_BIN/pg_ctl" -D "$TSR_PG_DIR/data" -m fast -w -t 30 -s stop; }

# pg_up: start it again as tests/pg/pg-start did (Unix socket only)
pg_up() {
	pg_as "$PG_BIN/pg_ctl" -D "$TSR_PG_DIR/data" -l "$TSR_PG_DIR/log" -w \
	    -t 30 -s \
	    -o "-c listen_addresses='' -c unix_socket_directories='$TSR_PG_DIR'" \
	    -o "-c port=5432 -c fsync=off -c synchronous_commit=off" \
	    -o "-c full_page_writes=off" start
}

# start_replica NAME [SERVE-OPTIONS...]: one more "tessera serve" on the
# database, on a port of its choosing (--port-file), logging to
# $T/NAME.log; waits for /healthz.  Appends to REPLICA_PIDS and
# REPLICA_PORTS.
start_replica() {
	local name=$1 port= pid i
	shift
	rm -f "$T/$name.port"
	"$TSR_BIN" --db "$DB" --key-dir "$KEYS" serve \
	    --listen 127.0.0.1:0 --port-file "$T/$name.port" \
	    --tls-cert "$PKI/server.pem" --tls-key "$PKI/server-key.pem" \
	    --client-ca "$PKI/ca.pem" --issuer "$ISSUER" "$@" \
	    >>"$T/$name.log" 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 200 * TSR_TIME_SCALE; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		[ -z "$port" ] && [ -s "$T/$name.port" ] &&
		    port=$(cat "$T/$name.port")
		if [ -n "$port" ] && curl -sf -o /dev/null --max-time 2 \
		    --cacert "$PKI/ca.pem" "https://127.0.0.1:$port/healthz"; then
			REPLICA_PIDS+=("$pid")
			REPLICA_PORTS+=("$port")
			return 0
		fi
		sleep 0.05
	done
	diag "replica $name did not come up:"
	diag "$(tail -n 20 "$T/$name.log")"
	kill -KILL "$pid" 2>/dev/null
	return 1
}

# free_port: a port free on 127.0.0.1 now (for HAProxy, which cannot
# report the port it bound)
free_port() {
	"$TSR_PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# replica_setup: PKI, key directory, schema and a policy: order-service
# may call inventory-service.
replica_setup() {
	make_pki
	mkdir -m 0700 "$KEYS"
	ISSUER=https://tessera.test
	# Replicas share no disk: on PostgreSQL the private keys are sealed
	# in the database under a key-encryption key every replica holds.
	tsr kek generate "$T/kek" >/dev/null 2>&1 ||
	    bail "tessera kek generate failed"
	export TESSERA_KEY_ENCRYPTION_KEY=$T/kek
	tsr migrate >/dev/null 2>&1 || bail "tessera migrate failed on PostgreSQL"
	tsr client add order-service --cn order-service >/dev/null 2>&1 &&
	    tsr grant add order-service inventory-service \
		--scope stock:read >/dev/null 2>&1 ||
	    bail "cannot set up the policy"
}

# loadgen_json FILE KEY: one number from loadgen's JSON line
loadgen_json() { json "d[\"$2\"]" <"$1"; }

# token_at PORT AUDIENCE: the HTTP status of one token request to PORT
token_at() {
	ccurl order-service -o "$T/tok.out" -w '%{http_code}' \
	    --data "grant_type=client_credentials&audience=$2" \
	    "https://127.0.0.1:$1/token"
}

# now_ms: wall clock in milliseconds
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
