#!/usr/bin/env bash
# schema.sh: the PostgreSQL migrations (migrations/postgresql/) apply in
# order on a throwaway cluster (pg-start), have the SQLite schema's tables,
# columns and indexes, keep its constraints, count every change in the
# generations table as SQLite's triggers do, and send NOTIFY tessera for
# each committed change (never for a rollback) to another connection.
# TAP output.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
src=${TSR_SRCDIR:-$(cd "$here/../.." && pwd)}
mig=$src/migrations
n=0
failed=0

pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	[ "$#" -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
	return 0
}
is() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got:  '$2'" "want: '$3'"; fi; }
bail() { echo "Bail out! $*"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/tsr-pgtest.XXXXXX")
TSR_PG_DIR=
cleanup() {
	[ -n "$TSR_PG_DIR" ] && "$here/pg-stop" "$TSR_PG_DIR"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

out=$("$here/pg-start") || bail "pg-start failed"
eval "$out"

# q SQL: one statement; its rows on stdout; "ERROR" and the message if
# it failed.
q() {
	psql "$TSR_PG_DSN" -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>"$W/err" ||
	    echo "ERROR $(head -n 1 "$W/err")"
}
# refused DESC SQL: the statement fails with a constraint violation.
refused() {
	local got
	got=$(q "$2")
	if [[ "$got" == ERROR*violates* ]]; then
		pass "$1"
	else
		fail "$1" "want a constraint violation, got: '$got'"
	fi
}
gen() { q "SELECT value FROM generations WHERE name = '$1'"; }

# --- the migrations apply, in order, each in one transaction ---------------
for f in "$mig"/postgresql/*.sql; do
	if psql "$TSR_PG_DSN" -X -q -v ON_ERROR_STOP=1 --single-transaction \
	    -f "$f" >"$W/out" 2>&1; then
		pass "apply $(basename "$f")"
	else
		fail "apply $(basename "$f")" "$(cat "$W/out")"
		bail "a migration does not apply"
	fi
done

# --- the same schema as SQLite's ------------------------------------------
for f in "$mig"/sqlite/*.sql; do
	sqlite3 -batch "$W/s.db" <"$f" ||
	    bail "the SQLite migration $(basename "$f") does not apply"
done
lite_cols=$(sqlite3 -batch "$W/s.db" "SELECT m.name || '|' || p.name
    FROM sqlite_master m, pragma_table_info(m.name) p
    WHERE m.type = 'table' ORDER BY m.name, p.cid")
pg_cols=$(q "SELECT table_name || '|' || column_name
    FROM information_schema.columns WHERE table_schema = 'public'
    ORDER BY table_name, ordinal_position")
is "same tables and columns as SQLite" "$pg_cols" "$lite_cols"
lite_idx=$(sqlite3 -batch "$W/s.db" "SELECT name FROM sqlite_master
    WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
pg_idx=$(q "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
    AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'
    ORDER BY indexname")
is "same named indexes as SQLite" "$pg_idx" "$lite_idx"
is "every time is BIGINT" "$(q "SELECT count(*)
    FROM information_schema.columns WHERE table_schema = 'public'
    AND column_name ~ '(_at|^at|_s)$' AND data_type <> 'bigint'")" 0
is "the counters start at 1" \
    "$(q "SELECT string_agg(name || '=' || value, ' ' ORDER BY name)
    FROM generations")" "certs=1 keys=1 policy=1 revocations=1"

# --- policy: constraints and counters --------------------------------------
q "INSERT INTO clients (name, cn, created_at, updated_at)
    VALUES ('order-service', 'order-service', 1, 1)" >/dev/null
is "a client insert counts" "$(gen policy)" 2
q "UPDATE clients SET description = 'x' WHERE name = 'nobody'" >/dev/null
is "an update of no row does not count" "$(gen policy)" 2
q "INSERT INTO grants (client_id, audience, ttl_s, created_at)
    SELECT id, 'inventory', 3153600000, 1 FROM clients" >/dev/null
is "a grant insert counts (and a 100-year ttl fits)" "$(gen policy)" 3
refused "a client name over 128 characters" \
    "INSERT INTO clients (name, cn, created_at, updated_at)
    VALUES (repeat('n', 129), 'c2', 1, 1)"
refused "a duplicate CN" "INSERT INTO clients (name, cn, created_at,
    updated_at) VALUES ('other', 'order-service', 1, 1)"
refused "enabled other than 0 or 1" "UPDATE clients SET enabled = 2"
refused "a negative ttl" "UPDATE grants SET ttl_s = -1"
refused "a second grant for the same audience" \
    "INSERT INTO grants (client_id, audience, created_at)
    SELECT id, 'inventory', 1 FROM clients"
is "refused writes do not count" "$(gen policy)" 3
q "DELETE FROM clients" >/dev/null
is "deleting a client deletes its grants" "$(q "SELECT count(*) FROM grants")" 0
is "the client and its grant count" "$(gen policy)" 5

# --- keys ------------------------------------------------------------------
key() {	# key KID STATE
	q "INSERT INTO signing_keys (kid, state, bits, jwk, created_at)
	    VALUES ('$1', '$2', 2048, '{}', 1)"
}
key k1 active >/dev/null
key k2 next >/dev/null
is "key inserts count" "$(gen keys)" 3
refused "a second active key" "UPDATE signing_keys SET state = 'active'
    WHERE kid = 'k2'"
refused "an unknown key state" "UPDATE signing_keys SET state = 'old'"
refused "a key size of 1024" "UPDATE signing_keys SET bits = 1024"
q "UPDATE signing_keys SET state = CASE kid WHEN 'k1' THEN 'retired'
    ELSE 'active' END" >/dev/null
is "a rotation in one statement keeps one active key" \
    "$(q "SELECT kid FROM signing_keys WHERE state = 'active'")" k2
is "a rotation counts both rows" "$(gen keys)" 5

# --- sealed keys -----------------------------------------------------------
is "a sealed key is stored" "$(q "INSERT INTO sealed_keys
    (kid, sealed, sealed_at) VALUES ('k2', 'AQID-_x', 1)")" ""
is "a sealed key insert counts as a key change" "$(gen keys)" 6
refused "a PEM in clear is refused" "INSERT INTO sealed_keys
    (kid, sealed, sealed_at) VALUES ('k1',
    E'-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n', 1)"
refused "a sealed key for an unknown kid" "INSERT INTO sealed_keys
    (kid, sealed, sealed_at) VALUES ('k9', 'AQID', 1)"
refused "an empty sealed key" "INSERT INTO sealed_keys
    (kid, sealed, sealed_at) VALUES ('k1', '', 1)"
q "DELETE FROM signing_keys WHERE kid = 'k2'" >/dev/null
is "deleting a key deletes its sealed key" \
    "$(q "SELECT count(*) FROM sealed_keys")" 0

# --- revocations -----------------------------------------------------------
rev="INSERT INTO revocations (kind, jti, client, revoked_at, expires_at)"
q "$rev VALUES ('token', 'j1', NULL, 1, 2)" >/dev/null
is "a revocation counts" "$(gen revocations)" 2
refused "the same jti twice" "$rev VALUES ('token', 'j1', NULL, 1, 2)"
is "an upsert on the partial jti index" "$(q "$rev VALUES
    ('token', 'j1', NULL, 1, 2) ON CONFLICT (jti) WHERE kind = 'token'
    DO NOTHING")" ""
refused "a token entry without a jti" "$rev VALUES ('token', NULL, 'c', 1, 2)"
refused "a client entry with a jti" "$rev VALUES ('client', 'j2', 'c', 1, 2)"
refused "a client entry without a client" \
    "$rev VALUES ('client', NULL, NULL, 1, 2)"
is "refused and skipped revocations do not count" "$(gen revocations)" 2
q "$rev VALUES ('client', NULL, 'order-service', 1, 2)" >/dev/null
q "DELETE FROM revocations WHERE expires_at <= 2" >/dev/null
is "purging two entries counts twice" "$(gen revocations)" 5

# --- certificates ------------------------------------------------------------
fp=$(printf 'a%.0s' $(seq 64))
crt="INSERT INTO certificates (serial, client, not_before, not_after, sha256,
    issued_at)"
q "$crt VALUES ('01', 'billing', 1, 2, '$fp', 1)" >/dev/null
is "issuing a certificate does not count (no server holds it)" \
    "$(gen certs)" 1
refused "the same fingerprint twice" "$crt VALUES ('02', 'billing', 1, 2,
    '$fp', 1)"
q "UPDATE certificates SET revoked_at = 1 WHERE serial = '01'" >/dev/null
is "a certificate revocation counts" "$(gen certs)" 2
q "INSERT INTO crl (id, crl_number, this_update, der)
    VALUES (1, 1, 1, '\\x3000')" >/dev/null
is "a new CRL counts" "$(gen certs)" 3

# --- NOTIFY reaches another connection, at commit only ----------------------
# The listener waits (at most 30 s) for a row the writer adds last;
# psql prints the notifications it received after that statement.
timeout 60 psql "$TSR_PG_DSN" -X -q -At -c "LISTEN tessera" -c "DO \$\$
BEGIN
	FOR i IN 1..600 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM settings WHERE name = 'done');
		PERFORM pg_sleep(0.05);
	END LOOP;
END \$\$" >"$W/notes" 2>&1 &
listener=$!
for _ in $(seq 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity
	    WHERE query LIKE 'DO %' AND pid <> pg_backend_pid()")" = 1 ] && break
	sleep 0.1
done
psql "$TSR_PG_DSN" -X -q -v ON_ERROR_STOP=1 >"$W/out" 2>&1 <<'SQL' ||
BEGIN;
INSERT INTO clients (name, cn, created_at, updated_at)
	VALUES ('billing', 'billing', 1, 1);
INSERT INTO grants (client_id, audience, created_at)
	SELECT id, 'ledger', 1 FROM clients WHERE name = 'billing';
COMMIT;
BEGIN;
INSERT INTO revocations (kind, jti, revoked_at, expires_at)
	VALUES ('token', 'rolled-back', 1, 2);
ROLLBACK;
INSERT INTO signing_keys (kid, state, bits, jwk, created_at)
	VALUES ('k3', 'next', 2048, '{}', 1);
INSERT INTO settings (name, value) VALUES ('done', 1);
SQL
    fail "the writer's statements ran" "$(cat "$W/out")"
wait "$listener"
is "the listener ended normally" "$?" 0
notes() { grep -c "notification \"tessera\" with payload \"$1\"" "$W/notes"; }
is "one policy notification for a transaction of two writes" \
    "$(notes policy)" 1
is "one keys notification" "$(notes keys)" 1
is "no notification for a rolled back revocation" "$(notes revocations)" 0
is "nothing else was received" "$(grep -c . "$W/notes")" 2

echo "1..$n"
[ "$failed" -eq 0 ]
