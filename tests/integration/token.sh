#!/usr/bin/env bash
# token.sh: POST /token, the happy path ("POST /token", "The token").
# A client with a valid certificate gets a Bearer token; the token is
# verified with PyJWT (PyJWKClient on our JWKS URL) and, independently,
# with jwcrypto; every claim of the documented table is checked exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr grant add order-service inventory \
	--scope stock:write --scope stock:read >/dev/null &&
    tsr grant add order-service ledger --scope ledger:append --ttl 60s \
	>/dev/null &&
    tsr grant add order-service archive --ttl 10m >/dev/null &&
    tsr grant add billing-service reports >/dev/null ||
    bail "cannot set up the policy"
start_server || bail "the server did not start"

# PyJWT: fetch the JWKS from the server (urllib, trusting only our CA)
# and verify signature, alg, aud, iss, exp.  A wrong audience and a
# tampered signature must fail, so the verifier is really checking.
cat >"$T/pyjwt_verify.py" <<'EOF'
import json, sys
import jwt
from jwt import PyJWKClient

jwks_url, tok, aud, iss = sys.argv[1:5]
client = PyJWKClient(jwks_url, cache_keys=False)
key = client.get_signing_key_from_jwt(tok)
claims = jwt.decode(tok, key.key, algorithms=["RS256"], audience=aud,
                    issuer=iss, options={"require": ["exp", "iat", "nbf",
                    "iss", "aud", "sub", "jti"]})
assert claims["aud"] == aud, claims
try:
    jwt.decode(tok, key.key, algorithms=["RS256"], audience=aud + "-x",
               issuer=iss)
    raise SystemExit("a wrong audience verified")
except jwt.InvalidAudienceError:
    pass
h, p, s = tok.split(".")
bad = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
try:
    jwt.decode(bad, key.key, algorithms=["RS256"], audience=aud, issuer=iss)
    raise SystemExit("a tampered signature verified")
except jwt.InvalidSignatureError:
    pass
print(json.dumps(claims))
EOF

# jwcrypto: the JWKS fetched with curl, a JWKSet, JWT verification with
# the key the header names, plus iss/aud claim checks.
cat >"$T/jwcrypto_verify.py" <<'EOF'
import json, sys
from jwcrypto import jwk, jwt

jwks_file, tok, aud, iss = sys.argv[1:5]
with open(jwks_file) as f:
    ks = jwk.JWKSet.from_json(f.read())
t = jwt.JWT(jwt=tok, key=ks, algs=["RS256"],
            check_claims={"iss": iss, "aud": aud, "exp": None})
claims = json.loads(t.claims)
other = jwk.JWK.generate(kty="RSA", size=2048)
try:
    jwt.JWT(jwt=tok, key=other, algs=["RS256"])
    raise SystemExit("verified with an unrelated key")
except Exception as e:
    if isinstance(e, SystemExit):
        raise
print(json.dumps(claims))
EOF

# tsr_token_inspect.py RESPONSE JWKS CERT: one JSON document with the decoded
# header and claims (plain base64url, no library), the JWKS kids, the
# RFC 7638 thumbprint (jwcrypto) of the key the header names, and the
# x5t#S256 recomputed from the client certificate's DER.
cat >"$T/tsr_token_inspect.py" <<'EOF'
import base64, hashlib, json, sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from jwcrypto import jwk

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

resp_file, jwks_file, cert_file = sys.argv[1:4]
with open(resp_file) as f:
    resp = json.load(f)
tok = resp["access_token"]
h, p, s = tok.split(".")
header = json.loads(b64d(h))
claims = json.loads(b64d(p))
with open(jwks_file) as f:
    jwks = json.load(f)
thumbs = {k["kid"]: jwk.JWK(**k).thumbprint() for k in jwks["keys"]}
with open(cert_file, "rb") as f:
    der = x509.load_pem_x509_certificate(f.read()).public_bytes(Encoding.DER)
print(json.dumps({
    "response": resp,
    "header": header,
    "header_raw": b64d(h).decode(),
    "claims": claims,
    "claim_names": sorted(claims),
    "thumbprints": thumbs,
    "x5t": b64e(hashlib.sha256(der).digest()),
    "sig_len": len(b64d(s)),
}))
EOF

# inspect CLIENT: decode the token of the last response into $T/out
inspect() {
	ccurl - -o "$T/jwks.json" "$BASE/.well-known/jwks.json"
	"$TSR_PYTHON" "$T/tsr_token_inspect.py" "$T/resp.json" "$T/jwks.json" \
	    "$PKI/$1.pem" >"$T/insp.json" 2>"$T/insp.err" ||
	    diag "inspect failed: $(cat "$T/insp.err")"
	cp "$T/insp.json" "$T/out"
}

# --- the full default grant -------------------------------------------------
t0=$(date +%s)
get_token order-service inventory
t1=$(date +%s)
cp "$T/out" "$T/resp.json"
token_ok "token: 200 with an access token"
is "token: Cache-Control no-store" "$(header Cache-Control)" "no-store"
like "token: Content-Type application/json" "$(header Content-Type)" \
    '^application/json(;.*)?$'
json_check "token: response members are exactly access_token, token_type, expires_in, scope" "
assert sorted(d) == ['access_token', 'expires_in', 'scope', 'token_type'], sorted(d)
"
json_check "token: token_type is Bearer" "assert d['token_type'] == 'Bearer', d"
json_check "token: expires_in is the integer 300" "
assert type(d['expires_in']) is int and d['expires_in'] == 300, d['expires_in']
"
json_check "token: scope is every granted scope, sorted" "
assert d['scope'] == 'stock:read stock:write', d['scope']
"

ok "PyJWT: PyJWKClient on our JWKS URL verifies the token (RS256, aud, iss)" \
    env SSL_CERT_FILE="$PKI/ca.pem" "$TSR_PYTHON" "$T/pyjwt_verify.py" \
    "$BASE/.well-known/jwks.json" "$TOKEN" inventory "$BASE"
ok "PyJWT: verification fails for an issuer other than ours" \
    env SSL_CERT_FILE="$PKI/ca.pem" "$TSR_PYTHON" -c '
import sys, jwt
from jwt import PyJWKClient
u, tok, iss = sys.argv[1:4]
key = PyJWKClient(u).get_signing_key_from_jwt(tok)
try:
    jwt.decode(tok, key.key, algorithms=["RS256"], audience="inventory",
               issuer=iss + "/other")
except jwt.InvalidIssuerError:
    sys.exit(0)
sys.exit("a wrong issuer verified")
' "$BASE/.well-known/jwks.json" "$TOKEN" "$BASE"
ccurl - -o "$T/jwks.json" "$BASE/.well-known/jwks.json"
ok "jwcrypto: JWKSet from the JWKS verifies the token (RS256, iss, aud, exp)" \
    "$TSR_PYTHON" "$T/jwcrypto_verify.py" "$T/jwks.json" "$TOKEN" \
    inventory "$BASE"

inspect order-service
json_check "header: exactly alg, typ, kid" "
assert sorted(d['header']) == ['alg', 'kid', 'typ'], d['header']
"
json_check "header: alg is RS256" "assert d['header']['alg'] == 'RS256', d['header']"
json_check "header: typ is exactly at+jwt" "assert d['header']['typ'] == 'at+jwt', d['header']"
json_check "header: kid names a key in the JWKS" "
assert d['header']['kid'] in d['thumbprints'], (d['header'], list(d['thumbprints']))
"
json_check "header: kid is the RFC 7638 thumbprint of that key" "
kid = d['header']['kid']
assert d['thumbprints'][kid] == kid, (kid, d['thumbprints'][kid])
"
json_check "signature: 256 bytes (RSA 2048)" "assert d['sig_len'] == 256, d['sig_len']"
json_check "claims: exactly iss sub client_id aud iat nbf exp jti scope cnf" "
assert d['claim_names'] == sorted(['iss', 'sub', 'client_id', 'aud', 'iat',
    'nbf', 'exp', 'jti', 'scope', 'cnf']), d['claim_names']
"
json_check "claim iss: the configured issuer" "
assert d['claims']['iss'] == '$BASE', d['claims']['iss']
"
json_check "claim sub: the client's name" "
assert d['claims']['sub'] == 'order-service', d['claims']['sub']
"
json_check "claim client_id: same as sub" "
assert d['claims']['client_id'] == 'order-service', d['claims']
"
json_check "claim aud: the requested audience, a string" "
assert d['claims']['aud'] == 'inventory', d['claims']['aud']
"
json_check "claim iat: an integer within the request's time" "
c = d['claims']
assert type(c['iat']) is int and $t0 <= c['iat'] <= $t1, (c['iat'], $t0, $t1)
"
json_check "claim nbf: equals iat" "
c = d['claims']
assert type(c['nbf']) is int and c['nbf'] == c['iat'], c
"
json_check "claim exp: iat + 300" "
c = d['claims']
assert type(c['exp']) is int and c['exp'] == c['iat'] + 300, c
"
json_check "claim jti: 22 characters of base64url (128 bits)" "
import re
j = d['claims']['jti']
assert re.fullmatch(r'[A-Za-z0-9_-]{22}', j), j
assert j[-1] in 'AQgw', j	# 128 bits: the last character carries 2 bits
"
json_check "claim scope: the granted scopes, sorted" "
assert d['claims']['scope'] == 'stock:read stock:write', d['claims']
"
json_check "claim cnf: exactly x5t#S256, the SHA-256 of the client certificate DER" "
assert d['claims']['cnf'] == {'x5t#S256': d['x5t']}, (d['claims']['cnf'], d['x5t'])
"
json_check "response scope equals the scope claim" "
assert d['response']['scope'] == d['claims']['scope'], d
"
json_check "response expires_in equals exp - iat" "
assert d['response']['expires_in'] == d['claims']['exp'] - d['claims']['iat'], d
"
x5t_openssl=$(openssl x509 -in "$PKI/order-service.pem" -outform DER |
    openssl dgst -sha256 -binary | basenc --base64url | tr -d '=\n')
is "claim cnf: x5t#S256 also matches openssl's digest of the DER" \
    "$(json 'd["claims"]["cnf"]["x5t#S256"]' <"$T/insp.json")" "$x5t_openssl"
jti1=$(json 'd["claims"]["jti"]' <"$T/insp.json")

get_token order-service inventory
cp "$T/out" "$T/resp.json"
token_ok "a second token"
inspect order-service
jti2=$(json 'd["claims"]["jti"]' <"$T/insp.json")
isnt "jti: differs between two tokens" "$jti2" "$jti1"
like "jti: the second is base64url too" "$jti2" '^[A-Za-z0-9_-]{22}$'

# Another client's certificate binds another thumbprint.
get_token billing-service reports
cp "$T/out" "$T/resp.json"
token_ok "billing-service: token for a grant without scopes"
json_check "no scopes: the response has no scope member" "
assert sorted(d) == ['access_token', 'expires_in', 'token_type'], d
"
inspect billing-service
json_check "no scopes: the token has no scope claim" "
assert 'scope' not in d['claims'], d['claims']
"
json_check "billing-service: sub, client_id, aud" "
c = d['claims']
assert (c['sub'], c['client_id'], c['aud']) == ('billing-service',
    'billing-service', 'reports'), c
"
json_check "billing-service: cnf binds billing-service's certificate" "
assert d['claims']['cnf'] == {'x5t#S256': d['x5t']}, d
"
ok "billing-service: jwcrypto verifies it" \
    "$TSR_PYTHON" "$T/jwcrypto_verify.py" "$T/jwks.json" "$TOKEN" \
    reports "$BASE"

# --- scope parameter --------------------------------------------------------
get_token order-service inventory "scope=stock:read"
cp "$T/out" "$T/resp.json"
token_ok "scope=stock:read: 200"
json_check "scope subset: the response has only that scope" "
assert d['scope'] == 'stock:read', d
"
inspect order-service
json_check "scope subset: the claim has only that scope" "
assert d['claims']['scope'] == 'stock:read', d['claims']
"

get_token order-service inventory "scope=stock:write+stock:read"
cp "$T/out" "$T/resp.json"
token_ok "scope in reverse order: 200"
json_check "scope in reverse order: sorted in the response" "
assert d['scope'] == 'stock:read stock:write', d
"
inspect order-service
json_check "scope in reverse order: sorted in the claim" "
assert d['claims']['scope'] == 'stock:read stock:write', d['claims']
"

get_token order-service inventory "scope=stock:read%20stock:write"
token_ok "scope with %20 as the separator: 200"
json_check "scope with %20: both scopes" "
assert d['scope'] == 'stock:read stock:write', d
"

post_token order-service \
    "grant_type=client_credentials&audience=inventory&scope=stock:delete"
oauth_error "scope not granted: 400 invalid_scope" 400 invalid_scope
post_token order-service \
    "grant_type=client_credentials&audience=inventory&scope=stock:read+stock:delete"
oauth_error "one granted and one not granted scope: 400 invalid_scope" \
    400 invalid_scope
post_token billing-service \
    "grant_type=client_credentials&audience=reports&scope=anything"
oauth_error "a scope on a grant without scopes: 400 invalid_scope" \
    400 invalid_scope

# --- resource= as a synonym of audience --------------------------------------
post_token order-service "grant_type=client_credentials&resource=inventory"
TOKEN=$(json 'd.get("access_token", "")' <"$T/out" 2>/dev/null)
cp "$T/out" "$T/resp.json"
token_ok "resource=inventory: 200"
inspect order-service
json_check "resource=inventory: aud is inventory" "
assert d['claims']['aud'] == 'inventory', d['claims']
"
post_token order-service "grant_type=client_credentials&resource=reports"
oauth_error "resource=reports (not granted to order-service): 400 invalid_target" \
    400 invalid_target

# --- token lifetime: min(grant ttl, --token-ttl) ----------------------------
get_token order-service ledger
cp "$T/out" "$T/resp.json"
token_ok "grant --ttl 60s: 200"
json_check "grant --ttl 60s: expires_in 60" "assert d['expires_in'] == 60, d"
inspect order-service
json_check "grant --ttl 60s: exp = iat + 60" "
c = d['claims']
assert c['exp'] == c['iat'] + 60, c
"
get_token order-service archive
token_ok "grant --ttl 10m with --token-ttl 5m: 200"
json_check "grant --ttl 10m with --token-ttl 5m: expires_in 300" \
    "assert d['expires_in'] == 300, d"

stop_server
start_server --token-ttl 2m || bail "the server did not start with --token-ttl 2m"
get_token order-service archive
cp "$T/out" "$T/resp.json"
token_ok "--token-ttl 2m, grant --ttl 10m: 200"
json_check "--token-ttl 2m, grant --ttl 10m: expires_in 120" \
    "assert d['expires_in'] == 120, d"
inspect order-service
json_check "--token-ttl 2m, grant --ttl 10m: exp = iat + 120" "
c = d['claims']
assert c['exp'] == c['iat'] + 120, c
"
get_token order-service inventory
cp "$T/out" "$T/resp.json"
token_ok "--token-ttl 2m, grant without ttl: 200"
json_check "--token-ttl 2m, grant without ttl: expires_in 120" \
    "assert d['expires_in'] == 120, d"
inspect order-service
json_check "--token-ttl 2m, grant without ttl: exp = iat + 120" "
c = d['claims']
assert c['exp'] == c['iat'] + 120, c
"
get_token order-service ledger
token_ok "--token-ttl 2m, grant --ttl 60s: 200"
json_check "--token-ttl 2m, grant --ttl 60s: expires_in 60" \
    "assert d['expires_in'] == 60, d"

done_testing
