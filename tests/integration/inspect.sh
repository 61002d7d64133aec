#!/usr/bin/env bash
# inspect.sh: `tessera token inspect [TOKEN]` ("The `tessera`
# program", README "Inspecting a token") against tokens a real server
# issued, and forged ones signed with the store's own keys.
#
# For every case: the exit status (0 valid, 1 not valid with exactly one
# stderr line "tessera: token is not valid: <why>"), the human lines
# (verdict, issued to, audience, scope, issued at / expires at with the
# absolute UTC time and the relative "in ..." / "... ago", issuer, key and
# its state, jti, binding), the --json document (valid, reason, claims,
# key {kid,state}, revoked), and a store left exactly as it was
# (db_checksum, with the server stopped so nothing else writes).
#
# The <PREFIX>_kid/_iat/... variables come from eval "$(tokvars ...)", the
# forged tokens from eval of prep.py's output.
# shellcheck disable=SC2154,SC2016,SC2015
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

RS=inventory-service

# --- helpers ------------------------------------------------------------------

# tokvars PREFIX TOKEN...: for each TOKEN, shell assignments
# PREFIX_kid, PREFIX_iat, PREFIX_nbf, PREFIX_exp, PREFIX_jti (PREFIX is
# the first argument for the first token, then PREFIX2, ...).  eval it.
# No verification: this is the test reading what it was given.
tokvars() {
	"$TSR_PYTHON" -c '
import base64, json, shlex, sys
def part(t, i):
    p = t.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
for i, t in enumerate(sys.argv[2:]):
    n = sys.argv[1] + (str(i + 1) if i else "")
    h, c = part(t, 0), part(t, 1)
    print("%s_kid=%s" % (n, shlex.quote(h["kid"])))
    for k in ("iat", "nbf", "exp", "jti"):
        print("%s_%s=%s" % (n, k, shlex.quote(str(c[k]))))
' "$@"
}

# prep.py TOKEN PEM CERT: in one process (importing cryptography is slow
# on a loaded machine), shell assignments for: X5T (the x5t#S256 of CERT),
# and tokens made from TOKEN's header and claims: TF (re-signed with PEM,
# a new jti: a control that must verify), TNYV (iat/nbf an hour ahead),
# TTYP (typ "JWT"), TUK (a fresh key, random kid RKID), TSWAP (sub changed
# under the original signature), TNONE (alg none, no signature), TNONE2
# (alg none, the original signature).
cat >"$T/prep.py" <<'PY'
import base64, hashlib, json, os, shlex, sys, time
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

tok, pem, cert = sys.argv[1:4]
now = int(time.time())

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def part(i):
    p = tok.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))

def enc(o):
    return b64(json.dumps(o, separators=(",", ":")).encode())

def sign(key, h, p):
    si = enc(h) + "." + enc(p)
    return si + "." + b64(key.sign(si.encode(), padding.PKCS1v15(),
                                   hashes.SHA256()))

with open(pem, "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=None)
with open(cert, "rb") as f:
    der = x509.load_pem_x509_certificate(f.read()).public_bytes(
        serialization.Encoding.DER)
h, p = part(0), part(1)
fresh = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rkid = b64(os.urandom(32))
sig = tok.split(".")[2]
none = dict(h, alg="none")
out = {
    "X5T": b64(hashlib.sha256(der).digest()),
    "TF": sign(key, h, dict(p, jti="AAAAAAAAAAAAAAAAAAAAAA")),
    "TNYV": sign(key, h, dict(p, iat=now + 3600, nbf=now + 3600,
                              exp=now + 3900)),
    "TTYP": sign(key, dict(h, typ="JWT"), p),
    "RKID": rkid,
    "TUK": sign(fresh, dict(h, kid=rkid), p),
    "TSWAP": enc(h) + "." + enc(dict(p, sub="billing-service")) + "." + sig,
    "TNONE": enc(none) + "." + enc(p) + ".",
    "TNONE2": enc(none) + "." + enc(p) + "." + sig,
}
for k, v in out.items():
    print("%s=%s" % (k, shlex.quote(v)))
PY

# field LABEL: the value of the human line "LABEL: value" in $T/out
field() {
	sed -n "s/^$1: *//p" "$T/out" | head -n 1
}

# utc EPOCH: the absolute form inspect prints
utc() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%SZ'; }

# rel_ok WHEN-TEXT EPOCH: WHEN-TEXT is "ABS (REL)" with ABS = utc EPOCH
# and REL "in XhYYmZZs" for a future EPOCH, "XhYYmZZs ago" for a past (or
# the present) one, as seen at some second of [RUN_T0, RUN_T1], the time
# the last inspect ran; prints why not.
rel_ok() {
	local text=$1 at=$2 re='^(.+) \((in )?([0-9]+)h([0-9][0-9])m([0-9][0-9])s( ago)?\)$' s
	if ! [[ $text =~ $re ]]; then
		echo "not 'ABS (REL)': '$text'"
		return 1
	fi
	if [ "${BASH_REMATCH[1]}" != "$(utc "$at")" ]; then
		echo "absolute '${BASH_REMATCH[1]}', want '$(utc "$at")'"
		return 1
	fi
	if { [ -n "${BASH_REMATCH[2]}" ] && [ -n "${BASH_REMATCH[6]}" ]; } ||
	    { [ -z "${BASH_REMATCH[2]}" ] && [ -z "${BASH_REMATCH[6]}" ]; }; then
		echo "want exactly one of 'in ' and ' ago': '$text'"
		return 1
	fi
	s=$((10#${BASH_REMATCH[3]} * 3600 + 10#${BASH_REMATCH[4]} * 60 + 10#${BASH_REMATCH[5]}))
	[ -n "${BASH_REMATCH[2]}" ] || s=$((-s))
	# s is at - now for the inspect's now, in [RUN_T0, RUN_T1]
	if [ "$s" -lt $((at - RUN_T1)) ] || [ "$s" -gt $((at - RUN_T0)) ]; then
		echo "'$text': $at is $((at - RUN_T1))..$((at - RUN_T0)) s from the run"
		return 1
	fi
}

# when_ok DESC LABEL EPOCH: one TAP line for rel_ok on the human field
when_ok() {
	local msg
	if msg=$(rel_ok "$(field "$2")" "$3" 2>&1); then
		pass "$1"
	else
		fail "$1" "$msg" "output: $(cat "$T/out")"
	fi
}

# inspect_exits DESC WANT-RC WANT-REASON CMD...: CMD (an inspect) exits
# WANT-RC; for 1, stderr is exactly "tessera: token is not valid:
# WANT-REASON"; for 0, stderr is empty.  A second TAP line: the store is
# unchanged (db_checksum of $DB).  stdout stays in $T/out.
inspect_exits() {
	local desc=$1 want=$2 reason=$3 before after why=()
	shift 3
	before=$(db_checksum "$DB")
	RUN_T0=$(date +%s)
	run "$@"
	RUN_T1=$(date +%s)
	after=$(db_checksum "$DB")
	[ "$RC" -eq "$want" ] || why+=("want exit $want")
	if [ "$want" -eq 0 ]; then
		[ ! -s "$T/err" ] || why+=("want nothing on stderr")
	elif [ "$ERR" != "tessera: token is not valid: $reason" ]; then
		why+=("want stderr exactly 'tessera: token is not valid: $reason'")
	fi
	if [ "${#why[@]}" -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc" "${why[@]}" "$(_show_run "$@")"
	fi
	is "$desc: the store is unchanged" "$after" "$before"
}

# inspect_stdin_exits DESC WANT-RC WANT-REASON TOKEN [ARGS...]: as
# inspect_exits, the token on standard input
inspect_stdin_exits() {
	local desc=$1 want=$2 reason=$3 tok=$4
	shift 4
	inspect_exits "$desc" "$want" "$reason" bash -c \
	    'printf "%s\n" "$1" | "$2" --db "$3" --key-dir "$4" "${@:5}" token inspect' \
	    - "$tok" "$TSR_BIN" "$DB" "$KEYS" "$@"
}

# --- store A: a default server (token TTL 5 m, clock skew 60 s) ---------------

DB=$T/a.db
KEYS=$T/akeys
fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr grant add order-service "$RS" --scope stock:read \
	--scope stock:deduct >/dev/null &&
    tsr grant add billing-service "$RS" >/dev/null ||
    bail "cannot set up the policy"
start_server || bail "the server did not start"
ISSUER=$BASE

get_token order-service "$RS"
token_ok "setup: order-service gets a token for $RS"
TV=$TOKEN
get_token billing-service "$RS"
token_ok "setup: billing-service gets a token with no scope"
TNS=$TOKEN
get_token order-service "$RS"
TREV=$TOKEN
get_token order-service "$RS"
TKEYREV=$TOKEN
# The server writes audit rows and upkeep; from here on only the CLI runs.
stop_server

eval "$(tokvars TV "$TV" "$TREV")" || bail "cannot read the tokens' claims"
KID1=$TV_kid
is "setup: the signing key is the active one" \
    "$(tsr --json key list | json "[k['state'] for k in d['keys'] if k['kid'] == '$KID1']")" \
    '["active"]'
PEM1=$KEYS/$KID1.pem
[ -f "$PEM1" ] || bail "no private key file $PEM1"
eval "$("$TSR_PYTHON" "$T/prep.py" "$TV" "$PEM1" "$PKI/order-service.pem")" ||
    bail "cannot forge the test tokens"
eval "$(tokvars TNYV "$TNYV")" || bail "cannot read the forged claims"

# --- a valid token, as an argument -----------------------------------------------

inspect_exits "valid (argument): exits 0, nothing on stderr" 0 "" \
    tsr token inspect "$TV"
cp "$T/out" "$T/valid.txt"
is "valid: verdict: valid" "$(field verdict)" valid
is "valid: issued to: order-service" "$(field 'issued to')" order-service
is "valid: audience: $RS" "$(field audience)" "$RS"
is "valid: scope: the granted scopes, sorted" "$(field scope)" \
    "stock:deduct stock:read"
when_ok "valid: issued at: absolute UTC time and '... ago'" 'issued at' \
    "$TV_iat"
when_ok "valid: expires at: absolute UTC time and 'in ...'" 'expires at' \
    "$TV_exp"
like "valid: expires at: about 5 minutes from now" "$(field 'expires at')" \
    '\(in 0h0[45]m[0-9][0-9]s\)$'
is "valid: issuer: the server's issuer" "$(field issuer)" "$ISSUER"
is "valid: key: the kid and its state, active" "$(field key)" \
    "$KID1 (active)"
is "valid: jti: the token's jti" "$(field jti)" "$TV_jti"
is "valid: bound to: the client certificate's x5t#S256" "$(field 'bound to')" \
    "client certificate with x5t#S256 $X5T"
is "valid: no 'revoked:' line" "$(grep -c '^revoked:' "$T/out")" 0

inspect_exits "valid --json: exits 0, nothing on stderr" 0 "" \
    tsr --json token inspect "$TV"
json_check "valid --json: valid, reason, claims, key active, not revoked" "
import base64
p = '$TV'.split('.')[1]
c = json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))
assert d['valid'] is True, d
assert d['reason'] == 'valid', d
cl = d['claims']
assert cl['iss'] == '$ISSUER' and cl['sub'] == 'order-service', cl
assert cl['aud'] == '$RS' and cl['scope'] == 'stock:deduct stock:read', cl
assert cl['jti'] == c['jti'] and cl['kid'] == '$KID1', cl
for k in ('iat', 'nbf', 'exp'):
    assert type(cl[k]) is int and cl[k] == c[k], (k, cl, c)
assert cl['x5t#S256'] == '$X5T', cl
assert d['key'] == {'kid': '$KID1', 'state': 'active'}, d
assert d['revoked'] is None, d
"

# --- the same token on standard input ---------------------------------------------

inspect_stdin_exits "valid (stdin): exits 0, nothing on stderr" 0 "" "$TV"
is "valid (stdin): the same report as with the argument (bar the clock)" \
    "$(grep -v '^\(issued\|expires\) at:' "$T/out")" \
    "$(grep -v '^\(issued\|expires\) at:' "$T/valid.txt")"
inspect_stdin_exits "valid (stdin) --json: exits 0" 0 "" "$TV" --json
json_check "valid (stdin) --json: valid, key active" "
assert d['valid'] is True and d['reason'] == 'valid', d
assert d['key'] == {'kid': '$KID1', 'state': 'active'}, d
assert d['claims']['jti'] == '$TV_jti', d
"
printf '%s' "$TV" | tsr token inspect >"$T/out" 2>"$T/err"
tap_ok $? "valid (stdin without a final newline): exits 0"

# --- a token with no scope ---------------------------------------------------------

inspect_exits "no scope: exits 0" 0 "" tsr token inspect "$TNS"
is "no scope: issued to: billing-service" "$(field 'issued to')" \
    billing-service
is "no scope: scope: (none)" "$(field scope)" "(none)"
inspect_exits "no scope --json: exits 0" 0 "" tsr --json token inspect "$TNS"
json_check "no scope --json: scope is empty" "
assert d['valid'] is True and d['claims']['scope'] == '', d
assert d['claims']['sub'] == 'billing-service', d
"

# --- forged tokens signed with the real active key ----------------------------------

# Sanity: the forger makes a token inspect accepts, so the cases below
# fail for the reason they name and not because forging is broken.
inspect_exits "forged control (same header and claims, real key): valid" 0 "" \
    tsr token inspect "$TF"

# Not yet valid: nbf and iat an hour ahead, well past the 60 s skew.
inspect_exits "not yet valid: exits 1" 1 "not yet valid" \
    tsr token inspect "$TNYV"
is "not yet valid: verdict" "$(field verdict)" "not yet valid"
when_ok "not yet valid: issued at: 'in 1h00m..'" 'issued at' \
    "$TNYV_iat"
like "not yet valid: issued at is an hour ahead" "$(field 'issued at')" \
    '\(in (1h00m00s|0h5[0-9]m[0-9][0-9]s)\)$'
when_ok "not yet valid: expires at in the future" 'expires at' \
    "$TNYV_exp"
is "not yet valid: key: active" "$(field key)" "$KID1 (active)"
inspect_exits "not yet valid --json: exits 1" 1 "not yet valid" \
    tsr --json token inspect "$TNYV"
json_check "not yet valid --json: reason, claims, key" "
assert d['valid'] is False and d['reason'] == 'not yet valid', d
assert d['claims']['nbf'] == $TNYV_nbf, d
assert d['key'] == {'kid': '$KID1', 'state': 'active'}, d
assert d['revoked'] is None, d
"

# Wrong typ: "JWT" instead of "at+jwt", signed with the real key.
inspect_exits "wrong typ: exits 1" 1 "wrong typ: not an at+jwt access token" \
    tsr token inspect "$TTYP"
like "wrong typ: verdict names typ" "$(field verdict)" '^wrong typ'
inspect_exits "wrong typ --json: exits 1" 1 \
    "wrong typ: not an at+jwt access token" tsr --json token inspect "$TTYP"
json_check "wrong typ --json: not valid, reason wrong typ" "
assert d['valid'] is False, d
assert d['reason'].startswith('wrong typ'), d
"

# Unknown kid: a fresh key nobody publishes, with a random kid.
inspect_exits "unknown kid: exits 1" 1 "signed by a key that is not published" \
    tsr token inspect "$TUK"
is "unknown kid: verdict" "$(field verdict)" \
    "signed by a key that is not published"
is "unknown kid: key: the kid, unknown to this store" "$(field key)" \
    "$RKID (unknown to this store)"
inspect_exits "unknown kid --json: exits 1" 1 \
    "signed by a key that is not published" tsr --json token inspect "$TUK"
json_check "unknown kid --json: key null, claims kid is the random kid" "
assert d['valid'] is False, d
assert d['reason'] == 'signed by a key that is not published', d
assert d['key'] is None, d
assert d['claims']['kid'] == '$RKID', d
"

# Bad signature: one character of the real token's signature changed.
SIG=${TV##*.}
c=${SIG:10:1}
[ "$c" = A ] && r=B || r=A
TBAD=${TV%.*}.${SIG:0:10}$r${SIG:11}
inspect_exits "bad signature: exits 1" 1 "bad signature" \
    tsr token inspect "$TBAD"
is "bad signature: verdict" "$(field verdict)" "bad signature"
inspect_exits "bad signature --json: exits 1" 1 "bad signature" \
    tsr --json token inspect "$TBAD"
json_check "bad signature --json: not valid, reason bad signature" "
assert d['valid'] is False and d['reason'] == 'bad signature', d
assert d['revoked'] is None, d
"
# Claims changed under the original signature.
H0=${TV%%.*}
inspect_exits "claims changed under a good signature: bad signature" 1 \
    "bad signature" tsr token inspect "$TSWAP"

# alg none, no signature.
run tsr token inspect "$TNONE"
is "alg none: exits 1" "$RC" 1
is "alg none: one stderr line naming the algorithm" "$ERR" \
    "tessera: token is not valid: unsupported alg: only RS256 is accepted"
isnt "alg none: verdict is not valid" "$(field verdict)" valid
inspect_exits "alg none with the real signature attached: not valid" 1 \
    "unsupported alg: only RS256 is accepted" tsr token inspect "$TNONE2"

# --- malformed input ------------------------------------------------------------------

MAL="malformed: not a JWT we issue"
inspect_exits "malformed garbage: exits 1" 1 "$MAL" \
    tsr token inspect 'this is not a token'
is "malformed garbage: verdict" "$(field verdict)" "$MAL"
is "malformed garbage: no claim lines are printed" \
    "$(grep -c '^\(issued to\|audience\|key\|jti\):' "$T/out")" 0
inspect_exits "malformed garbage --json: exits 1" 1 "$MAL" \
    tsr --json token inspect 'this is not a token'
json_check "malformed --json: not valid, reason malformed, key null" "
assert d['valid'] is False, d
assert d['reason'].startswith('malformed'), d
assert d['key'] is None and d['revoked'] is None, d
"
inspect_exits "malformed: two parts" 1 "$MAL" \
    tsr token inspect "${TV%.*}"
inspect_exits "malformed: four parts" 1 "$MAL" \
    tsr token inspect "$TV.$SIG"
inspect_exits "malformed: bad base64 in the payload" 1 "$MAL" \
    tsr token inspect "$H0.!!!*not*base64!!!.$SIG"
inspect_exits "malformed: header is not JSON" 1 "$MAL" \
    tsr token inspect "$(printf 'not json' | base64 | tr -d '=').$(cut -d. -f2 <<<"$TV").$SIG"
inspect_exits "malformed: empty argument" 1 "$MAL" tsr token inspect ""
inspect_stdin_exits "malformed (stdin): garbage" 1 "$MAL" "garbage"

# 9 KiB: over the 8192-byte limit, said as such.
LONG=$H0.$(head -c 9216 /dev/zero | tr '\0' A).$SIG
run tsr token inspect "$LONG"
is "too long (argument): exits 1" "$RC" 1
like "too long (argument): one stderr line 'token is not valid:' naming the length" \
    "$ERR" '^tessera: token is not valid: [^
]*(too long|longer than|8192)[^
]*$'
run bash -c 'printf "%s\n" "$1" | "$2" --db "$3" --key-dir "$4" token inspect' \
    - "$LONG" "$TSR_BIN" "$DB" "$KEYS"
is "too long (stdin): exits 1" "$RC" 1
like "too long (stdin): one stderr line 'token is not valid:' naming the length" \
    "$ERR" '^tessera: token is not valid: [^
]*(too long|longer than|8192)[^
]*$'
before=$(db_checksum "$DB")
printf '' | tsr token inspect >"$T/out" 2>"$T/err"
RC=$?
is "empty stdin: exits 1" "$RC" 1
one_error_line
tap_ok $? "empty stdin: one 'tessera: ' stderr line"
is "empty stdin: the store is unchanged" "$(db_checksum "$DB")" "$before"

# --- a revoked token -------------------------------------------------------------------

ok "setup: token revoke --reason" \
    tsr token revoke "$TREV" --reason "leaked in a ticket"
REV_AT=$(tsr --json revocation list | json "[r['revoked_at'] for r in d['revocations'] if r.get('jti') == '$TV2_jti'][0]")
inspect_exits "revoked token: exits 1" 1 "revoked" tsr token inspect "$TREV"
is "revoked token: verdict: revoked" "$(field verdict)" revoked
is "revoked token: revoked: when and the reason" "$(field revoked)" \
    "$(utc "$REV_AT") (leaked in a ticket)"
is "revoked token: key still active" "$(field key)" "$KID1 (active)"
is "revoked token: issued to" "$(field 'issued to')" order-service
inspect_exits "revoked token --json: exits 1" 1 "revoked" \
    tsr --json token inspect "$TREV"
json_check "revoked token --json: the deny-list entry with its reason" "
assert d['valid'] is False and d['reason'] == 'revoked', d
r = d['revoked']
assert r['kind'] == 'token' and r['jti'] == '$TV2_jti', r
assert r['reason'] == 'leaked in a ticket' and r['revoked_at'] == $REV_AT, r
assert d['key'] == {'kid': '$KID1', 'state': 'active'}, d
"
inspect_exits "revoked token: another token of the client stays valid" 0 "" \
    tsr token inspect "$TV"

# --- rotation: the signing key retires, its token stays valid -------------------------

ok "setup: key rotate" tsr key rotate
KID2=$(tsr --json key list | json "[k['kid'] for k in d['keys'] if k['state'] == 'active'][0]")
isnt "setup: a new active key" "$KID2" "$KID1"
inspect_exits "after rotate: the token is still valid" 0 "" \
    tsr token inspect "$TV"
is "after rotate: key: retired" "$(field key)" "$KID1 (retired)"
is "after rotate: verdict valid" "$(field verdict)" valid
inspect_exits "after rotate --json: exits 0" 0 "" tsr --json token inspect "$TV"
json_check "after rotate --json: valid, key retired" "
assert d['valid'] is True and d['reason'] == 'valid', d
assert d['key'] == {'kid': '$KID1', 'state': 'retired'}, d
"

# --- a revoked key ---------------------------------------------------------------------

ok "setup: key revoke of the retired key" tsr key revoke "$KID1"
inspect_exits "revoked key: exits 1" 1 "signed by a revoked key" \
    tsr token inspect "$TKEYREV"
is "revoked key: verdict" "$(field verdict)" "signed by a revoked key"
is "revoked key: key: the kid, revoked" "$(field key)" "$KID1 (revoked)"
inspect_exits "revoked key --json: exits 1" 1 "signed by a revoked key" \
    tsr --json token inspect "$TKEYREV"
json_check "revoked key --json: reason, key revoked" "
assert d['valid'] is False and d['reason'] == 'signed by a revoked key', d
assert d['key'] == {'kid': '$KID1', 'state': 'revoked'}, d
assert d['claims']['sub'] == 'order-service', d
"

# --- store B: short TTL and skew, for expiry -------------------------------------------

DB=$T/b.db
KEYS=$T/bkeys
fresh_store
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service "$RS" --scope stock:read >/dev/null ||
    bail "cannot set up the policy of store B"
start_server --token-ttl 2s --clock-skew 1s || bail "server B did not start"
get_token order-service "$RS"
token_ok "setup B: a token signed by the first key"
TOLD=$TOKEN
eval "$(tokvars TOLD "$TOLD")" || bail "cannot read the claims"
KOLD=$TOLD_kid
ok "setup B: key rotate" tsr key rotate
key_state() {
	tsr --json key list | json "[k['state'] for k in d['keys'] if k['kid'] == '$1'][0]"
}
# The server follows the CLI's rotation within a second: ask until the
# token is signed by the new key.
new_key_token() {
	get_token order-service "$RS"
	[ -n "$TOKEN" ] || return 1
	eval "$(tokvars TEXP "$TOKEN")" && [ "$TEXP_kid" != "$KOLD" ]
}
poll_until 5000 new_key_token
token_ok "setup B: a token signed by the new key"
TEXP=$TOKEN
isnt "setup B: the new token's kid is not the rotated key's" "$TEXP_kid" "$KOLD"
EXP=$TEXP_exp
key_expired() { [ "$(key_state "$KOLD")" = expired ]; }
if poll_until 15000 key_expired; then
	pass "setup B: the retired key expires (after ${POLL_MS} ms)"
else
	fail "setup B: the retired key expires" "state: $(key_state "$KOLD")"
fi
# TEXP expires at exp; inspect says so once exp <= now - skew (1 s).
while [ "$(date +%s)" -le $((EXP + 1)) ]; do sleep 0.2; done
stop_server

inspect_exits "expired: exits 1" 1 "expired" tsr token inspect "$TEXP"
is "expired: verdict" "$(field verdict)" expired
when_ok "expired: expires at: absolute time and '... ago'" 'expires at' "$EXP"
like "expired: expires at is in the past" "$(field 'expires at')" \
    '\(0h00m[0-9][0-9]s ago\)$'
is "expired: key: active" "$(field key)" "$TEXP_kid (active)"
is "expired: issued to" "$(field 'issued to')" order-service
inspect_exits "expired --json: exits 1" 1 "expired" \
    tsr --json token inspect "$TEXP"
json_check "expired --json: reason expired, exp in the past" "
import time
assert d['valid'] is False and d['reason'] == 'expired', d
assert d['claims']['exp'] == $EXP < time.time(), d
assert d['key'] == {'kid': '$TEXP_kid', 'state': 'active'}, d
"

inspect_exits "expired key: exits 1" 1 "signed by an expired key" \
    tsr token inspect "$TOLD"
is "expired key: verdict" "$(field verdict)" "signed by an expired key"
is "expired key: key: the kid, expired" "$(field key)" "$KOLD (expired)"
inspect_exits "expired key --json: exits 1" 1 "signed by an expired key" \
    tsr --json token inspect "$TOLD"
json_check "expired key --json: reason, key expired" "
assert d['valid'] is False and d['reason'] == 'signed by an expired key', d
assert d['key'] == {'kid': '$KOLD', 'state': 'expired'}, d
"

# --- usage -------------------------------------------------------------------------------

usage_error "two tokens: usage" tsr token inspect "$TV" "$TV"
usage_error "unknown option: usage" tsr token inspect --frobnicate "$TV"

done_testing
