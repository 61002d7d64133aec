#!/usr/bin/env bash
# python_rs.sh: README's Python resource server (PyJWT's PyJWKClient,
# Debian's python3-jwt) against the real server: pyjwt_rs.py holds the
# README snippet's verify() unchanged but for ISSUER.  It accepts a fresh
# token and refuses, each for its own reason (the PyJWT exception class):
# a tampered signature, a wrong typ, another audience, another issuer, an
# expired token, an alg "none" forgery and an HS256 forgery keyed with the
# public key.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/oauth_lib.sh"

rs=$(cd "$(dirname "$0")" && pwd)/pyjwt_rs.py
export TSR_PYTHON

fresh_store
make_pki
# order-service may call inventory-service (the README's audience) and
# ledger; billing-service's tokens for inventory-service live 3 s.
# shellcheck disable=SC2015
tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr grant add order-service inventory-service \
	--scope stock:read --scope stock:deduct >/dev/null &&
    tsr grant add order-service ledger >/dev/null &&
    tsr grant add billing-service inventory-service --ttl 3s >/dev/null ||
    bail "cannot set up the policy"

# py ARGS...: pyjwt_rs.py as the resource server of the running server
py() {
	SSL_CERT_FILE=$PKI/ca.pem TSR_ISSUER=$BASE "$TSR_PYTHON" "$rs" "$@"
}

# refuses DESC ERROR [TEXT] TOKEN: verify() raises jwt.ERROR (mentioning
# TEXT)
refuses() {
	local desc=$1
	shift
	run py reject "$@"
	if [ "$RC" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc" "$(_show_run py reject "${@:1:$#-1}" TOKEN)"
	fi
}

# token_for CLIENT AUDIENCE VAR: a token from the running server, or bail
tok='' tok_ledger='' tok_short='' tok_other_iss=''
token_for() {
	get_token "$1" "$2"
	[ -n "$TOKEN" ] || bail "no token for $1 -> $2 (status $STATUS): $(head -c 300 "$T/out")"
	printf -v "$3" '%s' "$TOKEN"
}

# pyjwt_rs.py's verify() is README's, but for the ISSUER line.
# shellcheck disable=SC2016
ok "README: pyjwt_rs.py holds the README's Python snippet" "$TSR_PYTHON" -c '
import re, sys
readme, rs = (open(f).read() for f in sys.argv[1:3])
block = re.search(r"^```python\n(.*?)^```", readme, re.S | re.M).group(1)
block = re.sub(r"(?m)^ISSUER = .*$", "ISSUER = os.environ[\"TSR_ISSUER\"]", block)
ours = re.search(r"(?ms)^# --- README.md, verbatim[^\n]*\n(.*?)^# --- end of README.md",
                 rs).group(1)
if block.strip() != ours.strip():
    sys.exit("README:\n%s\npyjwt_rs.py:\n%s" % (block, ours))
' "$TSR_SRCDIR/README.md" "$rs"

# --- another issuer: the same store (same keys), served as another URL -----
other_iss=https://tessera.other.example
start_server --issuer "$other_iss" || bail "the server did not start"
token_for order-service inventory-service tok_other_iss
stop_server
is "the other server stopped cleanly" "${SERVER_STATUS:-}" 0

# --- the server under test ---------------------------------------------------
start_server || bail "the server did not start"
token_for order-service inventory-service tok
token_for order-service ledger tok_ledger

run py accept "$tok"
if [ "$RC" -eq 0 ]; then
	pass "PyJWKClient + jwt.decode (README) accept a fresh token"
else
	fail "PyJWKClient + jwt.decode (README) accept a fresh token" \
	    "$(_show_run py accept TOKEN)"
fi
json_check "the verified claims: iss, sub, aud, client_id, exp, iat, jti" "
assert d['iss'] == '$BASE', d
assert d['sub'] == d['client_id'] == 'order-service', d
assert d['aud'] == 'inventory-service', d
assert d['scope'] == 'stock:deduct stock:read', d
assert d['exp'] - d['iat'] == 300, d
assert len(d['jti']) >= 22, d
"
ok "the other issuer's token is signed by a key of this JWKS" \
    "$TSR_PYTHON" -c '
import json, sys, urllib.request, ssl, base64
tok, url, ca = sys.argv[1:4]
h = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=ca)) as r:
    kids = [k["kid"] for k in json.load(r)["keys"]]
assert h["kid"] in kids, (h, kids)
' "$tok_other_iss" "$BASE/.well-known/jwks.json" "$PKI/ca.pem"

# A token good for 3 s is accepted at once, and refused once it has
# expired.
token_for billing-service inventory-service tok_short
run py accept "$tok_short"
tap_ok "$RC" "a 3 s token is accepted while it is fresh"
exp=$(py claim exp "$tok_short")
iat=$(py claim iat "$tok_short")
[[ "$exp" =~ ^[0-9]+$ && "$iat" =~ ^[0-9]+$ ]] ||
    bail "no exp or iat in the 3 s token: '$exp' '$iat'"
is "the 3 s token: exp - iat = 3" "$((exp - iat))" 3

# --- refusals ---------------------------------------------------------------
refuses "refused: one character of the signature flipped (InvalidSignatureError)" \
    InvalidSignatureError "$(py tamper "$tok")"
refuses "refused: header typ \"JWT\" (the typ check)" \
    InvalidTokenError "not an access token" "$(py retype "$tok")"
refuses "refused: a token for another audience (InvalidAudienceError)" \
    InvalidAudienceError "$tok_ledger"
refuses "refused: a token from another issuer, same keys (InvalidIssuerError)" \
    InvalidIssuerError "$tok_other_iss"
forged=$(py forge-none "$tok")
refuses "refused: alg \"none\" forgery with our kid (InvalidAlgorithmError)" \
    InvalidAlgorithmError "$forged"
forged=$(py forge-hs256 "$tok")
[ -n "$forged" ] || diag "forge-hs256 made nothing"
refuses "refused: HS256 forgery keyed with the public key PEM (InvalidAlgorithmError)" \
    InvalidAlgorithmError "$forged"

# Past exp (PyJWT's default leeway is 0).
# (Bounded: 3 s plus slack, whatever exp says.)
for ((i = 0; i < 50; i++)); do
	[ "$(date +%s)" -gt "$exp" ] && break
	sleep 0.2
done
refuses "refused: the 3 s token after its exp (ExpiredSignatureError)" \
    ExpiredSignatureError "$tok_short"

done_testing
