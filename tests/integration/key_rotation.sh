#!/usr/bin/env bash
# key_rotation.sh: scheduled rotation seen by a real verifier
# ("Signing keys and rotation", "GET /.well-known/jwks.json").
#
# A server rotating every 2 s (token TTL 3 s, clock skew 1 s, JWKS
# max-age 1 s) serves a verifier that caches the JWKS and refreshes it only
# once its Cache-Control max-age has passed: it must never meet a kid its
# cache does not know, and every token must still verify against a fresh
# JWKS shortly before its exp (the retired key stays published).  Retired
# keys past their window must expire (the server's upkeep).  Then the CLI
# revokes and rotates under a running server, which must follow within 1 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null ||
    bail "cannot set up the policy"

ROT_OPTS=(--token-ttl 3s --clock-skew 1s --jwks-max-age 1s)
start_server --rotation-period 2s "${ROT_OPTS[@]}" ||
    bail "the server did not start"

# verifier.py BASE CA CERT KEY SECONDS AUDIENCE: request tokens for
# SECONDS, verify each with a cached JWKS (refreshed only when its max-age
# has passed), and re-verify each against a freshly fetched JWKS in the
# last second before its exp.  Prints a JSON summary.
cat >"$T/verifier.py" <<'PY'
import http.client, json, re, ssl, sys, time
from urllib.parse import urlparse
from jwcrypto import jwk, jws, jwt

base, ca, cert, keyf, seconds, aud = sys.argv[1:7]
u = urlparse(base)
anon = ssl.create_default_context(cafile=ca)
mtls = ssl.create_default_context(cafile=ca)
mtls.load_cert_chain(cert, keyf)

def request(ctx, method, path, body=None, headers={}):
    c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                    timeout=5)
    try:
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.getheader("Cache-Control") or "", r.read()
    finally:
        c.close()

def fetch_jwks():
    st, cc, body = request(anon, "GET", "/.well-known/jwks.json")
    assert st == 200, ("JWKS status", st)
    m = re.search(r"max-age=(\d+)", cc)
    assert m, ("no max-age in Cache-Control", cc)
    return jwk.JWKSet.from_json(body), int(m.group(1))

def kids_of(ks):
    return {k.get("kid") for k in ks["keys"]}

def verify(tok, ks):
    t = jwt.JWT(jwt=tok, key=ks, algs=["RS256"],
                check_claims={"iss": base, "aud": aud, "exp": None})
    return json.loads(t.claims)

out = {"tokens": 0, "kids": [], "refreshes": 0, "max_ages": [],
       "unknown_kid": [], "verify_fail": [], "late_ok": 0,
       "late_fail": [], "late_missed": 0, "errors": []}
cache, max_age = fetch_jwks()
fetched = time.monotonic()
out["refreshes"] += 1
out["max_ages"].append(max_age)
pending = []		# [token, exp, kid]

def late_checks(final):
    """Tokens in the last second before exp: verify on a fresh JWKS."""
    due = [p for p in pending if p[1] - time.time() <= 1.0]
    if not due:
        return
    fresh, _ = fetch_jwks()
    for p in due:
        pending.remove(p)
        if time.time() >= p[1]:
            out["late_missed"] += 1
            continue
        try:
            verify(p[0], fresh)
            out["late_ok"] += 1
        except Exception as e:
            out["late_fail"].append([p[2], p[1], round(time.time(), 2),
                                     repr(e)[:200],
                                     sorted(kids_of(fresh))])

end = time.monotonic() + float(seconds)
while time.monotonic() < end:
    st, _, body = request(mtls, "POST", "/token",
        body="grant_type=client_credentials&audience=" + aud,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    if st != 200:
        out["errors"].append([st, body.decode()[:200]])
        continue
    tok = json.loads(body)["access_token"]
    out["tokens"] += 1
    kid = json.loads(jws.base64url_decode(tok.split(".")[0]))["kid"]
    if not out["kids"] or out["kids"][-1] != kid:
        out["kids"].append(kid)
    if time.monotonic() - fetched >= max_age:
        cache, max_age = fetch_jwks()
        fetched = time.monotonic()
        out["refreshes"] += 1
        out["max_ages"].append(max_age)
    exp = json.loads(jws.base64url_decode(tok.split(".")[1]))["exp"]
    pending.append([tok, exp, kid])
    if kid not in kids_of(cache):
        out["unknown_kid"].append([kid, round(time.monotonic() - fetched, 3),
                                   sorted(kids_of(cache))])
    else:
        try:
            verify(tok, cache)
        except Exception as e:
            out["verify_fail"].append([kid, repr(e)[:200]])
    late_checks(False)
    time.sleep(0.01)
while pending:
    late_checks(True)
    time.sleep(0.02)
print(json.dumps(out))
PY

run "$TSR_PYTHON" "$T/verifier.py" "$BASE" "$PKI/ca.pem" \
    "$PKI/order-service.pem" "$PKI/order-service-key.pem" 10 inventory
if [ "$RC" -ne 0 ]; then
	fail "the verifier ran" "$(_show_run verifier.py)"
else
	pass "the verifier ran"
fi
diag "verifier: $(json '{k: (len(v) if k == "kids" else v) for k, v in d.items() if k in ("tokens", "kids", "refreshes", "late_ok", "late_missed")}' <"$T/out" 2>/dev/null)"
json_check "verifier: tokens issued without error, many of them" "
assert d['errors'] == [], d['errors'][:3]
assert d['tokens'] >= 50, d['tokens']
"
json_check "verifier: JWKS Cache-Control max-age is the configured 1 s" "
assert set(d['max_ages']) == {1}, d['max_ages']
"
json_check "verifier: the cache was refreshed on expiry, several times" "
assert d['refreshes'] >= 5, d['refreshes']
"
json_check "verifier: never met a kid unknown to its (unexpired) JWKS cache" "
assert d['unknown_kid'] == [], d['unknown_kid'][:3]
"
json_check "verifier: every token verified against the cached JWKS" "
assert d['verify_fail'] == [], d['verify_fail'][:3]
"
json_check "verifier: every token re-verified on a fresh JWKS before its exp" "
assert d['late_fail'] == [], d['late_fail'][:3]
assert d['late_ok'] == d['tokens'] - d['late_missed'], d
"
json_check "verifier: (almost) no token missed its late re-verification" "
assert d['late_missed'] <= d['tokens'] // 20, (d['late_missed'], d['tokens'])
"
json_check "verifier: at least 3 distinct signing kids (rotations happened)" "
assert len(set(d['kids'])) >= 3, d['kids']
"
json_check "verifier: kids never came back (each rotation is to a new key)" "
assert len(set(d['kids'])) == len(d['kids']), d['kids']
"

# --- the store under the running server (key list --as-stored: no repair) -
# count COND: how many keys k satisfy the Python condition COND
count() { stored_keys "sum(bool($1) for k in ks)"; }
is "server store: exactly one active key" "$(count "k['state'] == 'active'")" 1
is "server store: exactly one next key" "$(count "k['state'] == 'next'")" 1
n_old=$(count "k['state'] in ('retired', 'expired')")
if [ "$n_old" -ge 3 ]; then
	pass "server store: several retired/expired keys ($n_old)"
else
	fail "server store: several retired/expired keys ($n_old)" \
	    "$(stored_keys "[(k['kid'], k['state'], k['expires_at']) for k in ks]")"
fi

# Retired keys past their window must become expired by the server itself
# (its upkeep runs every 5 s) and leave the JWKS.
now=$(date +%s)
past_window="k['state'] == 'retired' and k['expires_at'] <= $now"
past=$(stored_keys "[k['kid'] for k in ks if $past_window]" | tr '\n' ' ')
diag "retired keys past their window at $now: ${past:-none}"
none_past() {
	[ "$(count "$past_window")" -eq 0 ]
}
if poll_until 7000 none_past; then
	pass "server: retired keys past their window become expired within 7 s"
else
	fail "server: retired keys past their window become expired within 7 s" \
	    "now $(date +%s); still retired past their window:" \
	    "$(stored_keys "[(k['kid'], k['state'], k['retired_at'], k['expires_at']) for k in ks if $past_window]")" \
	    "server log: $(grep -i 'expired\|rotat\|upkeep' "$T/server.log" | tail -n 5)"
fi
http_get /.well-known/jwks.json
still=
for k in $past; do
	[[ "$(cat "$T/out")" == *"\"$k\""* ]] && still="$still $k"
done
is "server: expired keys are no longer in the JWKS" "$still" ""
# next + active + the keys retired within the window (3 s + 1 s) plus the
# upkeep's period (5 s), at one rotation every 2 s: at most 8.
is "server: the JWKS does not grow past the window (<= 8 keys)" \
    "$(json 'min(len(d["keys"]), 9)' <"$T/out")" \
    "$(json 'min(len(d["keys"]), 8)' <"$T/out")"

stop_server
is "the rotating server stops cleanly" "$SERVER_STATUS" 0

# --- key list (the CLI) after the run --------------------------------------
# The time before the listing: a key may expire between the two.
now=$(date +%s)
run tsr key list --json
tap_ok "$RC" "key list after the run"
json_check "key list after the run: one active, one next, several retired/expired, none retired past its window" "
ks = d['keys']
st = [k['state'] for k in ks]
assert st.count('active') == 1 and st.count('next') == 1, st
assert st.count('retired') + st.count('expired') >= 3, st
late = [k for k in ks if k['state'] == 'retired' and k['expires_at'] <= $now]
assert late == [], late
"
json_check "key list after the run: only active and next keys have files" "
import os
want = sorted(k['kid'] + '.pem' for k in d['keys'] if k['state'] in ('active', 'next'))
assert sorted(os.listdir('$KEYS')) == want, (os.listdir('$KEYS'), want)
"

# --- the CLI changes the keys of a running server --------------------------
# A long rotation period: only the CLI changes keys now.  A longer token
# TTL keeps the key the CLI retires published for a minute, well past the
# checks below even on a loaded machine.
start_server --rotation-period 1h "${ROT_OPTS[@]}" --token-ttl 1m ||
    bail "the server did not restart"
active_kid() { stored_keys "[k['kid'] for k in ks if k['state'] == '$1']"; }
# token_kid: get a token; KID gets the kid of its header ("" if none)
token_kid() {
	KID=
	get_token order-service inventory
	[ -n "$TOKEN" ] || return 1
	KID=$("$TSR_PYTHON" -c '
import json, sys
from jwcrypto import jws
print(json.loads(jws.base64url_decode(sys.argv[1].split(".")[0]))["kid"])
' "$TOKEN")
}
jwks_has() {
	http_get /.well-known/jwks.json
	[ "$STATUS" = 200 ] && [[ "$(cat "$T/out")" == *"\"kid\":\"$1\""* ]]
}
a=$(active_kid active) n=$(active_kid next)
token_kid
is "before revoke: the server signs with the active key" "$KID" "$a"
old_token=$TOKEN

ok "key revoke of the active key while the server runs" tsr key revoke "$a"
gone() { ! jwks_has "$a"; }
if poll_until 1200 gone; then
	pass "revoke: the revoked kid leaves the JWKS within 1 s (${POLL_MS} ms)"
else
	fail "revoke: the revoked kid leaves the JWKS within 1 s" \
	    "still there after ${POLL_MS} ms"
fi
http_get /.well-known/jwks.json
cp "$T/out" "$T/jwks.json"
token_kid
isnt "revoke: new tokens use another kid" "$KID" "$a"
is "revoke: new tokens use the former next key" "$KID" "$n"
ok "revoke: a new token verifies against the JWKS" "$TSR_PYTHON" -c '
import sys
from jwcrypto import jwk, jwt
ks = jwk.JWKSet.from_json(open(sys.argv[1]).read())
jwt.JWT(jwt=sys.argv[2], key=ks, algs=["RS256"])
' "$T/jwks.json" "$TOKEN"
ok "revoke: a token of the revoked key no longer verifies" "$TSR_PYTHON" -c '
import sys
from jwcrypto import jwk, jwt
ks = jwk.JWKSet.from_json(open(sys.argv[1]).read())
try:
    jwt.JWT(jwt=sys.argv[2], key=ks, algs=["RS256"])
except Exception:
    sys.exit(0)
sys.exit("a token of a revoked key verified")
' "$T/jwks.json" "$old_token"

a=$(active_kid active) n=$(active_kid next)
run tsr --json key rotate
tap_ok "$RC" "key rotate while the server runs"
new=$(json 'd["active"]' <"$T/out" 2>/dev/null)
is "rotate: the CLI names the next key as the new active one" "$new" "$n"
signs_new() { token_kid && [ "$KID" = "$new" ]; }
if poll_until 1200 signs_new; then
	pass "rotate: the server signs with the new active kid within 1 s (${POLL_MS} ms)"
else
	fail "rotate: the server signs with the new active kid within 1 s" \
	    "token kid $KID, want $new after ${POLL_MS} ms"
fi
ok "rotate: the retired key is still in the JWKS" jwks_has "$a"
ok "rotate: the retired key's file is destroyed" test ! -e "$KEYS/$a.pem"

stop_server
is "the server stops cleanly" "$SERVER_STATUS" 0

done_testing
