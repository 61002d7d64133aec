#!/usr/bin/env bash
# pg_replicas.sh: exactly one rotation among replicas ("Replicas on
# PostgreSQL").  Three `tessera serve` start at once on one empty
# PostgreSQL database (each migrates) and rotate every 2 s while the CLI
# rotates too; throughout there is exactly one active and one next key.
# Restarted with a long period, the three publish the same JWKS, holding
# only the next, the active and the retired keys still in their window.
# Runs with TSR_TEST_STORE=postgres.
. "$(dirname "$0")/lib.sh"

pg_mode || bail "run with TSR_TEST_STORE=postgres"
make_pki

PIDS=()
PORTS=()
_replicas_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	_lib_cleanup
}
trap _replicas_cleanup EXIT

# launch N [SERVE-OPTIONS...]: serve on a free port, log in
# $T/replica-N.log
launch() {
	local n=$1
	shift
	rm -f "$T/port-$n"
	"$TSR_BIN" --db "$DB" --key-dir "$KEYS" serve \
	    --listen 127.0.0.1:0 --port-file "$T/port-$n" \
	    --tls-cert "$PKI/server.pem" --tls-key "$PKI/server-key.pem" \
	    --client-ca "$PKI/ca.pem" --issuer "https://tessera.test" "$@" \
	    >>"$T/replica-$n.log" 2>&1 </dev/null &
	PIDS[n]=$!
}

# healthy N: wait until replica N answers /healthz
healthy() {
	local i
	for ((i = 0; i < 400 * TSR_TIME_SCALE; i++)); do
		kill -0 "${PIDS[$1]}" 2>/dev/null || break
		[ -s "$T/port-$1" ] || { sleep 0.05; continue; }
		PORTS[$1]=$(cat "$T/port-$1")
		curl -sf -o /dev/null --max-time 2 --cacert "$PKI/ca.pem" \
		    "https://127.0.0.1:${PORTS[$1]}/healthz" && return 0
		sleep 0.05
	done
	diag "replica $1 not healthy: $(tail -n 5 "$T/replica-$1.log")"
	return 1
}

# stop_all: SIGTERM every replica; STOP_OK=0 when all exited 0
stop_all() {
	local p
	STOP_OK=0
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		if _wait_pid "$p" $((100 * TSR_TIME_SCALE)); then
			wait "$p" || STOP_OK=1
		else
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
			STOP_OK=1
		fi
	done
	PIDS=()
}

count() { sql "$DB" "SELECT count(*) FROM signing_keys WHERE state = '$1'"; }
jwks() {
	curl -sf --max-time 5 --cacert "$PKI/ca.pem" \
	    "https://127.0.0.1:${PORTS[$1]}/.well-known/jwks.json" |
	    "$TSR_PYTHON" -c '
import json, sys
print(" ".join(sorted(k["kid"] for k in json.load(sys.stdin)["keys"])))'
}

# --- three replicas start at once on an empty database ---------------------
for n in 1 2 3; do
	launch "$n" --rotation-period 2s
done
for n in 1 2 3; do
	ok "replica $n started on the empty database" healthy "$n"
done
is "migrations applied once" \
    "$(sql "$DB" 'SELECT count(*) FROM schema_migrations')" \
    "$(sql "$DB" 'SELECT max(version) FROM schema_migrations')"
is "after the start: one active key" "$(count active)" 1
is "after the start: one next key" "$(count next)" 1

# --- rotations race: the replicas every 2 s, the CLI in a loop -------------
bad=0 samples=0 cli_ok=0 cli_conflict=0
end=$((SECONDS + 12))
while [ "$SECONDS" -lt "$end" ]; do
	if tsr key rotate >/dev/null 2>"$T/rot.err"; then
		cli_ok=$((cli_ok + 1))
	elif grep -q "concurrently" "$T/rot.err"; then
		cli_conflict=$((cli_conflict + 1))
	else
		diag "key rotate: $(cat "$T/rot.err")"
		bad=$((bad + 1))
	fi
	s=$(sql "$DB" "SELECT count(*) FILTER (WHERE state = 'active'),
	    count(*) FILTER (WHERE state = 'next') FROM signing_keys")
	samples=$((samples + 1))
	[ "$s" = "1|1" ] || { diag "sample: active|next = $s"; bad=$((bad + 1)); }
done
diag "CLI rotations: $cli_ok done, $cli_conflict lost a race; $samples samples"
is "while rotating: always one active and one next key, no CLI error" "$bad" 0
ok "the CLI rotated at least once" test "$cli_ok" -ge 1
retired=$(count retired)
# The CLI's rotations keep resetting the replicas' schedule, so the
# replicas may lose every race: every rotation left exactly one retired key.
ok "every rotation retired one key (retired >= CLI rotations)" \
    test "$retired" -ge "$cli_ok"
for n in 1 2 3; do
	ok "replica $n is still up" kill -0 "${PIDS[n]}"
done
stop_all
is "the replicas stopped cleanly" "$STOP_OK" 0
is "no replica failed a rotation (losing a race is not a failure)" \
    "$(cat "$T"/replica-*.log | grep -c 'rotation failed')" 0
diag "rotations by the replicas: $(cat "$T"/replica-*.log |
    grep -c 'rotated signing keys')"
is "after the race: one active key" "$(count active)" 1
is "after the race: one next key" "$(count next)" 1
is "only next and active keys keep a sealed private key" \
    "$(sql "$DB" "SELECT count(*) FROM sealed_keys s JOIN signing_keys k
    USING (kid) WHERE k.state NOT IN ('next', 'active')")" 0
is "the next and the active key are sealed" \
    "$(sql "$DB" 'SELECT count(*) FROM sealed_keys')" 2

# --- the same JWKS everywhere --------------------------------------------------
for n in 1 2 3; do
	launch "$n" --rotation-period 1h
done
for n in 1 2 3; do
	ok "replica $n restarted" healthy "$n"
done
want=$(sql "$DB" "SELECT kid FROM signing_keys WHERE state IN
    ('next', 'active') OR (state = 'retired' AND expires_at > $(date +%s))
    ORDER BY kid" | tr '\n' ' ' | sed 's/ $//')
for n in 1 2 3; do
	is "replica $n: JWKS is next + active + retired in window" \
	    "$(jwks "$n")" "$want"
done
is "the JWKS is the same on all three" \
    "$(jwks 1 | sha256sum)$(jwks 2 | sha256sum)" \
    "$(jwks 3 | sha256sum)$(jwks 3 | sha256sum)"
stop_all
is "the replicas stopped cleanly again" "$STOP_OK" 0

done_testing
