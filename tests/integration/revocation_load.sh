#!/usr/bin/env bash
# revocation_load.sh: /revoke with a long deny-list (README "Revocation",
# "Limits").  With 50,000 entries seeded in one batch by the CLI
# (token revoke --jti-file):
#  - a revoked token is inactive at once on the server that revoked it;
#  - revoking a token already on the list writes nothing (no new row; the
#    audit trail says it was listed already) and still answers 200;
#  - many revocations in a row each count at once and each add one row;
#  - --rate-limit applies to /revoke and /introspect as to /token.
# Timings are reported as diagnostics only (scripts/bench measures).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
. "$(dirname "$0")/revocation_lib.sh"

RS=inventory-service
N=50000
fresh_store
make_pki
revocation_policy

# --- seeding: one batch -----------------------------------------------------------
"$TSR_PYTHON" -c '
import base64, os, sys
for _ in range(int(sys.argv[1])):
    print(base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode())
' "$N" >"$T/jtis"
t0=$(date +%s%N)
run tsr --json token revoke --jti-file "$T/jtis" --reason seeded
diag "seeding $N entries: $((($(date +%s%N) - t0) / 1000000)) ms"
is "seed: token revoke --jti-file exits 0" "$RC" 0
json_check "seed: every jti added" "assert d == {'added': $N, 'listed': 0}, d"
tsr --json token revoke --jti-file - --reason again <"$T/jtis" >"$T/out"
json_check "seed again (stdin): nothing added, every jti already listed" \
    "assert d == {'added': 0, 'listed': $N}, d"
printf 'not-a-jti\n' >"$T/bad"
errors "seed: a malformed line is refused" tsr token revoke --jti-file "$T/bad"
usage_error "seed: --jti and --jti-file together are refused" \
    tsr token revoke --jti-file "$T/jtis" --jti "$(head -n 1 "$T/jtis")"
count() { stored_revocations 'len(rs)'; }
# when the entry of TOKEN's jti was written, as stored
revoked_at() {
	stored_revocations "[r['revoked_at'] for r in rs if r.get('jti') == '$(tok_jti "$1")']"
}
tok_jti() {
	"$TSR_PYTHON" -c '
import base64, json, sys
p = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["jti"])' "$1"
}
is "seed: $N rows" "$(count)" "$N"

# --- /revoke against the long list -------------------------------------------------
start_server || bail "the server did not start"
http_get /metrics
like "the server loaded the list" "$(cat "$T/out")" \
    "tessera_denylist_entries $N"
get_token order-service "$RS"
T1=$TOKEN
ok "a fresh token is active" is_active "$RS" "$T1"
t0=$(date +%s%N)
revoke order-service "$T1"
diag "one /revoke with $N entries: $((($(date +%s%N) - t0) / 1000000)) ms (curl included)"
is "revoke: 200" "$STATUS" 200
ok "revoke: inactive at once on this server" is_inactive "$RS" "$T1"
is "revoke: one row more" "$(count)" "$((N + 1))"
at1=$(revoked_at "$T1")
sleep 1.1	# a write now would carry a later time
revoke order-service "$T1"
is "revoke again: 200" "$STATUS" 200
is "revoke again: no new row" "$(count)" "$((N + 1))"
is "revoke again: the entry is the one written first" "$(revoked_at "$T1")" "$at1"
ok "revoke again: still inactive" is_inactive "$RS" "$T1"
run tsr --json revocation list
json_check "revocation list: the revoked jti once" "
import base64
p = '$T1'.split('.')[1]
jti = json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))['jti']
assert len([r for r in d['revocations'] if r.get('jti') == jti]) == 1, jti
assert len(d['revocations']) == $((N + 1)), len(d['revocations'])"

# many in a row: each counts at once, each one row
bad=
for i in $(seq 1 10); do
	get_token order-service "$RS"
	revoke order-service "$TOKEN"
	[ "$STATUS" = 200 ] || bad+="revoke $i: $STATUS; "
	is_inactive "$RS" "$TOKEN" || bad+="token $i still active; "
done
is "10 more revocations: each 200 and inactive at once" "$bad" ""
is "10 more revocations: 10 rows more" "$(count)" "$((N + 11))"
ok "the first token stays inactive" is_inactive "$RS" "$T1"
get_token order-service "$RS"
ok "a new token is active" is_active "$RS" "$TOKEN"
# The poller's reload (the whole list from the store) agrees.
sleep 2
ok "after the poller's reload: the first token is inactive" \
    is_inactive "$RS" "$T1"
http_get /metrics
like "after the poller's reload: every entry" "$(cat "$T/out")" \
    "tessera_denylist_entries $((N + 11))"
stop_server
is "the server stops cleanly" "$SERVER_STATUS" 0
run tsr --json audit --limit 200
json_check "audit: the second revocation says it was already listed" "
assert [e for e in d['events'] if e['event'] == 'revoke' and
        e['reason'] == 'token already revoked'], d"

# --- --rate-limit covers /revoke and /introspect ------------------------------------
start_server --rate-limit 1/s || bail "the server did not start"
get_token order-service "$RS"
T2=$TOKEN
codes=
for i in 1 2 3 4 5; do
	introspect "$RS" "$T2"
	codes+="$STATUS "
done
like "rate limit: /introspect over 1/s gets 429" "$codes" 429
sleep 1.2
codes=
for i in 1 2 3 4 5; do
	revoke order-service "$T2"
	codes+="$STATUS "
done
like "rate limit: /revoke over 1/s gets 429" "$codes" 429
like "rate limit: the first /revoke is answered" "$codes" "^200 "
stop_server

done_testing
