#!/usr/bin/env bash
# policy.sh: policy as code ("Policy document"): policy export and
# policy apply FILE [--dry-run] [--prune] against a temp database, and a
# running server seeing an applied grant within a second.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store

# problems DESC WANT-LINES CMD...: CMD exits 1, its stderr is exactly
# WANT-LINES (each "tessera: ..."), and the database is unchanged.
problems() {
	local desc=$1 want=$2 before after why=()
	shift 2
	before=$(db_checksum "$DB")
	run "$@"
	after=$(db_checksum "$DB")
	[ "$RC" -eq 1 ] || why+=("want exit 1")
	[ "$ERR" == "$want" ] || why+=("want stderr: $want")
	[ "$before" == "$after" ] || why+=("the database changed")
	if [ "${#why[@]}" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc" "${why[@]}" "$(_show_run "$@")"
	fi
}

cat >"$T/doc.json" <<'EOF'
{"clients":[
  {"name":"order-service","cn":"order-service","enabled":true,
   "grants":[{"audience":"inventory-service","scopes":["stock:read","stock:deduct"],"ttl":"5m"},
             {"audience":"billing-service"}]},
  {"name":"billing-service","cn":"billing-service","description":"Bills",
   "grants":[{"audience":"ledger","scopes":["ledger:append"],"ttl":"90s"}]}
]}
EOF

# --- an empty store --------------------------------------------------------
ok "export of an empty store" tsr policy export
is "export of an empty store: no clients" "$OUT" $'{\n  "clients": []\n}'

empty=$(db_checksum "$DB")
ok "apply --dry-run to an empty store" tsr policy apply "$T/doc.json" --dry-run
like "apply --dry-run prints the plan" "$OUT" \
    "\+ client billing-service: cn \"billing-service\", enabled true, description \"Bills\""
like "apply --dry-run says nothing was applied" "$OUT" \
    "dry run: 5 changes, nothing applied"
is "apply --dry-run changes nothing" "$(db_checksum "$DB")" "$empty"

ok "apply to an empty store" tsr policy apply "$T/doc.json"
is "apply to an empty store prints every change" "$OUT" \
'+ client billing-service: cn "billing-service", enabled true, description "Bills"
+ grant billing-service -> ledger: scopes [ledger:append], ttl 90s
+ client order-service: cn "order-service", enabled true
+ grant order-service -> billing-service: scopes []
+ grant order-service -> inventory-service: scopes [stock:deduct stock:read], ttl 5m
applied 5 changes'
run tsr grant list --json
json_check "apply to an empty store creates every grant" "
got = sorted((g['client'], g['audience'], tuple(g['scopes']), g['ttl_s'])
    for g in d['grants'])
assert got == [('billing-service', 'ledger', ('ledger:append',), 90),
    ('order-service', 'billing-service', (), None),
    ('order-service', 'inventory-service', ('stock:deduct', 'stock:read'),
     300)], got
"

sum=$(db_checksum "$DB")
ok "apply the same document again" tsr policy apply "$T/doc.json"
is "the second apply prints no changes" "$OUT" "no changes"
is "the second apply changes nothing" "$(db_checksum "$DB")" "$sum"

# --- export -> apply -> export ---------------------------------------------
tsr policy export >"$T/e1.json" 2>/dev/null
ok "apply of the export" tsr policy apply "$T/e1.json"
is "apply of the export: no changes" "$OUT" "no changes"
is "apply of the export changes nothing" "$(db_checksum "$DB")" "$sum"
tsr policy export >"$T/e2.json" 2>/dev/null
ok "export -> apply -> export: byte-identical" cmp "$T/e1.json" "$T/e2.json"
ok "export --json is the same document" tsr policy export --json
is "export --json: same bytes" "$OUT" "$(cat "$T/e1.json")"
ok "apply from stdin" bash -c '"$1" --db "$2" policy apply - <"$3"' _ \
    "$TSR_BIN" "$DB" "$T/e1.json"
is "apply from stdin: no changes" "$OUT" "no changes"

# a fresh store gets the same policy from the export
rm -f "$T/other.db"
ok "apply the export to a fresh store" \
    "$TSR_BIN" --db "$T/other.db" policy apply "$T/e1.json"
ok "export of the fresh store" "$TSR_BIN" --db "$T/other.db" policy export
is "export of the fresh store: the same document" "$OUT" "$(cat "$T/e1.json")"

# --- changes, --json -------------------------------------------------------
tsr client add legacy --cn legacy-cn >/dev/null
tsr grant add legacy inventory-service >/dev/null
"$TSR_PYTHON" - "$T/e1.json" "$T/doc2.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
by = {c['name']: c for c in d['clients']}
by['order-service']['enabled'] = False
by['order-service']['grants'] = [g for g in by['order-service']['grants']
    if g['audience'] != 'billing-service']
by['order-service']['grants'][0]['scopes'].append('stock:audit')
json.dump(d, open(sys.argv[2], 'w'))
EOF
sum=$(db_checksum "$DB")
ok "apply --dry-run --json" tsr policy apply "$T/doc2.json" --dry-run --json
json_check "apply --dry-run --json: the plan, not applied" "
assert d['applied'] is False, d
assert d['changes'] == [
  {'op': 'change', 'kind': 'client', 'client': 'order-service',
   'fields': {'enabled': {'from': True, 'to': False}}},
  {'op': 'remove', 'kind': 'grant', 'client': 'order-service',
   'audience': 'billing-service'},
  {'op': 'change', 'kind': 'grant', 'client': 'order-service',
   'audience': 'inventory-service', 'fields': {'scopes': {
     'from': ['stock:deduct', 'stock:read'],
     'to': ['stock:audit', 'stock:deduct', 'stock:read']}}}], d['changes']
"
is "apply --dry-run --json changes nothing" "$(db_checksum "$DB")" "$sum"
ok "apply a changed document" tsr policy apply "$T/doc2.json"
is "apply a changed document prints the changes" "$OUT" \
'~ client order-service: enabled true -> false
- grant order-service -> billing-service
~ grant order-service -> inventory-service: scopes [stock:deduct stock:read] -> [stock:audit stock:deduct stock:read]
applied 3 changes'

# --- clients absent from the document --------------------------------------
run tsr client show legacy --json
json_check "without --prune, an absent client stays with its grants" "
assert d['name'] == 'legacy' and len(d['grants']) == 1, d
"
sum=$(db_checksum "$DB")
ok "apply --prune --dry-run" tsr policy apply "$T/doc2.json" --prune --dry-run
is "apply --prune --dry-run prints the removal" "$OUT" \
    $'- client legacy\ndry run: 1 change, nothing applied'
is "apply --prune --dry-run changes nothing" "$(db_checksum "$DB")" "$sum"
ok "apply --prune" tsr policy apply "$T/doc2.json" --prune
is "apply --prune prints the removal" "$OUT" \
    $'- client legacy\napplied 1 change'
run tsr client list --json
json_check "apply --prune removes the absent client" "
assert [c['name'] for c in d['clients']] == ['billing-service',
    'order-service'], d
"
run tsr grant list --client legacy --json
json_check "apply --prune removes its grants" "assert d == {'grants': []}, d"

# --- bad documents: exit 1, every problem, store unchanged -----------------
bad() {	# bad NAME TEXT: write $T/NAME.json
	printf '%s' "$2" >"$T/$1.json"
}
tsr client add outsider --cn outsider-cn >/dev/null

bad malformed '{"clients":[{"name":"x",'
problems "bad input: malformed JSON" \
    "tessera: policy document is not valid JSON: line 1, column 24: string or '}' expected near end of file" \
    tsr policy apply "$T/malformed.json"
bad unknown '{"clients":[{"nmae":"x","name":"x","cn":"x"}]}'
problems "bad input: unknown field, with its path" \
    'tessera: $.clients[0]: unknown field "nmae"' \
    tsr policy apply "$T/unknown.json"
# Grants sit under their client, so a grant cannot name a client that is
# nowhere; the nearest case is a client entry with only grants (no cn)
# for a client the store does not have.
bad dangling '{"clients":[{"name":"ghost","grants":[{"audience":"x"}]}]}'
problems "bad input: a grant for a client not in the document or store" \
    'tessera: $.clients[0]: missing field "cn"' \
    tsr policy apply "$T/dangling.json"
bad dupcn '{"clients":[{"name":"a","cn":"same"},{"name":"b","cn":"same"}]}'
problems "bad input: duplicate CN in the document" \
    'tessera: $.clients[1].cn: duplicate certificate CN "same", also at $.clients[0]' \
    tsr policy apply "$T/dupcn.json"
bad storecn '{"clients":[{"name":"a","cn":"outsider-cn"}]}'
problems "bad input: CN of a store client the document does not mention" \
    'tessera: $.clients[0].cn: certificate CN "outsider-cn" is used by client "outsider", which the document does not mention (--prune would remove it)' \
    tsr policy apply "$T/storecn.json"
bad scope '{"clients":[{"name":"a","cn":"a","grants":[{"audience":"b","scopes":["ok","a\"b"]}]}]}'
problems "bad input: bad scope" \
    'tessera: $.clients[0].grants[0].scopes[1]: scope "a\x22b" has a bad character at 2: want printable ASCII except space, " and \' \
    tsr policy apply "$T/scope.json"
bad duration '{"clients":[{"name":"a","cn":"a","grants":[{"audience":"b","ttl":"5 minutes"}]}]}'
problems "bad input: bad duration" \
    'tessera: $.clients[0].grants[0].ttl: bad duration "5 minutes": want a number and s, m, h or d' \
    tsr policy apply "$T/duration.json"
bad many '{"clients":[{"name":"a b","cn":"","enabled":"yes"},{"name":"a b","cn":"x"}],"x":1}'
problems "bad input: every problem, each on its own line" \
'tessera: $: unknown field "x"
tessera: $.clients[0].name: client name "a b" has a bad character at 2: want A-Z a-z 0-9 . _ : / -
tessera: $.clients[0].cn: certificate CN is empty
tessera: $.clients[0].enabled: want true or false, got a string
tessera: $.clients[1].name: client name "a b" has a bad character at 2: want A-Z a-z 0-9 . _ : / -' \
    tsr policy apply "$T/many.json"
bad_input "bad input: a file that does not exist" "$DB" \
    tsr policy apply "$T/no-such-file.json"
head -c 4194305 /dev/zero | tr '\0' ' ' >"$T/huge.json"
bad_input "bad input: a document over 4 MiB" "$DB" \
    tsr policy apply "$T/huge.json"
is "bad input: the over-size line" "$ERR" \
    "tessera: policy document is larger than 4194304 bytes"

sum=$(db_checksum "$DB")
usage_error "policy without a subcommand" tsr policy
usage_error "unknown policy subcommand" tsr policy frob
usage_error "policy apply without a file" tsr policy apply
usage_error "policy apply with two files" tsr policy apply a b
usage_error "policy export with an argument" tsr policy export x
usage_error "policy apply with an unknown option" \
    tsr policy apply "$T/doc.json" --force
is "usage errors change nothing" "$(db_checksum "$DB")" "$sum"

# --- a running server sees the result within a second ----------------------
make_pki
start_server || bail "the server did not start"
get_token order-service reports
is "before apply: order-service is disabled (invalid_client)" "$STATUS" 401
"$TSR_PYTHON" - "$T/doc2.json" "$T/doc3.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for c in d['clients']:
    if c['name'] == 'order-service':
        c['enabled'] = True
        c['grants'].append({'audience': 'reports', 'scopes': ['r']})
json.dump(d, open(sys.argv[2], 'w'))
EOF
ok "apply a grant under a running server" tsr policy apply "$T/doc3.json"
sleep 1.1
get_token order-service reports
is "after apply: a token for the new grant within a second" "$STATUS" 200
json_check "the token carries the document's scope" "
assert d['scope'] == 'r', d
"
stop_server

done_testing
