#!/usr/bin/env bash
# cli.sh: the admin CLI against a temp database ("The tessera
# program"): migrate, clients, grants, --json shapes, global options in
# either place, environment variables, usage errors (exit 2).
. "$(dirname "$0")/lib.sh"

start_at=$(date +%s)

# --- migrate ---------------------------------------------------------------
mkdir -m 0700 "$KEYS"
ok "migrate: a fresh database" tsr migrate
like "migrate: applies every migration from version 1" "$OUT" \
    '^applied ([1-9][0-9]*) migrations?; schema version \1$'
version=${OUT##* }
if sqlite_store; then
	ok "migrate: the database file exists" test -s "$DB"
else
	skip "migrate: the database file exists" "not an SQLite store"
fi
sum=$(db_checksum "$DB")
ok "migrate: a second run succeeds" tsr migrate
is "migrate: a second run applies nothing" "$OUT" \
    "applied 0 migrations; schema version $version"
is "migrate: a second run changes nothing" "$(db_checksum "$DB")" "$sum"

# --- clients ---------------------------------------------------------------
ok "client add order-service" \
    tsr client add order-service --cn order-service --description "Places orders"
ok "client add billing-service with another CN" \
    tsr client add billing-service --cn billing.internal
ok "client add with options before the name" \
    tsr client add --cn "Stock Keeper" inventory-service
end_at=$(date +%s)

ok "client list --json" tsr client list --json
json_check "client list --json: shape and values" "
start, end = $start_at, $end_at
assert list(d) == ['clients'], list(d)
cs = d['clients']
assert [c['name'] for c in cs] == ['billing-service', 'inventory-service',
    'order-service'], [c['name'] for c in cs]
for c in cs:
    assert set(c) == {'name', 'cn', 'enabled', 'description', 'created_at'}, c
    assert c['enabled'] is True, c
    assert type(c['created_at']) is int and start <= c['created_at'] <= end, c
by = {c['name']: c for c in cs}
assert by['order-service']['cn'] == 'order-service'
assert by['order-service']['description'] == 'Places orders'
assert by['billing-service']['cn'] == 'billing.internal'
assert by['billing-service']['description'] == ''
assert by['inventory-service']['cn'] == 'Stock Keeper'
"

ok "client list (human)" tsr client list
like "client list (human) names every client" "$OUT" \
    "billing-service.*inventory-service.*order-service"

ok "client show order-service (human)" tsr client show order-service
like "client show (human) names the client" "$OUT" "order-service"
like "client show (human) shows the description" "$OUT" "Places orders"

ok "client show --json" tsr client show billing-service --json
json_check "client show --json: the client's fields" "
c = d.get('client', d)
for k in ('name', 'cn', 'enabled', 'description', 'created_at'):
    assert k in c, (k, c)
assert c['name'] == 'billing-service' and c['cn'] == 'billing.internal', c
assert c['enabled'] is True
"

ok "client disable billing-service" tsr client disable billing-service
run tsr client list --json
json_check "client disable: enabled is false" "
by = {c['name']: c for c in d['clients']}
assert by['billing-service']['enabled'] is False, by
assert by['order-service']['enabled'] is True, by
"
ok "client disable twice is fine" tsr client disable billing-service
ok "client enable billing-service" tsr client enable billing-service
run tsr client list --json
json_check "client enable: enabled is true again" "
assert all(c['enabled'] is True for c in d['clients']), d
"

# --- grants ----------------------------------------------------------------
ok "grant add with two scopes and a ttl" \
    tsr grant add order-service inventory-service \
    --scope stock:read --scope stock:deduct --ttl 5m
ok "grant add without scopes or ttl" \
    tsr grant add order-service billing-service
ok "grant add with options first" \
    tsr grant add --ttl 90s --scope stock:read billing-service inventory-service
ok "grant add with a duplicate scope" \
    tsr grant add inventory-service audit-log --scope w --scope w --scope r

ok "grant list --json" tsr grant list --json
json_check "grant list --json: shape and values" "
assert list(d) == ['grants'], list(d)
gs = d['grants']
for g in gs:
    assert set(g) == {'client', 'audience', 'scopes', 'ttl_s'}, g
    assert isinstance(g['scopes'], list), g
got = sorted((g['client'], g['audience']) for g in gs)
assert got == [('billing-service', 'inventory-service'),
    ('inventory-service', 'audit-log'),
    ('order-service', 'billing-service'),
    ('order-service', 'inventory-service')], got
by = {(g['client'], g['audience']): g for g in gs}
g = by[('order-service', 'inventory-service')]
assert g['scopes'] == ['stock:deduct', 'stock:read'], g
assert g['ttl_s'] == 300 and type(g['ttl_s']) is int, g
g = by[('order-service', 'billing-service')]
assert g['scopes'] == [], g
assert g['ttl_s'] in (None, 0), g	# no ttl: the server's --token-ttl
g = by[('billing-service', 'inventory-service')]
assert g['scopes'] == ['stock:read'] and g['ttl_s'] == 90, g
g = by[('inventory-service', 'audit-log')]
assert g['scopes'] == ['r', 'w'], g
"

ok "grant list --client" tsr grant list --client order-service --json
json_check "grant list --client: only that client's grants" "
assert sorted(g['audience'] for g in d['grants']) == \
    ['billing-service', 'inventory-service'], d
"
ok "grant list --audience" tsr grant list --audience inventory-service --json
json_check "grant list --audience: only that audience's grants" "
assert sorted(g['client'] for g in d['grants']) == \
    ['billing-service', 'order-service'], d
"
ok "grant list --client --audience" \
    tsr grant list --client order-service --audience inventory-service --json
json_check "grant list --client --audience: one grant" "
assert [(g['client'], g['audience']) for g in d['grants']] == \
    [('order-service', 'inventory-service')], d
"
ok "grant list --client with no grants" \
    tsr grant list --client nobody-at-all --json
json_check "grant list of an unknown client: empty list" "
assert d == {'grants': []}, d
"

ok "grant list (human)" tsr grant list
like "grant list (human) names the audiences" "$OUT" "inventory-service"
like "grant list (human) names the scopes" "$OUT" "stock:deduct"

ok "grant remove" tsr grant remove order-service billing-service
run tsr grant list --client order-service --json
json_check "grant remove: the grant is gone, the other stays" "
assert [g['audience'] for g in d['grants']] == ['inventory-service'], d
"
bad_input "grant remove of a grant that does not exist" "$DB" \
    tsr grant remove order-service billing-service

# --- removing clients ------------------------------------------------------
ok "client remove billing-service" tsr client remove billing-service
run tsr client list --json
json_check "client remove: the client is gone" "
assert [c['name'] for c in d['clients']] == ['inventory-service',
    'order-service'], d
"
run tsr grant list --json
json_check "client remove: its grants are gone" "
assert all(g['client'] != 'billing-service' for g in d['grants']), d
assert len(d['grants']) == 2, d
"
bad_input "client remove of an unknown client" "$DB" \
    tsr client remove billing-service
bad_input "client show of an unknown client" "$DB" \
    tsr client show billing-service
bad_input "client enable of an unknown client" "$DB" \
    tsr client enable no-such-client
bad_input "client disable of an unknown client" "$DB" \
    tsr client disable no-such-client

# --- global options in either place, environment ---------------------------
tsr client list --json >"$T/want.json" 2>/dev/null
want=$(cat "$T/want.json")
ok "global options after the subcommand" \
    "$TSR_BIN" client list --json --db "$DB" --key-dir "$KEYS"
is "global options after the subcommand: same output" "$OUT" "$want"
ok "--json before the subcommand" \
    "$TSR_BIN" --json --db "$DB" client list
is "--json before the subcommand: same output" "$OUT" "$want"
ok "TESSERA_DB and TESSERA_KEY_DIR" \
    env TESSERA_DB="$DB" TESSERA_KEY_DIR="$KEYS" "$TSR_BIN" client list --json
is "TESSERA_DB: same output" "$OUT" "$want"
ok "--db beats TESSERA_DB" \
    env TESSERA_DB="$T/other.db" "$TSR_BIN" --db "$DB" client list --json
is "--db beats TESSERA_DB: same output" "$OUT" "$want"
ok "--db beats TESSERA_DB: the other database is not created" \
    test ! -e "$T/other.db"

mkdir "$T/cwd"
# shellcheck disable=SC2016
ok "default --db is tessera.db in the working directory" \
    bash -c 'cd "$1" && "$2" migrate && test -s tessera.db' _ "$T/cwd" "$TSR_BIN"

# --- usage errors: exit 2 --------------------------------------------------
sum=$(db_checksum "$DB")
usage_error "no subcommand" "$TSR_BIN"
usage_error "unknown subcommand" tsr frobnicate
usage_error "unknown client subcommand" tsr client frob
usage_error "client without a subcommand" tsr client
usage_error "client add without a name" tsr client add --cn x
usage_error "client add without --cn" tsr client add lonely
usage_error "client add --cn without its value" tsr client add x --cn
usage_error "client add with an extra argument" \
    tsr client add x --cn x surplus
usage_error "client show without a name" tsr client show
usage_error "client list with an extra argument" tsr client list extra
usage_error "unknown option after the subcommand" tsr client list --bogus
usage_error "unknown option before the subcommand" \
    "$TSR_BIN" --bogus --db "$DB" client list
usage_error "--db without its value" "$TSR_BIN" client list --db
usage_error "grant add without an audience" tsr grant add order-service
usage_error "grant add --ttl without its value" \
    tsr grant add order-service x --ttl
usage_error "grant remove without an audience" tsr grant remove order-service
usage_error "unknown grant subcommand" tsr grant frob
usage_error "key revoke without a kid" tsr key revoke
usage_error "unknown key subcommand" tsr key frob
usage_error "migrate with an extra argument" tsr migrate now
is "usage errors change nothing" "$(db_checksum "$DB")" "$sum"

done_testing
