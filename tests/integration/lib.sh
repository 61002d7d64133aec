# lib.sh: helpers for tessera's TAP integration tests.  Source it:
#
#	. "$(dirname "$0")/lib.sh"
#	ok "migrate" tsr migrate
#	is "state" "$(json .keys[0].state <"$T/out")" active
#	done_testing
#
# Environment (meson sets it): TESSERA (the binary), TSR_SRCDIR (source
# root), TSR_PYTHON (the Python meson found, /usr/bin/python3 with
# python3-jwt/jwcrypto); TSR_TEST_STORE (below).
# Every test gets its own temp dir $T, removed (and any server killed) on
# exit.  $DB and $KEYS are a database and a key directory inside it; tsr
# runs the binary with them.
#
# Tests run the binary as "$TSR_BIN" (tsr and start_server do), never as
# "$TESSERA" directly: with TSR_WRAPPER set (a command prefix, words split
# on blanks, e.g. tests/valgrind-wrap as "meson test --setup=valgrind" sets
# it) TSR_BIN is a script in $T that execs "TSR_WRAPPER... $TESSERA ARGS",
# keeping the pid, so it also works under env, timeout and bash -c.
# TSR_TIME_SCALE (default 1; 20 with TSR_WRAPPER) multiplies the waits for
# the server to come up and to exit.
# shellcheck shell=bash disable=SC2034,SC2119,SC2120

set -u
export LC_ALL=C

: "${TESSERA:?TESSERA must name the tessera binary}"
TSR_SRCDIR=${TSR_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TSR_PYTHON=${TSR_PYTHON:-/usr/bin/python3}
export TSR_SRCDIR TSR_PYTHON
# Tests choose the store explicitly; the caller's settings must not leak in.
unset TESSERA_DB TESSERA_KEY_DIR TESSERA_KEY_ENCRYPTION_KEY

T=$(mktemp -d "${TMPDIR:-/tmp}/tsr-it.XXXXXX")
TSR_WRAPPER=${TSR_WRAPPER:-}
if [ -n "$TSR_WRAPPER" ]; then
	TSR_BIN=$T/tessera
	read -r -a _wrap <<<"$TSR_WRAPPER"
	{
		echo '#!/usr/bin/env bash'
		printf 'exec'
		printf ' %q' "${_wrap[@]}" "$TESSERA"
		printf ' "$@"\n'
	} >"$TSR_BIN"
	chmod 0755 "$TSR_BIN"
	unset _wrap
	TSR_TIME_SCALE=${TSR_TIME_SCALE:-20}
else
	TSR_BIN=$TESSERA
	TSR_TIME_SCALE=${TSR_TIME_SCALE:-1}
fi
export TSR_BIN
DB=$T/t.db
KEYS=$T/keys
KEK=
SERVER_PID=
_tap_n=0
_tap_failed=0
_lib_pg_dir=	# the cluster this script started itself, if any

_lib_cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		_wait_pid "$SERVER_PID" $((50 * TSR_TIME_SCALE)) ||
		    kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	[ -n "$_lib_pg_dir" ] && "$TSR_SRCDIR/tests/pg/pg-stop" "$_lib_pg_dir"
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap _lib_cleanup EXIT
trap 'exit 130' INT TERM

# --- TAP -------------------------------------------------------------------

diag() { printf '# %s\n' "$*" | sed '2,$s/^/# /'; }

# pass DESC / fail DESC [diagnostic lines...]
pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	shift
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
	return 0
}

# tap_ok COND DESC: COND is a shell exit status (0 = pass)
tap_ok() { if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2"; fi; }

# run CMD...: run it, keeping stdout in $T/out (and $OUT), stderr in
# $T/err (and $ERR), and the exit status in $RC.  Never fails itself.
run() {
	"$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	return 0
}

_show_run() {
	printf 'command:'
	printf ' %q' "$@"
	printf '\n'
	printf 'exit: %s\n' "$RC"
	[ -s "$T/out" ] && printf 'stdout: %s\n' "$(head -c 2000 "$T/out")"
	[ -s "$T/err" ] && printf 'stderr: %s\n' "$(head -c 2000 "$T/err")"
	return 0
}

# ok DESC CMD...: CMD exits 0
ok() {
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 0 ]; then pass "$desc"; else fail "$desc" "$(_show_run "$@")"; fi
}

# exits DESC WANT CMD...: CMD exits with status WANT
exits() {
	local desc=$1 want=$2
	shift 2
	run "$@"
	if [ "$RC" -eq "$want" ]; then
		pass "$desc"
	else
		fail "$desc" "want exit $want" "$(_show_run "$@")"
	fi
}

# is DESC GOT WANT
is() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1" "got:  '$2'" "want: '$3'"
	fi
}

# isnt DESC GOT UNWANTED
isnt() {
	if [ "$2" != "$3" ]; then
		pass "$1"
	else
		fail "$1" "got '$2', which it must not be"
	fi
}

# like DESC GOT ERE
like() {
	if [[ "$2" =~ $3 ]]; then
		pass "$1"
	else
		fail "$1" "got:  '$2'" "want match: /$3/"
	fi
}

# one_error_line: is $T/err exactly one line starting "tessera: "?
one_error_line() {
	[ "$(wc -l <"$T/err")" -eq 1 ] && [[ "$(cat "$T/err")" == "tessera: "?* ]]
}

# errors DESC CMD...: CMD exits 1 with exactly one stderr line "tessera: ..."
errors() {
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 1 ] && one_error_line; then
		pass "$desc"
	else
		fail "$desc" "want exit 1 and one line 'tessera: ...' on stderr" \
		    "$(_show_run "$@")"
	fi
}

# bad_input DESC FILE CMD...: CMD exits 1 with one "tessera: " line on
# stderr, and FILE (a database; absent is fine) has the same checksum
# afterwards.  One TAP line.
bad_input() {
	local desc=$1 f=$2 before after why=()
	shift 2
	before=$(db_checksum "$f")
	run "$@"
	after=$(db_checksum "$f")
	[ "$RC" -eq 1 ] || why+=("want exit 1")
	one_error_line || why+=("want exactly one stderr line 'tessera: ...'")
	[ "$before" == "$after" ] || why+=("the database changed")
	if [ "${#why[@]}" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc" "${why[@]}" "$(_show_run "$@")"
	fi
}

# usage_error DESC CMD...: CMD exits 2 and says something on stderr
usage_error() {
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 2 ] && [ -s "$T/err" ]; then
		pass "$desc"
	else
		fail "$desc" "want exit 2 and usage on stderr" "$(_show_run "$@")"
	fi
}

# done_testing: print the plan; exit 1 if anything failed
done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ] || exit 1
	exit 0
}

# bail REASON: stop the whole test file
bail() { echo "Bail out! $*"; exit 1; }

# --- files and databases ---------------------------------------------------

# The store under test: an SQLite file ($DB) unless TSR_TEST_STORE names
# another kind (e.g. postgres).  Tests read the store through the CLI
# (key list --as-stored, revocation list --include-expired, audit --json,
# ...); the few checks about SQLite's file itself (a corrupt or
# hand-edited file, rows written behind the CLI's back) run only when
# sqlite_store is true and are TAP skips otherwise.
TSR_TEST_STORE=${TSR_TEST_STORE:-sqlite}
sqlite_store() { [ "$TSR_TEST_STORE" = sqlite ]; }

# With TSR_TEST_STORE=postgres: a throwaway PostgreSQL cluster
# (tests/pg/pg-start) for this script alone, stopped on exit; $DB is its
# URI and private keys are sealed in it under a key-encryption key ($KEK,
# exported as TESSERA_KEY_ENCRYPTION_KEY).  Without the PostgreSQL server
# programs the script is a TAP skip.
pg_mode() { [ "$TSR_TEST_STORE" = postgres ]; }
if pg_mode; then
	if [ ! -x "${TSR_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ]; then
		echo "1..0 # SKIP PostgreSQL server programs not installed"
		exit 0
	fi
	_pg=$("$TSR_SRCDIR/tests/pg/pg-start") || {
		echo "Bail out! pg-start failed"
		exit 1
	}
	eval "$_pg"
	unset _pg
	_lib_pg_dir=$TSR_PG_DIR
	DB=$TSR_PG_DSN
	KEK=$T/kek
	"$TSR_BIN" kek generate "$KEK" >/dev/null ||
	    { echo "Bail out! kek generate failed"; exit 1; }
	export TESSERA_KEY_ENCRYPTION_KEY=$KEK
fi

# sql DB STATEMENT: rows of columns separated by "|", with psql: for the
# PostgreSQL tests' own checks of what the CLI does not show (sealed keys)
sql() { psql "$1" -X -q -At -v ON_ERROR_STOP=1 -c "$2"; }

# private_key_present KID: the private half of KID is kept (a file in
# $KEYS, or sealed in the database); private_key_absent: the opposite
private_key_present() {
	if pg_mode; then
		[ "$(sql "$DB" "SELECT count(*) FROM sealed_keys
		    WHERE kid = '$1'")" = 1 ]
	else
		test -e "$KEYS/$1.pem"
	fi
}
private_key_absent() { ! private_key_present "$1"; }

# key_view: a directory holding the private keys as the key directory
# would, <kid>.pem mode 0600, printed.  With a key directory, $KEYS; on
# PostgreSQL each sealed key unsealed with $KEK (AES-256-GCM, AAD the
# kid) into a new directory, plus a file KEY-DIR-NOT-EMPTY if $KEYS holds
# anything: sealed keys are never files.
key_view() {
	if ! pg_mode; then
		echo "$KEYS"
		return
	fi
	local dir
	dir=$(mktemp -d "$T/view.XXXXXX")
	[ -z "$(ls -A "$KEYS" 2>/dev/null)" ] || : >"$dir/KEY-DIR-NOT-EMPTY"
	sql "$DB" 'SELECT kid, sealed FROM sealed_keys' |
	    "$TSR_PYTHON" -c '
import base64, os, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
kek = open(sys.argv[1], "rb").read()
for line in sys.stdin:
    kid, text = line.strip().split("|")
    b = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert b[0] == 1, "version"
    pem = AESGCM(kek).decrypt(b[9:21], b[21:], kid.encode())
    fd = os.open(os.path.join(sys.argv[2], kid + ".pem"),
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, pem)
    os.close(fd)
' "$KEK" "$dir" || echo "key_view: cannot unseal" >&2
	chmod 0700 "$dir"
	echo "$dir"
}

# ca_key_pem OUT: the CA's private key written to OUT (0600), from its
# file in $KEYS, or on PostgreSQL unsealed from the CA row with $KEK
# (AES-256-GCM, AAD "ca"), for tests that sign with it behind tessera's
# back (an expired certificate).
ca_key_pem() {
	if ! pg_mode; then
		install -m 0600 "$KEYS/ca-key.pem" "$1"
		return
	fi
	sql "$DB" "SELECT key_sealed FROM ca WHERE key_ref = 'sealed'" |
	    "$TSR_PYTHON" -c '
import base64, os, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
text = sys.stdin.read().strip()
b = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
assert b[0] == 1, "version"
pem = AESGCM(open(sys.argv[1], "rb").read()).decrypt(b[9:21], b[21:], b"ca")
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, pem)
os.close(fd)
' "$KEK" "$1"
}

# skip DESC REASON: a TAP line for a check that does not apply here
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }

# db_checksum DB [--no-audit]: a checksum of the store's content; with
# --no-audit, of everything but the audit trail, which a running server
# appends to on every request.  "absent" when there is no file.  For
# SQLite: its SQL dump (so every table counts), or the file's own sha256
# when it is not a database sqlite3 can dump.  For another store: what
# the CLI reads of it (which leaves out the audit trail).
db_checksum() {
	local f=$1 dump
	if ! sqlite_store; then
		_cli_reads "$f" | sha256sum | cut -d' ' -f1
	elif [ ! -e "$f" ]; then
		echo absent
	elif dump=$(sqlite3 -readonly "$f" .dump 2>/dev/null) &&
	    [ -n "$dump" ] && [[ "$dump" != *"CORRUPTION ERROR"* ]]; then
		[ "${2:-}" != --no-audit ] ||
		    dump=$(grep -Ev '^INSERT INTO "?audit_events"?[ (]' <<<"$dump")
		printf '%s' "$dump" | sha256sum | cut -d' ' -f1
	else
		file_checksum "$f"
	fi
}

_cli_reads() {	# _cli_reads DB: every list the CLI has of the store DB
	local c
	for c in "client list" "grant list" "key list --as-stored" \
	    "revocation list --include-expired" "policy export"; do
		# shellcheck disable=SC2086
		"$TSR_BIN" --db "$1" --key-dir "$KEYS" --json $c 2>&1
		echo "exit $?"
	done
}

file_checksum() { sha256sum <"$1" | cut -d' ' -f1; }

# file_mode PATH: octal permission bits, e.g. 600
file_mode() { stat -c %a "$1"; }

# stored_keys EXPR: evaluate a Python expression on the signing keys as
# stored, bound to "ks" (the rows of "tessera key list --as-stored
# --json", which skips the upkeep a plain list does, so it shows what a
# server left); a list prints one item a line, anything else as is.
#	stored_keys 'sum(k["state"] == "active" for k in ks)'
stored_keys() {
	"$TSR_BIN" --db "$DB" --key-dir "$KEYS" key list --as-stored --json |
	    "$TSR_PYTHON" -c '
import json, sys
ks = json.load(sys.stdin)["keys"]
v = eval(sys.argv[1], {"ks": ks})
sys.stdout.write("".join("%s\n" % x for x in v) if isinstance(v, list)
                 else "%s\n" % v)
' "$1"
}

# stored_revocations EXPR: evaluate a Python expression on the deny-list
# as stored, bound to "rs" (the rows of "tessera revocation list
# --include-expired --json": also the entries past their expiry that the
# server has not purged) and "now" (the clock); a list prints one item a
# line, anything else as is.
stored_revocations() {
	"$TSR_BIN" --db "$DB" --key-dir "$KEYS" revocation list \
	    --include-expired --json | "$TSR_PYTHON" -c '
import json, sys, time
rs = json.load(sys.stdin)["revocations"]
v = eval(sys.argv[1], {"rs": rs, "now": int(time.time())})
sys.stdout.write("".join("%s\n" % x for x in v) if isinstance(v, list)
                 else "%s\n" % v)
' "$1"
}

# --- JSON ------------------------------------------------------------------

# json EXPR: evaluate a Python expression on the JSON document on stdin,
# bound to "d"; prints str for strings, JSON for anything else.
#	json 'd["keys"][0]["state"]' <"$T/out"
json() {
	"$TSR_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
' "$1"
}

# json_check DESC PYTHON-STATEMENTS: run asserts on $T/out parsed as "d";
# a failing assert (or bad JSON) is a failing test showing the document.
json_check() {
	local desc=$1 code=$2 msg
	if msg=$("$TSR_PYTHON" -c '
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
exec(sys.argv[2], {"d": d, "json": json})
' "$T/out" "$code" 2>&1); then
		pass "$desc"
	else
		fail "$desc" "$(printf '%s\n' "$msg" | tail -n 3)" \
		    "document: $(head -c 2000 "$T/out")"
	fi
}

# --- the binary ------------------------------------------------------------

# tsr ARGS...: tessera with this test's database and key directory
tsr() { "$TSR_BIN" --db "$DB" --key-dir "$KEYS" "$@"; }

# fresh_store: a new migrated database and an empty 0700 key directory
fresh_store() {
	if pg_mode; then
		sql "$DB" 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' \
		    2>/dev/null || bail "cannot empty the database"
	fi
	rm -rf "$DB" "$DB-wal" "$DB-shm" "$KEYS"
	mkdir -m 0700 "$KEYS"
	"$TSR_BIN" --db "$DB" --key-dir "$KEYS" migrate >/dev/null ||
	    bail "tessera migrate failed on a fresh database"
}

# --- PKI and the server ----------------------------------------------------

# make_pki [DIR]: development PKI (scripts/dev-pki), default $T/pki
make_pki() {
	PKI=${1:-$T/pki}
	"$TSR_SRCDIR/scripts/dev-pki" "$PKI" >/dev/null || bail "dev-pki failed"
}

_wait_pid() {	# _wait_pid PID TRIES (0.1 s each): 0 once PID has gone
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# start_server [SERVE-OPTIONS...]: start "tessera serve" on 127.0.0.1
# port 0 (the kernel picks a free port; the server writes the one it got
# to $T/port with --port-file, so no other process can take it in
# between) with $DB, $KEYS and the PKI in $PKI (made if unset), and wait
# until /healthz answers 200.  Sets PORT, BASE (https://127.0.0.1:PORT, also
# the default issuer), SERVER_PID; the log is $T/server.log.  Returns 1
# (after printing the log as diagnostics) when the server does not come up.
# TSR_START_TRIES (default 200 times TSR_TIME_SCALE, 0.05 s apart) bounds
# the wait.
start_server() {
	[ -n "${PKI:-}" ] || make_pki
	[ -d "$KEYS" ] || mkdir -m 0700 "$KEYS"
	rm -f "$T/port"
	PORT=
	BASE=
	"$TSR_BIN" --db "$DB" --key-dir "$KEYS" serve \
	    --listen 127.0.0.1:0 --port-file "$T/port" \
	    --tls-cert "$PKI/server.pem" --tls-key "$PKI/server-key.pem" \
	    --client-ca "$PKI/ca.pem" "$@" \
	    >>"$T/server.log" 2>&1 </dev/null &
	SERVER_PID=$!
	local i tries=${TSR_START_TRIES:-$((200 * TSR_TIME_SCALE))}
	for ((i = 0; i < tries; i++)); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			wait "$SERVER_PID" 2>/dev/null
			diag "server exited early (status $?):"
			diag "$(tail -n 20 "$T/server.log")"
			SERVER_PID=
			return 1
		fi
		if [ -z "$PORT" ] && [ -s "$T/port" ]; then
			PORT=$(cat "$T/port")
			BASE=https://127.0.0.1:$PORT
		fi
		if [ -n "$PORT" ] && curl -sf -o /dev/null --max-time 2 \
		    --cacert "$PKI/ca.pem" "$BASE/healthz"; then
			return 0
		fi
		sleep 0.05
	done
	diag "server not healthy after $tries tries:"
	diag "$(tail -n 20 "$T/server.log")"
	return 1
}

# stop_server: SIGTERM, wait (bounded); sets SERVER_STATUS to its exit
# status (or "hung" after a SIGKILL)
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	if _wait_pid "$SERVER_PID" $((100 * TSR_TIME_SCALE)); then
		wait "$SERVER_PID" 2>/dev/null
		SERVER_STATUS=$?
	else
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_STATUS=hung
	fi
	SERVER_PID=
}

# ccurl CLIENT CURL-ARGS...: curl as client CLIENT ($PKI/CLIENT.pem), or
# with no certificate when CLIENT is "-".  Trusts only $PKI/ca.pem.
ccurl() {
	local c=$1 cert=()
	shift
	[ "$c" = - ] || cert=(--cert "$PKI/$c.pem" --key "$PKI/$c-key.pem")
	curl -s --max-time 10 --cacert "$PKI/ca.pem" "${cert[@]}" "$@"
}
