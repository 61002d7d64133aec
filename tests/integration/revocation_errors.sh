#!/usr/bin/env bash
# revocation_errors.sh: every bad input to POST /revoke, POST /introspect
# and the revocation subcommands ("POST /revoke", "POST /introspect",
# `token revoke`, `client revoke-tokens`).  Each case asserts that nothing
# changed: the store (but for the audit trail) and, for /revoke, that the
# caller's own live token - the one the request names where it can - is
# still active.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
. "$(dirname "$0")/revocation_lib.sh"

fresh_store
make_pki
revocation_policy
"$TSR_SRCDIR/scripts/dev-pki" "$PKI" --client stranger >/dev/null ||
    bail "dev-pki --client stranger failed"
start_server || bail "the server did not start"
RS=inventory-service

# A live token of order-service, and one already revoked, so the
# deny-list is not empty.
get_token order-service "$RS"
TL=$TOKEN
get_token order-service "$RS"
TR=$TOKEN
tsr token revoke "$TR" --reason "setup" >/dev/null || bail "cannot revoke"
poll_until 2000 is_inactive "$RS" "$TR" || bail "the revoked token is still active"
is_active "$RS" "$TL" || bail "the live token is not active"
S0=$(store_sum)
L0=$(revocations)

# unchanged DESC: one TAP line: the store is as it was and the live token
# is still active
unchanged() {
	local why=() st=$STATUS body
	body=$(head -c 500 "$T/out")
	if [ "$(store_sum)" != "$S0" ]; then
		why+=("the store changed")
		[ "$(revocations)" = "$L0" ] ||
		    why+=("the deny-list: $(revocations | tr '\n' ';')")
	fi
	# Only /revoke could end the token; /introspect must not write at all.
	[ "${ep:-revoke}" = introspect ] || is_active "$RS" "$TL" ||
	    why+=("the live token is no longer active")
	STATUS=$st
	printf '%s' "$body" >"$T/out"
	if [ "${#why[@]}" -eq 0 ]; then pass "$1"; else fail "$1" "${why[@]}"; fi
}

# --- malformed requests to both endpoints ------------------------------------
big=$T/big.form
{ printf 'token=%s&pad=' "$TL"; head -c 5000 /dev/zero | tr '\0' a; } >"$big"
for ep in revoke introspect; do
	# /revoke as the token's own client, so a request wrongly accepted
	# would revoke it; /introspect as its audience.
	case $ep in revoke) who=order-service ;; introspect) who=$RS ;; esac

	post_form "$ep" - "token=$TL"
	oerr "$ep: no client certificate, 401 invalid_client" 401 \
	    invalid_client
	unchanged "$ep: no client certificate changes nothing"

	post_form "$ep" stranger "token=$TL"
	oerr "$ep: a certificate of no client, 401 invalid_client" 401 \
	    invalid_client
	unchanged "$ep: a certificate of no client changes nothing"

	post_form "$ep" "$who" "token_type_hint=access_token"
	oerr "$ep: token missing, 400 invalid_request" 400 \
	    invalid_request
	unchanged "$ep: token missing changes nothing"

	post_form "$ep" "$who" "token=$TL&token=$TL"
	oerr "$ep: token repeated, 400 invalid_request" 400 \
	    invalid_request
	unchanged "$ep: token repeated changes nothing"

	post_form "$ep" "$who" "token=$TL&token_type_hint=a&token_type_hint=b"
	oerr "$ep: token_type_hint repeated, 400 invalid_request" 400 \
	    invalid_request
	unchanged "$ep: token_type_hint repeated changes nothing"

	post_form "$ep" "$who" "token="
	oerr "$ep: token empty, 400 invalid_request" 400 \
	    invalid_request
	unchanged "$ep: token empty changes nothing"

	post_form "$ep" "$who" "token=$TL%zz"
	oerr "$ep: a malformed percent-escape, 400 invalid_request" 400 \
	    invalid_request
	unchanged "$ep: a malformed percent-escape changes nothing"

	post_form "$ep" "$who" "token=$TL" -H 'Content-Type: application/json'
	oerr "$ep: wrong content type, 400 invalid_request" 400 \
	    invalid_request
	unchanged "$ep: wrong content type changes nothing"

	post_form "$ep" "$who" "@$big"
	oerr "$ep: body over 4 KiB, 413 invalid_request" 413 \
	    invalid_request
	unchanged "$ep: body over 4 KiB changes nothing"

	: >"$T/hdr"
	STATUS=$(ccurl "$who" -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
	    "$BASE/$ep?token=$TL")
	oerr "$ep: GET, 405 invalid_request" 405 invalid_request
	is "$ep: GET, Allow: POST" "$(header Allow)" POST
	unchanged "$ep: GET changes nothing"
done
ep=

# --- tokens that are not ours ------------------------------------------------
ccurl - -o "$T/jwks.json" "$BASE/.well-known/jwks.json"
cat >"$T/forge.py" <<'EOF'
import base64, hashlib, hmac, json, os, random, string, sys
from jwcrypto import jwk, jws

def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

tok, jwks_file = sys.argv[1:3]
h, p, s = tok.split(".")
header = json.loads(b64d(h))
claims = json.loads(b64d(p))
kid = header["kid"]
with open(jwks_file) as f:
    pub = jwk.JWK(**[k for k in json.load(f)["keys"] if k["kid"] == kid][0])

def fresh():
    c = dict(claims)
    c["jti"] = b64e(os.urandom(16))
    return c

def enc(obj):
    return b64e(json.dumps(obj, separators=(",", ":")).encode())

out = {}
rnd = random.Random(7)
out["garbage_3k"] = "".join(rnd.choice(string.ascii_letters + string.digits)
                            for _ in range(3072))
out["alg_none"] = ".".join([enc({"alg": "none", "typ": "at+jwt", "kid": kid}),
                            enc(fresh()), ""])
# HS256 keyed with the RSA public key: the key confusion attack, with
# the key as PEM and as the JWK's n bytes.
for name, secret in (("hs256_pem", pub.export_to_pem()),
                     ("hs256_n", b64d(pub["n"]))):
    si = enc({"alg": "HS256", "typ": "at+jwt", "kid": kid}) + "." + enc(fresh())
    mac = hmac.new(secret, si.encode(), hashlib.sha256).digest()
    out[name] = si + "." + b64e(mac)
# A key nobody published, under the active key's kid.
other = jwk.JWK.generate(kty="RSA", size=2048)
sig = jws.JWS(json.dumps(fresh()).encode())
sig.add_signature(other, alg="RS256", protected=json.dumps(
    {"alg": "RS256", "typ": "at+jwt", "kid": kid}))
out["unpublished_key"] = sig.serialize(compact=True)
# Our own token, altered: another sub in the payload, a flipped signature.
c = dict(claims)
c["sub"] = c["client_id"] = "billing-service"
out["payload_altered"] = h + "." + enc(c) + "." + s
out["signature_flipped"] = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
# Right signature, wrong typ is impossible to make; a JWT with typ JWT
# from the unpublished key covers the header check path a little.
out["garbage_base64"] = "%%%.***.???"
out["not_json_segments"] = b64e(b"not json") + "." + b64e(b"\xff\xfe") + "." + b64e(b"x")
out["two_segments"] = h + "." + p
out["spaces"] = "   "
for k, v in out.items():
    print(k, v)
EOF
"$TSR_PYTHON" "$T/forge.py" "$TL" "$T/jwks.json" >"$T/forged" 2>"$T/forge.err" ||
    bail "cannot forge tokens: $(cat "$T/forge.err")"

urlenc() { "$TSR_PYTHON" -c 'import sys, urllib.parse
print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

while read -r name tok; do
	[ -n "$name" ] || continue
	[ "$name" != spaces ] || tok="   "
	form="token=$(urlenc "$tok")&token_type_hint=access_token"
	post_form introspect "$RS" "$form"
	if [ "$STATUS" = 200 ] && [ "$(<"$T/out")" = '{"active":false}' ]; then
		pass "introspect: $name token, exactly {\"active\":false}"
	else
		fail "introspect: $name token, exactly {\"active\":false}" \
		    "status: $STATUS" "body: $(head -c 500 "$T/out")"
	fi
	is "introspect: $name token, Cache-Control no-store" \
	    "$(header Cache-Control)" no-store
	post_form revoke order-service "$form"
	if [ "$STATUS" = 200 ] && [ ! -s "$T/out" ]; then
		pass "revoke: $name token, a silent 200"
	else
		fail "revoke: $name token, a silent 200" "status: $STATUS" \
		    "body: $(head -c 500 "$T/out")"
	fi
	unchanged "revoke: $name token changes nothing"
done <"$T/forged"
is "forged: every kind of bad token was tried" "$(wc -l <"$T/forged")" 11

# The audience that is not the caller's, and the caller that is not the
# token's client, also answer as if nothing were there.
post_form introspect billing-service "token=$TL"
json_check "introspect: another audience's live token, exactly {\"active\":false}" \
    "assert d == {'active': False}, d"
post_form revoke billing-service "token=$TL"
oerr "revoke: another client's live token, 400 invalid_request" 400 \
    invalid_request
unchanged "revoke: another client's live token changes nothing"

# --- the CLI -----------------------------------------------------------------
# Stopped, so the audit writer leaves the whole database alone.
stop_server
bad_input "client revoke-tokens: unknown client exits 1, store unchanged" \
    "$DB" tsr client revoke-tokens nobody
like "client revoke-tokens: unknown client says which" "$ERR" nobody
bad_input "client revoke-tokens: a reason over 256 bytes, store unchanged" \
    "$DB" tsr client revoke-tokens order-service \
    --reason "$(head -c 300 /dev/zero | tr '\0' r)"
for jti in short AAAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA! \
    AAAAAAAAAAAAAAAAAAAA+/ "$(claim "$TL" jti)="; do
	bad_input "token revoke --jti '$jti': exits 1, store unchanged" \
	    "$DB" tsr token revoke --jti "$jti"
	like "token revoke --jti '$jti': malformed jti" "$ERR" 'malformed jti'
done
bad_input "token revoke: a garbage token exits 1, store unchanged" \
    "$DB" tsr token revoke "not.a.token"
while read -r name tok; do
	case $name in alg_none|hs256_pem|unpublished_key|payload_altered)
		bad_input "token revoke: $name token exits 1, store unchanged" \
		    "$DB" tsr token revoke "$tok" ;;
	esac
done <"$T/forged"
bad_input "token revoke: no token on stdin exits 1, store unchanged" \
    "$DB" tsr token revoke
bad_input "token revoke: a reason over 256 bytes, store unchanged" \
    "$DB" tsr token revoke "$TL" \
    --reason "$(head -c 300 /dev/zero | tr '\0' r)"
before=$(db_checksum "$DB")
usage_error "token revoke: a token and --jti together is a usage error" \
    tsr token revoke "$TL" --jti "$(claim "$TL" jti)"
is "token revoke: token and --jti together change nothing" \
    "$(db_checksum "$DB")" "$before"
usage_error "client revoke-tokens: no name is a usage error" \
    tsr client revoke-tokens
is "client revoke-tokens: no name changes nothing" \
    "$(db_checksum "$DB")" "$before"
bad_input "token inspect: a garbage token exits 1, store unchanged" \
    "$DB" tsr token inspect "not.a.token"
like "token inspect: says it is not valid" "$ERR" \
    '^tessera: token is not valid: '
while read -r name tok; do
	case $name in hs256_pem|unpublished_key)
		bad_input "token inspect: $name token exits 1" "$DB" \
		    tsr token inspect "$tok"
		like "token inspect: $name token is not valid" "$ERR" \
		    '^tessera: token is not valid: ' ;;
	esac
done <"$T/forged"
is "cli: the deny-list is as it was" "$(revocations)" "$L0"
exits "cli: the live token is still valid" 0 tsr token inspect "$TL"

done_testing
