#!/usr/bin/env bash
# cli_bad_input.sh: every bad input to the admin CLI exits 1 with one line
# "tessera: ..." on stderr and leaves the database exactly as it was.
. "$(dirname "$0")/lib.sh"

fresh_store
tsr client add order-service --cn order-service >/dev/null 2>&1 ||
    bail "client add failed"
tsr grant add order-service inventory-service --scope stock:read \
    >/dev/null 2>&1 || bail "grant add failed"

rep() { printf "%${2}s" '' | tr ' ' "$1"; }	# rep CHAR N

# --- policy input ----------------------------------------------------------
bad_input "grant add for an unknown client" "$DB" \
    tsr grant add no-such-client inventory-service --scope stock:read
bad_input "client add with a duplicate name" "$DB" \
    tsr client add order-service --cn other-cn
bad_input "client add with a duplicate CN" "$DB" \
    tsr client add other-service --cn order-service
bad_input "client add with an invalid name (bad name!)" "$DB" \
    tsr client add 'bad name!' --cn bad-name
bad_input "client add with a name over 128 characters" "$DB" \
    tsr client add "$(rep n 129)" --cn long-name
ok "client add with a name of 128 characters" \
    tsr client add "$(rep n 128)" --cn long-name
bad_input "client add with a CN over 64 characters" "$DB" \
    tsr client add cn-65 --cn "$(rep c 65)"
ok "client add with a CN of 64 characters" \
    tsr client add cn-64 --cn "$(rep c 64)"
bad_input "client add with a control character in the CN" "$DB" \
    tsr client add cn-tab --cn $'tab\there'
bad_input "client add with a description over 256 characters" "$DB" \
    tsr client add long-desc --cn long-desc --description "$(rep d 257)"
ok "client add with a description of 256 characters" \
    tsr client add desc-256 --cn desc-256 --description "$(rep d 256)"
bad_input "grant add with an invalid audience" "$DB" \
    tsr grant add order-service 'bad audience!' --scope stock:read
bad_input 'grant add with a bad scope (a"b)' "$DB" \
    tsr grant add order-service billing-service --scope 'a"b'
bad_input 'grant add with a bad scope (a\b)' "$DB" \
    tsr grant add order-service billing-service --scope 'a\b'
bad_input "grant add with a space in a scope" "$DB" \
    tsr grant add order-service billing-service --scope 'a b'
bad_input "grant add with one bad scope among good ones" "$DB" \
    tsr grant add order-service billing-service --scope ok:1 --scope 'x"y'
bad_input "grant add --ttl 5x" "$DB" \
    tsr grant add order-service billing-service --ttl 5x
bad_input "grant add --ttl 0s" "$DB" \
    tsr grant add order-service billing-service --ttl 0s
bad_input "grant add --ttl without a unit (300)" "$DB" \
    tsr grant add order-service billing-service --ttl 300
bad_input "grant add --ttl over 100 years (36601d)" "$DB" \
    tsr grant add order-service billing-service --ttl 36601d
bad_input "grant add --ttl 99999999999999999999d (overflow)" "$DB" \
    tsr grant add order-service billing-service --ttl 99999999999999999999d

# --- keys ------------------------------------------------------------------
tsr key list >/dev/null 2>&1 || bail "key list failed"
bad_input "key revoke of an unknown kid" "$DB" \
    tsr key revoke AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
bad_input "key revoke of a malformed kid" "$DB" \
    tsr key revoke '../../etc/passwd'

# --- the database itself ---------------------------------------------------
# SQLite-only: its file's path, bytes and schema table (another store
# has failures of its own kind, tested where it is opened).
newer_schema() {	# newer_schema DB: record migration 999
	"$TSR_PYTHON" - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = db.execute("PRAGMA table_info(schema_migrations)").fetchall()
names, values = [], []
for _, name, ctype, notnull, default, pk in cols:
    if name == "version":
        names.append(name); values.append(999)
    elif notnull and default is None:
        names.append(name)
        values.append(0 if "INT" in (ctype or "").upper() else "future")
db.execute("INSERT INTO schema_migrations (%s) VALUES (%s)" %
           (", ".join(names), ", ".join("?" * len(values))), values)
db.commit()
db.close()
PY
}

if sqlite_store; then
	bad_input "database in a missing directory (client list)" "$T/nodir/t.db" \
	    "$TSR_BIN" --db "$T/nodir/t.db" --key-dir "$KEYS" client list
	bad_input "database in a missing directory (migrate)" "$T/nodir/t.db" \
	    "$TSR_BIN" --db "$T/nodir/t.db" --key-dir "$KEYS" migrate
	ok "database in a missing directory: nothing created" test ! -e "$T/nodir"

	# Root ignores mode bits, so "unwritable" is a path under a regular file.
	: >"$T/file"
	bad_input "database in an unwritable directory (migrate)" "$T/file/t.db" \
	    "$TSR_BIN" --db "$T/file/t.db" --key-dir "$KEYS" migrate
	bad_input "database in an unwritable directory (client add)" "$T/file/t.db" \
	    "$TSR_BIN" --db "$T/file/t.db" --key-dir "$KEYS" \
	    client add x --cn x

	head -c 16384 /dev/urandom >"$T/corrupt.db"
	printf 'this is not a database' | dd of="$T/corrupt.db" conv=notrunc \
	    status=none
	sum=$(file_checksum "$T/corrupt.db")
	for cmd in "migrate" "client list" "client add x --cn x" "key list"; do
		# shellcheck disable=SC2086
		bad_input "corrupt database file ($cmd)" "$T/corrupt.db" \
		    "$TSR_BIN" --db "$T/corrupt.db" --key-dir "$KEYS" $cmd
	done
	is "corrupt database file: the file is unchanged" \
	    "$(file_checksum "$T/corrupt.db")" "$sum"
	ok "corrupt database file: no -wal or -shm left" \
	    test ! -e "$T/corrupt.db-wal" -a ! -e "$T/corrupt.db-shm"

	# A database that a newer tessera migrated: schema_migrations knows 999.
	sqlite3 "$DB" ".backup '$T/newer.db'" || bail "cannot copy the database"
	newer_schema "$T/newer.db" || bail "cannot record migration 999"
	for cmd in "migrate" "client list" "client add x --cn x" "key list"; do
		# shellcheck disable=SC2086
		bad_input "database newer than the program ($cmd)" "$T/newer.db" \
		    "$TSR_BIN" --db "$T/newer.db" --key-dir "$KEYS" $cmd
	done
else
	skip "the database file itself" "not an SQLite store"
fi

# --- the key directory -----------------------------------------------------
# A fresh store whose key directory is group/world readable: no key is
# made, nothing changes.
DB2=$T/loose.db
mkdir -m 0700 "$T/k-migrate"
"$TSR_BIN" --db "$DB2" --key-dir "$T/k-migrate" migrate >/dev/null 2>&1 ||
    bail "migrate failed"
mkdir -p "$T/loose"
chmod 0755 "$T/loose"
for cmd in "key list" "key rotate"; do
	# shellcheck disable=SC2086
	bad_input "key directory mode 0755 ($cmd)" "$DB2" \
	    "$TSR_BIN" --db "$DB2" --key-dir "$T/loose" $cmd
done
is "key directory mode 0755: no key file written" "$(ls -A "$T/loose")" ""
chmod 0750 "$T/loose"
bad_input "key directory mode 0750 (key list)" "$DB2" \
    "$TSR_BIN" --db "$DB2" --key-dir "$T/loose" key list
: >"$T/notadir"
bad_input "key directory that is a file (key list)" "$DB2" \
    "$TSR_BIN" --db "$DB2" --key-dir "$T/notadir" key list

# The store's own keys with a loosened directory are refused too.
chmod 0755 "$KEYS"
bad_input "existing key directory loosened to 0755 (key rotate)" "$DB" \
    tsr key rotate
chmod 0700 "$KEYS"

done_testing
