#!/usr/bin/env bash
# key_concurrent.sh: rotations from the CLI racing a server that rotates
# every second ("Signing keys and rotation": rotation is a
# transaction; whoever performs a rotation, CLI or server, destroys the
# retired key's private file).  A CLI rotation may lose the race and say
# so (exit 1, one line), never crash; afterwards the store and the key
# directory must hold exactly one active and one next key with their files
# and nothing else, checked with "key list --as-stored" and ls, which
# repair nothing, before any other CLI command can repair what the race
# left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null ||
    bail "cannot set up the policy"
start_server --rotation-period 1s --token-ttl 3s --clock-skew 1s \
    --jwks-max-age 1s || bail "the server did not start"

# Ten CLI rotations, one after the other, while the server rotates too.
n_ok=0 n_conflict=0 bad=()
for i in 1 2 3 4 5 6 7 8 9 10; do
	run tsr key rotate
	case $RC in
	0)	n_ok=$((n_ok + 1)) ;;
	1)	if one_error_line; then
			n_conflict=$((n_conflict + 1))
			diag "rotate $i lost the race: $ERR"
		else
			bad+=("rotate $i: exit 1 without one 'tessera: ' line: $ERR")
		fi ;;
	*)	bad+=("rotate $i: exit $RC: $ERR") ;;
	esac
	sleep 0.$((RANDOM % 5))
done
if [ "${#bad[@]}" -eq 0 ]; then
	pass "every CLI rotation exits 0, or 1 with one error line"
else
	fail "every CLI rotation exits 0, or 1 with one error line" "${bad[@]}"
fi
if [ "$n_ok" -ge 5 ]; then
	pass "most CLI rotations succeed ($n_ok of 10)"
else
	fail "most CLI rotations succeed ($n_ok of 10)"
fi

# Then five rounds of three CLI rotations at once.
bad=() n_par_ok=0
for r in 1 2 3 4 5; do
	pids=()
	for j in 1 2 3; do
		tsr key rotate >"$T/par.$j.out" 2>"$T/par.$j.err" </dev/null &
		pids+=($!)
	done
	for j in 1 2 3; do
		wait "${pids[$((j - 1))]}"
		rc=$?
		lines=$(wc -l <"$T/par.$j.err")
		if [ "$rc" -eq 0 ]; then
			n_par_ok=$((n_par_ok + 1))
		elif [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] &&
		    grep -q '^tessera: ' "$T/par.$j.err"; then
			diag "round $r, rotation $j lost the race: $(cat "$T/par.$j.err")"
		else
			bad+=("round $r, rotation $j: exit $rc: $(head -c 300 "$T/par.$j.err")")
		fi
	done
done
if [ "${#bad[@]}" -eq 0 ]; then
	pass "parallel CLI rotations exit 0, or 1 with one error line"
else
	fail "parallel CLI rotations exit 0, or 1 with one error line" "${bad[@]}"
fi
if [ "$n_par_ok" -ge 5 ]; then
	pass "parallel CLI rotations: at least 5 succeed ($n_par_ok of 15)"
else
	fail "parallel CLI rotations: at least 5 succeed ($n_par_ok of 15)"
fi
n_ok=$((n_ok + n_par_ok))
# Each CLI rotation restarts the server's period, so how often the server
# itself got to rotate in between depends on timing; once the CLI stops
# it must rotate again on its own within a period or two.
rotations=$(grep -c 'rotated signing keys' "$T/server.log")
diag "the server rotated $rotations time(s) among the CLI rotations"
server_rotated_again() {
	[ "$(grep -c 'rotated signing keys' "$T/server.log")" -gt "$rotations" ]
}
if poll_until 5000 server_rotated_again; then
	pass "the server rotates on its own schedule after the CLI stops"
else
	fail "the server rotates on its own schedule after the CLI stops" \
	    "no rotation logged within 5 s"
fi

# The running server still signs with a published key.
http_get /.well-known/jwks.json
cp "$T/out" "$T/jwks.json"
get_token order-service inventory
ok "the server still issues tokens that verify against its JWKS" \
    "$TSR_PYTHON" -c '
import sys
from jwcrypto import jwk, jwt
ks = jwk.JWKSet.from_json(open(sys.argv[1]).read())
jwt.JWT(jwt=sys.argv[2], key=ks, algs=["RS256"])
' "$T/jwks.json" "$TOKEN"

stop_server
is "the server stops cleanly" "$SERVER_STATUS" 0
if grep -q 'rotation failed\|key upkeep failed' "$T/server.log"; then
	fail "the server logged no failed rotation or upkeep" \
	    "$(grep 'rotation failed\|key upkeep failed' "$T/server.log" | head -n 3)"
else
	pass "the server logged no failed rotation or upkeep"
fi

# --- the store as the race left it (--as-stored and ls: nothing repairs) ---
count() { stored_keys "sum(k['state'] == '$1' for k in ks)"; }
is "exactly one active key" "$(count active)" 1
is "exactly one next key" "$(count next)" 1
n_retired=$(($(count retired) + $(count expired)))
if [ "$n_retired" -ge $((n_ok + rotations)) ]; then
	pass "every rotation retired a key ($n_retired retired/expired)"
else
	fail "every rotation retired a key ($n_retired retired/expired)" \
	    "want >= $n_ok CLI + $rotations server rotations"
fi
want=$(stored_keys "[k['kid'] + '.pem' for k in ks if k['state'] in ('active', 'next')]" | sort)
have=$(ls -A "$KEYS" | sort)
is "the key directory holds exactly the active and next keys' files" \
    "$have" "$want"
mapfile -t files <<<"$want"
msg=$("$TSR_PYTHON" - "$KEYS" "${files[@]}" <<'PY' 2>&1
import os, stat, sys
from jwcrypto import jwk
keydir = sys.argv[1]
for name in sys.argv[2:]:
    p = os.path.join(keydir, name)
    m = stat.S_IMODE(os.stat(p).st_mode)
    assert m == 0o600, "%s mode %o" % (p, m)
    with open(p, "rb") as f:
        k = jwk.JWK.from_pem(f.read())
    assert k.has_private and k.thumbprint() + ".pem" == name, name
PY
)
tap_ok $? "the active and next files are 0600 private keys of their kids"
[ -z "$msg" ] || diag "$msg"

# The CLI agrees, and has nothing left to repair.
before=$(ls -A "$KEYS" | sort)
run tsr key list --json
tap_ok "$RC" "key list afterwards"
json_check "key list afterwards: one active, one next key" "
st = [k['state'] for k in d['keys']]
assert st.count('active') == 1 and st.count('next') == 1, st
"
is "key list afterwards: no file to repair" "$(ls -A "$KEYS" | sort)" "$before"

done_testing
