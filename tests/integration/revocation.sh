#!/usr/bin/env bash
# revocation.sh: POST /revoke, POST /introspect and the revocation
# subcommands, the happy paths ("POST /revoke", "POST /introspect",
# `token revoke`, `client revoke-tokens`, `revocation list`,
# `token inspect`).  A revocation by any route is seen by /introspect
# within a second, also by a second server on the same store; deny-list
# entries go once their tokens have expired.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
. "$(dirname "$0")/revocation_lib.sh"

# One issuer for every server on the store, so each accepts the others'
# tokens.
ISSUER=https://tessera.test
fresh_store
make_pki
revocation_policy
start_server --issuer "$ISSUER" || bail "the server did not start"
RS=inventory-service

# --- the introspection response --------------------------------------------
get_token order-service "$RS"
token_ok "setup: order-service gets a token for $RS"
T1=$TOKEN
introspect "$RS" "$T1"
is "introspect: live token, 200" "$STATUS" 200
is "introspect: Cache-Control no-store" "$(header Cache-Control)" no-store
like "introspect: Content-Type application/json" "$(header Content-Type)" \
    '^application/json(;.*)?$'
cp "$T/out" "$T/intro.json"
X5T=$("$TSR_PYTHON" -c '
import base64, hashlib, sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
with open(sys.argv[1], "rb") as f:
    der = x509.load_pem_x509_certificate(f.read()).public_bytes(Encoding.DER)
print(base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode())
' "$PKI/order-service.pem")
json_check "introspect: members are exactly active iss sub client_id aud scope exp iat nbf jti token_type cnf" "
assert sorted(d) == sorted(['active', 'iss', 'sub', 'client_id', 'aud',
    'scope', 'exp', 'iat', 'nbf', 'jti', 'token_type', 'cnf']), sorted(d)
"
json_check "introspect: values are the token's claims" "
import base64
p = '$T1'.split('.')[1]
c = json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))
assert d['active'] is True, d
assert d['iss'] == '$ISSUER' == c['iss'], (d, c)
assert d['sub'] == d['client_id'] == 'order-service', d
assert d['aud'] == '$RS', d
assert d['scope'] == 'stock:deduct stock:read' == c['scope'], d
for k in ('exp', 'iat', 'nbf'):
    assert type(d[k]) is int and d[k] == c[k], (k, d, c)
assert d['exp'] - d['iat'] == 300 and d['nbf'] == d['iat'], d
assert d['jti'] == c['jti'] and len(d['jti']) == 22, d
assert d['token_type'] == 'Bearer', d
assert d['cnf'] == {'x5t#S256': '$X5T'} == c['cnf'], (d, c)
"

# A token with no scope: no scope member.
get_token order-service billing-service
TNS=$TOKEN
introspect billing-service "$TNS"
json_check "introspect: a token without scope has no scope member" "
assert d['active'] is True, d
assert sorted(d) == sorted(['active', 'iss', 'sub', 'client_id', 'aud',
    'exp', 'iat', 'nbf', 'jti', 'token_type', 'cnf']), sorted(d)
assert d['aud'] == 'billing-service', d
"

# Only the audience may introspect: anyone else learns nothing.
introspect billing-service "$T1"
is "introspect: another resource server, status 200" "$STATUS" 200
json_check "introspect: a token for another audience is exactly {\"active\":false}" \
    "assert d == {'active': False}, d"
is "introspect: inactive answer has Cache-Control no-store" \
    "$(header Cache-Control)" no-store
introspect order-service "$T1"
json_check "introspect: the token's own client is not its audience: {\"active\":false}" \
    "assert d == {'active': False}, d"

# --- a client revokes another client's token: refused -----------------------
get_token billing-service "$RS"
TB=$TOKEN
before=$(store_sum)
revoke order-service "$TB"
oauth_error "revoke: another client's token, 400 invalid_request" 400 \
    invalid_request
is "revoke: another client's token changes nothing in the store" \
    "$(store_sum)" "$before"
is "revoke: another client's token leaves the deny-list empty" \
    "$(revocations)" ""
ok "revoke: another client's token stays active" is_active "$RS" "$TB"

# --- POST /revoke of the caller's own token ----------------------------------
get_token order-service "$RS"
T2=$TOKEN
ok "revoke: the token is active before" is_active "$RS" "$T1"
revoke order-service "$T1"
is "revoke: own token, 200" "$STATUS" 200
is "revoke: empty body" "$(stat -c %s "$T/out")" 0
is "revoke: Cache-Control no-store" "$(header Cache-Control)" no-store
inactive_within "revoke: /introspect says inactive within 1 s" 1000 "$RS" "$T1"
ok "revoke: another token of the same client stays active" \
    is_active "$RS" "$T2"
ok "revoke: another client's token stays active" is_active "$RS" "$TB"
run tsr --json revocation list
cp "$T/out" "$T/list.json"
json_check "revocation list: one token entry with the token's jti, until its exp" "
rs = d['revocations']
assert len(rs) == 1, rs
r = rs[0]
assert sorted(r) == ['expires_at', 'jti', 'kind', 'reason', 'revoked_at'], r
assert r['kind'] == 'token' and r['jti'] == '$(claim "$T1" jti)', r
assert r['expires_at'] >= $(claim "$T1" exp), r
assert $(claim "$T1" iat) <= r['revoked_at'] <= $(date +%s), r
"
revoke order-service "$T1"
is "revoke: revoking it again, 200" "$STATUS" 200
is "revoke: revoking it again adds no entry" \
    "$(stored_revocations 'len(rs)')" 1
ok "revoke: still inactive" is_inactive "$RS" "$T1"

# --- the CLI, every form -----------------------------------------------------
get_token order-service "$RS"
T3=$TOKEN
ok "token revoke TOKEN: active before" is_active "$RS" "$T3"
ok "token revoke TOKEN --reason: exits 0" \
    tsr token revoke "$T3" --reason "leaked in a log"
like "token revoke TOKEN: says so" "$OUT" "revoked token $(claim "$T3" jti)"
inactive_within "token revoke TOKEN: inactive within 1 s" 1000 "$RS" "$T3"
ok "token revoke TOKEN: the client's other token stays active" \
    is_active "$RS" "$T2"

get_token order-service "$RS"
T4=$TOKEN
ok "token revoke (stdin): active before" is_active "$RS" "$T4"
printf '%s\n' "$T4" | tsr token revoke >"$T/out" 2>"$T/err"
tap_ok $? "token revoke (stdin): exits 0"
inactive_within "token revoke (stdin): inactive within 1 s" 1000 "$RS" "$T4"
ok "token revoke (stdin): the client's other token stays active" \
    is_active "$RS" "$T2"

get_token order-service "$RS"
T5=$TOKEN
ok "token revoke --jti: active before" is_active "$RS" "$T5"
ok "token revoke --jti: exits 0" tsr token revoke --jti "$(claim "$T5" jti)"
inactive_within "token revoke --jti: inactive within 1 s" 1000 "$RS" "$T5"
ok "token revoke --jti: the client's other token stays active" \
    is_active "$RS" "$T2"
is "revocation list: four token entries" \
    "$(tsr --json revocation list | json '[r["kind"] for r in d["revocations"]]')" \
    '["token", "token", "token", "token"]'

# --- token inspect -----------------------------------------------------------
exits "token inspect: a revoked token exits 1" 1 tsr token inspect "$T3"
is "token inspect: one line 'token is not valid: revoked'" "$ERR" \
    "tessera: token is not valid: revoked"
like "token inspect: shows the reason" "$OUT" 'revoked: .*leaked in a log'
run tsr --json token inspect "$T3"
json_check "token inspect --json: revoked, with the entry and its reason" "
assert d['valid'] is False and d['reason'] == 'revoked', d
r = d['revoked']
assert r['kind'] == 'token' and r['jti'] == '$(claim "$T3" jti)', r
assert r['reason'] == 'leaked in a log', r
assert d['key'] == {'kid': '$(header_kid "$T3")', 'state': 'active'}, d
assert d['claims']['sub'] == 'order-service', d
assert d['claims']['jti'] == '$(claim "$T3" jti)', d
"
ok "token inspect: a live token exits 0" tsr token inspect "$T2"
run tsr --json token inspect "$T2"
json_check "token inspect --json: a live token is valid, not revoked" "
assert d['valid'] is True and d['revoked'] is None, d
"

# --- two servers on one store ------------------------------------------------
PID1=$SERVER_PID
BASE1=$BASE
SERVER_PID=
trap 'kill -TERM "$PID1" 2>/dev/null; _lib_cleanup' EXIT
start_server --issuer "$ISSUER" || bail "the second server did not start"
BASE2=$BASE
BASE=$BASE1
get_token order-service "$RS"
T6=$TOKEN
get_token order-service "$RS"
T7=$TOKEN
ok "two servers: a token from server 1 is active on server 2" \
    is_active "$RS" "$T6" "$BASE2"
ok "two servers: the revoked tokens are inactive on server 2" \
    is_inactive "$RS" "$T3" "$BASE2"
revoke order-service "$T6" "$BASE1"
is "two servers: revoked through server 1" "$STATUS" 200
inactive_within "two servers: server 2 sees it within 1 s" 1000 "$RS" "$T6" \
    "$BASE2"
revoke order-service "$T7" "$BASE2"
is "two servers: revoked through server 2" "$STATUS" 200
inactive_within "two servers: server 1 sees it within 1 s" 1000 "$RS" "$T7" \
    "$BASE1"
ok "two servers: the client's other token is still active on server 2" \
    is_active "$RS" "$T2" "$BASE2"

# --- client revoke-tokens ----------------------------------------------------
get_token order-service "$RS"
T8=$TOKEN
get_token order-service billing-service
T9=$TOKEN
ok "revoke-tokens: active before" is_active "$RS" "$T8"
ok "revoke-tokens: order-service --reason: exits 0" \
    tsr client revoke-tokens order-service --reason "compromised host"
REV_AT=$(tsr --json revocation list |
    json '[r["revoked_at"] for r in d["revocations"] if r["kind"] == "client"][0]')
inactive_within "revoke-tokens: a token is inactive within 1 s" 1000 \
    "$RS" "$T8"
inactive_within "revoke-tokens: on the other server too" 1000 "$RS" "$T8" \
    "$BASE2"
ok "revoke-tokens: the token that survived a single revocation is inactive" \
    is_inactive "$RS" "$T2"
ok "revoke-tokens: its token for another audience is inactive" \
    is_inactive billing-service "$T9"
ok "revoke-tokens: another client's token stays active" is_active "$RS" "$TB"
run tsr --json revocation list
json_check "revocation list: a client entry for order-service" "
rs = [r for r in d['revocations'] if r['kind'] == 'client']
assert len(rs) == 1, d
r = rs[0]
assert sorted(r) == ['client', 'expires_at', 'kind', 'reason', 'revoked_at'], r
assert r['client'] == 'order-service' and r['reason'] == 'compromised host', r
assert r['expires_at'] > r['revoked_at'] == $REV_AT, r
"
run tsr --json token inspect "$T8"
json_check "token inspect --json: revoked by the client entry, with its reason" "
assert d['valid'] is False and d['reason'] == 'revoked', d
r = d['revoked']
assert r['kind'] == 'client' and r['client'] == 'order-service', r
assert r['reason'] == 'compromised host', r
"
# A token issued in the revocation's second is revoked too; one from the
# next second on is not.
wait_next_second "$REV_AT" || diag "the clock did not move past $REV_AT"
get_token order-service "$RS"
T10=$TOKEN
token_ok "revoke-tokens: the client still gets tokens"
like "revoke-tokens: the new token is issued after the revocation" \
    "$(($(claim "$T10" iat) > REV_AT))" '^1$'
ok "revoke-tokens: the new token is active" is_active "$RS" "$T10"
ok "revoke-tokens: and on the other server" is_active "$RS" "$T10" "$BASE2"
ok "revoke-tokens: the old tokens stay inactive" is_inactive "$RS" "$T8"

# --- deny-list entries go once their tokens have expired ---------------------
kill -TERM "$PID1" 2>/dev/null
_wait_pid "$PID1" 100 || kill -KILL "$PID1" 2>/dev/null
wait "$PID1" 2>/dev/null
trap _lib_cleanup EXIT
stop_server
fresh_store
revocation_policy
start_server --issuer "$ISSUER" --token-ttl 4s --clock-skew 1s ||
    bail "the short-ttl server did not start"
get_token order-service "$RS"
P1=$TOKEN
get_token order-service "$RS"
P2=$TOKEN
get_token order-service "$RS"
P3=$TOKEN
revoke order-service "$P1"
is "purge: /revoke, 200" "$STATUS" 200
ok "purge: token revoke TOKEN" tsr token revoke "$P2"
ok "purge: token revoke --jti" tsr token revoke --jti "$(claim "$P3" jti)"
ok "purge: client revoke-tokens" tsr client revoke-tokens billing-service
# A token already expired when revoked needs no entry, so four only
# when the last revocation came before the first token's exp (and then
# none has expired, so none is purged yet).
now=$(date +%s) exp1=$(claim "$P1" exp)
diag "purge: revocations done at $now, the first token expires at $exp1"
if [ "$now" -lt "$exp1" ]; then
	is "purge: four entries in the store" \
	    "$(stored_revocations 'len(rs)')" 4
else
	skip "purge: four entries in the store" \
	    "the first token expired before the last revocation (slow machine)"
fi
ok "purge: the revoked token is inactive" is_inactive "$RS" "$P1"
purged() {
	[ "$(stored_revocations 'len(rs)')" = 0 ]
}
poll_until 10000 purged
diag "purge: rows left after ${POLL_MS} ms: $(revocations | tr '\n' ';')"
run tsr --json revocation list
json_check "purge: revocation list no longer shows the /revoke entry" "
assert not [r for r in d['revocations'] if r.get('jti') == '$(claim "$P1" jti)'], d
"
json_check "purge: revocation list no longer shows the 'token revoke TOKEN' entry" "
assert not [r for r in d['revocations'] if r.get('jti') == '$(claim "$P2" jti)'], d
"
json_check "purge: revocation list no longer shows the 'token revoke --jti' entry" "
assert not [r for r in d['revocations'] if r.get('jti') == '$(claim "$P3" jti)'], d
"
json_check "purge: revocation list no longer shows the client entry" "
assert not [r for r in d['revocations'] if r['kind'] == 'client'], d
"
json_check "purge: revocation list --json is empty" \
    "assert d == {'revocations': []}, d"
is "purge: the server removed the expired entries from the store" \
    "$(stored_revocations "sum(r['expires_at'] <= now for r in rs)")" 0
is "purge: the store holds no entries any more" \
    "$(stored_revocations 'len(rs)')" 0

stop_server
done_testing
