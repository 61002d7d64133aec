#!/usr/bin/env bash
# pg_bad_input.sh: bad input on PostgreSQL ("Replicas on PostgreSQL"): a
# malformed URI, an unreachable server, a database of a newer schema, a
# missing key-encryption key, a KEK of the wrong length or mode, and a
# KEK that cannot unseal the active key.  Each is refused with exit 1
# and a clear line that never holds a password or key material; a KEK is
# rotated by listing the new one first and running key reseal.  Runs
# with TSR_TEST_STORE=postgres (a throwaway cluster).
. "$(dirname "$0")/lib.sh"

pg_mode || bail "run with TSR_TEST_STORE=postgres"
fresh_store
make_pki

# serve_refused DESC PATTERN [GLOBAL-OPTIONS...]: "tessera serve" exits 1
# within 30 s, its output matches PATTERN and holds no "s3cret".
serve_refused() {
	local desc=$1 pat=$2
	shift 2
	timeout 30 "$TSR_BIN" --key-dir "$KEYS" "$@" serve \
	    --listen 127.0.0.1:0 \
	    --tls-cert "$PKI/server.pem" --tls-key "$PKI/server-key.pem" \
	    --client-ca "$PKI/ca.pem" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	if [ "$RC" -eq 1 ] && grep -Eq -e "$pat" "$T/err" &&
	    ! grep -q s3cret "$T/out" "$T/err"; then
		pass "$desc"
	else
		fail "$desc" "exit $RC, want 1 and /$pat/" \
		    "stderr: $(head -c 2000 "$T/err")"
	fi
}

# --- the URI -----------------------------------------------------------------
bad='postgresql://u:s3cret@[::1/x'
errors "a malformed URI is refused" tsr --db "$bad" client list
like "a malformed URI: the line says so" "$ERR" "malformed PostgreSQL URI"
is "a malformed URI: no password in the line" "$(grep -c s3cret "$T/err")" 0
errors "an unknown query parameter is refused" \
    tsr --db 'postgresql://u:s3cret@localhost/x?frobnicate=1' client list
is "an unknown parameter: no password in the line" \
    "$(grep -c s3cret "$T/err")" 0
down="postgresql://tessera:s3cret@127.0.0.1:1/tessera?connect_timeout=3"
errors "migrate with nobody listening: exit 1, one line" \
    tsr --db "$down" migrate
like "unreachable: the line names the server without the password" "$ERR" \
    'cannot connect to postgresql://tessera@127\.0\.0\.1:1/tessera'
is "unreachable: no password in the line" "$(grep -c s3cret "$T/err")" 0
serve_refused "serve with nobody listening: exit 1" \
    'cannot connect to postgresql://tessera@127\.0\.0\.1:1/tessera' \
    --db "$down"

# --- the key-encryption key ----------------------------------------------------
errors "key list without a KEK on PostgreSQL" \
    env -u TESSERA_KEY_ENCRYPTION_KEY "$TSR_BIN" --db "$DB" \
    --key-dir "$KEYS" key list
like "no KEK: the line names the option" "$ERR" "--key-encryption-key"
serve_refused "serve without a KEK on PostgreSQL" "--key-encryption-key" \
    --db "$DB" --key-encryption-key ''
head -c 31 /dev/urandom >"$T/short.kek"
chmod 0600 "$T/short.kek"
errors "a KEK of 31 bytes is refused" \
    tsr --key-encryption-key "$T/short.kek" key list
head -c 32 /dev/urandom >"$T/open.kek"
chmod 0644 "$T/open.kek"
errors "a KEK readable by others is refused" \
    tsr --key-encryption-key "$T/open.kek" key list
like "a KEK of mode 0644: the line names the file" "$ERR" "open.kek"
is "refused KEKs made no key" "$(sql "$DB" 'SELECT count(*) FROM signing_keys')" 0

# --- sealed keys: never in clear, only with the right KEK ----------------------
ok "key list makes an active and a next key, sealed" tsr key list --json
is "two sealed keys" "$(sql "$DB" 'SELECT count(*) FROM sealed_keys')" 2
is "nothing in the key directory" "$(ls -A "$KEYS")" ""
kekhex=$(od -An -tx1 "$KEK" | tr -d ' \n')
kekb64=$(base64 -w0 <"$KEK" | tr -d '=')
dump=$(pg_dump --no-owner "$DB")
ok "the database holds no PEM" test "$(grep -c 'PRIVATE KEY' <<<"$dump")" -eq 0
ok "the database holds no KEK" test "$(grep -c -e "$kekhex" -e "$kekb64" \
    <<<"$dump")" -eq 0
active=$(sql "$DB" "SELECT kid FROM signing_keys WHERE state = 'active'")
start_server || bail "the server did not start with its KEK"
# libpq is loaded for a PostgreSQL store, not linked (lib/store/pq.h).
grep -q 'libpq\.so' "/proc/$SERVER_PID/maps"
tap_ok $? "the server on PostgreSQL has loaded libpq"
readelf -d "$TESSERA" | grep NEEDED >"$T/needed"
ok "the program does not link libpq" test "$(grep -c libpq "$T/needed")" = 0
stop_server
ok "the server started and stopped" test "$SERVER_STATUS" -eq 0

"$TSR_BIN" kek generate "$T/other.kek" >/dev/null
serve_refused "serve with a KEK that cannot unseal the active key" \
    "cannot be unsealed" --db "$DB" --key-encryption-key "$T/other.kek"
grep -q -e "$kekhex" -e "$kekb64" "$T/err"
is "the refusal holds no KEK" "$?" 1

# --- KEK rotation: the new KEK first, reseal, the old one can go --------------
usage_error "key reseal without a KEK" \
    env -u TESSERA_KEY_ENCRYPTION_KEY "$TSR_BIN" --db "$DB" key reseal
before=$(sql "$DB" 'SELECT sealed FROM sealed_keys ORDER BY kid')
tsr ca init >/dev/null && tsr client add svc --cn svc >/dev/null ||
    bail "cannot make a CA"
ca_before=$(sql "$DB" 'SELECT key_sealed FROM ca')
ok "key reseal under a new KEK" \
    tsr --key-encryption-key "$T/other.kek,$KEK" key reseal
like "key reseal counts the keys" "$OUT" "resealed 2 private key"
like "key reseal reseals the CA key too" "$OUT" "and the CA key"
isnt "the sealed CA key changed" "$(sql "$DB" 'SELECT key_sealed FROM ca')" \
    "$ca_before"
run "$TSR_BIN" --db "$DB" --key-encryption-key "$T/other.kek" \
    cert issue svc --out "$T"
is "the new KEK alone issues a certificate" "$RC" 0
run "$TSR_BIN" --db "$DB" --key-encryption-key "$KEK" cert issue svc \
    --out "$T"
is "the old KEK alone cannot use the CA key" "$RC" 1
isnt "the sealed texts changed" \
    "$(sql "$DB" 'SELECT sealed FROM sealed_keys ORDER BY kid')" "$before"
ok "key reseal again changes nothing" \
    tsr --key-encryption-key "$T/other.kek,$KEK" key reseal
like "a second reseal counts none" "$OUT" "resealed 0 private key"
serve_refused "the old KEK alone can no longer unseal" "cannot be unsealed" \
    --db "$DB" --key-encryption-key "$KEK"
export TESSERA_KEY_ENCRYPTION_KEY=$T/other.kek
start_server || bail "the server did not start with the new KEK"
stop_server
ok "the new KEK alone serves" test "$SERVER_STATUS" -eq 0
is "the active key did not change" \
    "$(sql "$DB" "SELECT kid FROM signing_keys WHERE state = 'active'")" \
    "$active"

# --- a database newer than this tessera ---------------------------------------
sql "$DB" "INSERT INTO schema_migrations (version, name, applied_at)
    VALUES (999, 'future', 0)" >/dev/null
# pg_sum: the rows of every table (not the random \restrict key of a
# dump, nor sequence positions)
pg_sum() {
	pg_dump --data-only --no-owner --no-comments "$DB" |
	    grep -Ev '^(--|\\restrict|\\unrestrict|SELECT pg_catalog.setval)' |
	    sha256sum | cut -d' ' -f1
}
sum=$(pg_sum)
errors "migrate refuses a newer database" tsr migrate
like "a newer database: the line says so" "$ERR" "newer than this tessera"
is "a newer database is left untouched" "$(pg_sum)" "$sum"
serve_refused "serve refuses a newer database" "newer than this tessera" \
    --db "$DB"

done_testing
