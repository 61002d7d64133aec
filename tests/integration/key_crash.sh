#!/usr/bin/env bash
# key_crash.sh: crash safety of the signing key lifecycle ("Signing
# keys and rotation": "a crash at any point leaves exactly one active key
# whose private key is on disk and whose public key is published").
#
# For every crash point of lib/keyring.c and lib/key.c (a build with
# -Dtest_hooks=true: TSR_FAULT=<point> makes the process SIGKILL itself
# there) the CLI command that reaches it is killed, the state it leaves is
# checked to be the one the point names, leftover files are aged past the
# orphan age, and then "key list" (which repairs) must leave a store where
# every invariant holds: one active and one next key, their files (0600,
# the private half of their kid) and no other file, a server that
# publishes both and no dead key, and a token that verifies.  Then a key
# file deleted by hand: the server repairs at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

make_pki

# A build without test hooks ignores TSR_FAULT: every test below would be
# meaningless, so say so once and stop.
fresh_store
TSR_FAULT=keyring.ensure.before_commit tsr key list >/dev/null 2>&1
[ $? -eq 137 ] || bail "TSR_FAULT has no effect: build with -Dtest_hooks=true"

# list.py KEYLIST KEYDIR: the documented invariants of a key list and the key
# directory; prints "ACTIVE NEXT".
cat >"$T/list.py" <<'PY'
import json, os, stat, sys
from jwcrypto import jwk
doc, keydir = sys.argv[1:3]
with open(doc) as f:
    ks = json.load(f)["keys"]
assert len({k["kid"] for k in ks}) == len(ks), "duplicate kid"
active = [k["kid"] for k in ks if k["state"] == "active"]
nxt = [k["kid"] for k in ks if k["state"] == "next"]
assert len(active) == 1, ("active keys", active, ks)
assert len(nxt) == 1, ("next keys", nxt, ks)
for k in ks:
    assert k["state"] in ("next", "active", "retired", "expired",
                          "revoked"), k
files = sorted(os.listdir(keydir))
want = sorted([active[0] + ".pem", nxt[0] + ".pem"])
assert files == want, ("key dir holds", files, "want only", want,
                       {k["kid"]: k["state"] for k in ks})
for kid in active + nxt:
    p = os.path.join(keydir, kid + ".pem")
    m = stat.S_IMODE(os.lstat(p).st_mode)
    assert stat.S_ISREG(os.lstat(p).st_mode), p
    assert m == 0o600, "%s mode %o" % (p, m)
    with open(p, "rb") as f:
        key = jwk.JWK.from_pem(f.read())
    assert key.has_private, p
    assert key.thumbprint() == kid, ("thumbprint", key.thumbprint(), kid)
print(active[0], nxt[0])
PY

# jwks.py JWKS KEYLIST: the JWKS publishes the active and next keys, no
# revoked or expired key, nothing that is not in the store; each JWK's
# kid is its thumbprint.
cat >"$T/jwks.py" <<'PY'
import json, sys
from jwcrypto import jwk
with open(sys.argv[1]) as f:
    pub = json.load(f)["keys"]
with open(sys.argv[2]) as f:
    state = {k["kid"]: k["state"] for k in json.load(f)["keys"]}
kids = [k["kid"] for k in pub]
assert len(set(kids)) == len(kids), ("duplicate kid in JWKS", kids)
for k in pub:
    assert jwk.JWK(**k).thumbprint() == k["kid"], k["kid"]
    assert "d" not in k and "p" not in k, "private member in the JWKS"
for kid in kids:
    assert kid in state, ("JWKS kid not in the store", kid)
    assert state[kid] in ("active", "next", "retired"), \
        ("JWKS publishes a dead key", kid, state[kid])
for kid, s in state.items():
    if s in ("active", "next"):
        assert kid in kids, ("not published", kid, s)
PY

# verify.py JWKS TOKEN AUDIENCE ISSUER: verify (jwcrypto), print the kid.
cat >"$T/verify.py" <<'PY'
import json, sys
from jwcrypto import jwk, jws, jwt
jwks_file, tok, aud, iss = sys.argv[1:5]
with open(jwks_file) as f:
    ks = jwk.JWKSet.from_json(f.read())
t = jwt.JWT(jwt=tok, key=ks, algs=["RS256"],
            check_claims={"iss": iss, "aud": aud, "exp": None})
print(json.loads(t.header)["kid"])
PY

# policy: a client and a grant, so that the server issues tokens
policy() {
	tsr client add order-service --cn order-service >/dev/null &&
	    tsr grant add order-service inventory >/dev/null ||
	    bail "cannot set up the policy"
}

# setup: a fresh store with its first two keys; A0 and N0 are their kids
setup() {
	fresh_store
	policy
	tsr key list --json >"$T/setup.json" || bail "key list failed"
	read -r A0 N0 <<<"$("$TSR_PYTHON" "$T/list.py" "$T/setup.json" "$KEYS")" ||
	    bail "the first key list is not sane"
}

# rows: "kid:state ..." as stored (key list --as-stored: no repair)
rows() { stored_keys "sorted(k['kid'] + ':' + k['state'] for k in ks)" | tr '\n' ' '; }
row_state() { stored_keys "[k['state'] for k in ks if k['kid'] == '$1']"; }
pem_count() { find "$KEYS" -name '*.pem' | wc -l; }

# crash DESC POINT ARGS...: "tessera ARGS" (this store) with TSR_FAULT=POINT
# is killed by SIGKILL.  (Run by an inner bash, which reports the kill on
# the stderr that run keeps, not on the test's.)
crash() {
	local desc=$1 point=$2
	shift 2
	exits "$desc: killed at $point (exit 137)" 137 env TSR_FAULT="$point" \
	    bash -c '"$@"; exit $?' bash "$TSR_BIN" --db "$DB" --key-dir "$KEYS" "$@"
}

# age_files: every key file older than the orphan age
age_files() {
	local f
	for f in "$KEYS"/*.pem; do
		[ -e "$f" ] && touch -d '2 minutes ago' "$f"
	done
	return 0
}

# invariants DESC: repair with "key list", then every invariant, on disk
# and through a server started on the store.  Sets ACTIVE and NEXT.
invariants() {
	local d=$1 msg kid
	ACTIVE='' NEXT=''
	run tsr key list --json
	if [ "$RC" -ne 0 ]; then
		fail "$d: key list (repair) exits 0" "$(_show_run tsr key list --json)"
		return
	fi
	pass "$d: key list (repair) exits 0"
	cp "$T/out" "$T/list.json"
	if msg=$("$TSR_PYTHON" "$T/list.py" "$T/list.json" "$KEYS" 2>&1); then
		read -r ACTIVE NEXT <<<"$msg"
		pass "$d: one active, one next key, only their files (0600, kid = thumbprint)"
	else
		fail "$d: one active, one next key, only their files (0600, kid = thumbprint)" \
		    "$(printf '%s\n' "$msg" | tail -n 2)" "key dir: $(ls -la "$KEYS")"
	fi
	if ! start_server; then
		fail "$d: a server starts on the repaired store"
		return
	fi
	pass "$d: a server starts on the repaired store"
	http_get /.well-known/jwks.json
	cp "$T/out" "$T/jwks.json"
	if msg=$("$TSR_PYTHON" "$T/jwks.py" "$T/jwks.json" "$T/list.json" 2>&1); then
		pass "$d: JWKS has the active and next keys, no revoked/expired one"
	else
		fail "$d: JWKS has the active and next keys, no revoked/expired one" \
		    "$(printf '%s\n' "$msg" | tail -n 1)" "JWKS: $(head -c 600 "$T/jwks.json")"
	fi
	get_token order-service inventory
	if [ -n "$TOKEN" ] && kid=$("$TSR_PYTHON" "$T/verify.py" "$T/jwks.json" \
	    "$TOKEN" inventory "$BASE" 2>"$T/verr"); then
		is "$d: a token is issued, verifies, signed by the active key" \
		    "$kid" "$ACTIVE"
	else
		fail "$d: a token is issued, verifies, signed by the active key" \
		    "status $STATUS: $(head -c 300 "$T/out")" "$(tail -n 1 "$T/verr")"
	fi
	stop_server
	is "$d: the server stops cleanly" "$SERVER_STATUS" 0
}

# --- keyring.after_keyfile: first key of an empty store ---------------------
fresh_store
policy
crash "ensure on an empty store" keyring.after_keyfile key list
is "after_keyfile (ensure): no row committed" "$(rows)" ""
is "after_keyfile (ensure): one key file left behind" "$(pem_count)" 1
orphan=$(basename "$(find "$KEYS" -name '*.pem' | head -n 1)" .pem)
age_files
invariants "after_keyfile (ensure)"
ok "after_keyfile (ensure): the orphan file is gone" test ! -e "$KEYS/$orphan.pem"

# --- keyring.after_keyfile: the new next key of a rotation ------------------
setup
crash "rotate" keyring.after_keyfile key rotate
is "after_keyfile (rotate): rows unchanged" "$(rows)" \
    "$(printf '%s\n' "$A0:active" "$N0:next" | sort | tr '\n' ' ')"
is "after_keyfile (rotate): a third key file" "$(pem_count)" 3
age_files
invariants "after_keyfile (rotate)"
is "after_keyfile (rotate): the active key is unchanged" "$ACTIVE $NEXT" "$A0 $N0"

# --- keyring.rotate.before_commit -------------------------------------------
setup
crash "rotate" keyring.rotate.before_commit key rotate
is "rotate.before_commit: rows unchanged" "$(rows)" \
    "$(printf '%s\n' "$A0:active" "$N0:next" | sort | tr '\n' ' ')"
is "rotate.before_commit: a third (uncommitted) key file" "$(pem_count)" 3
age_files
invariants "rotate.before_commit"
is "rotate.before_commit: the rotation did not happen" "$ACTIVE $NEXT" "$A0 $N0"

# --- keyring.rotate.after_commit --------------------------------------------
setup
crash "rotate" keyring.rotate.after_commit key rotate
is "rotate.after_commit: rotation committed (old active retired)" \
    "$(row_state "$A0") $(row_state "$N0")" "retired active"
ok "rotate.after_commit: the retired key's file is still there" \
    test -e "$KEYS/$A0.pem"
age_files
invariants "rotate.after_commit"
is "rotate.after_commit: the old next key is active" "$ACTIVE" "$N0"
ok "rotate.after_commit: the retired key's file is destroyed" \
    test ! -e "$KEYS/$A0.pem"
is "rotate.after_commit: the old active key stays retired" "$(row_state "$A0")" retired

# --- keyring.revoke.before_commit (active key) ------------------------------
setup
crash "revoke active" keyring.revoke.before_commit key revoke "$A0"
is "revoke.before_commit: rows unchanged" "$(rows)" \
    "$(printf '%s\n' "$A0:active" "$N0:next" | sort | tr '\n' ' ')"
age_files
invariants "revoke.before_commit"
is "revoke.before_commit: nothing revoked" "$ACTIVE $NEXT" "$A0 $N0"

# --- keyring.revoke.after_commit (active key) -------------------------------
setup
crash "revoke active" keyring.revoke.after_commit key revoke "$A0"
is "revoke.after_commit: revocation committed" \
    "$(row_state "$A0") $(row_state "$N0")" "revoked active"
ok "revoke.after_commit: the revoked key's file is still there" \
    test -e "$KEYS/$A0.pem"
age_files
invariants "revoke.after_commit (active)"
is "revoke.after_commit: the old next key is active" "$ACTIVE" "$N0"
ok "revoke.after_commit: the revoked key's file is destroyed" \
    test ! -e "$KEYS/$A0.pem"

# --- keyring.revoke.after_commit (next key) ---------------------------------
setup
crash "revoke next" keyring.revoke.after_commit key revoke "$N0"
is "revoke.after_commit (next): revocation committed" "$(row_state "$N0")" revoked
age_files
invariants "revoke.after_commit (next)"
is "revoke.after_commit (next): active unchanged" "$ACTIVE" "$A0"
isnt "revoke.after_commit (next): a new next key" "$NEXT" "$N0"
ok "revoke.after_commit (next): the revoked key's file is destroyed" \
    test ! -e "$KEYS/$N0.pem"

# --- keyring.ensure.before_commit: an empty store ---------------------------
fresh_store
policy
crash "ensure on an empty store" keyring.ensure.before_commit key list
is "ensure.before_commit (empty): no row committed" "$(rows)" ""
is "ensure.before_commit (empty): two uncommitted key files" "$(pem_count)" 2
age_files
invariants "ensure.before_commit (empty)"

# --- keyring.ensure.before_commit: repairing a lost active key --------------
setup
rm -f "$KEYS/$A0.pem"
crash "ensure repairing a lost active key" keyring.ensure.before_commit \
    key list
is "ensure.before_commit (lost active): rows unchanged" "$(rows)" \
    "$(printf '%s\n' "$A0:active" "$N0:next" | sort | tr '\n' ' ')"
age_files
invariants "ensure.before_commit (lost active)"
is "ensure.before_commit (lost active): the next key took over" "$ACTIVE" "$N0"
is "ensure.before_commit (lost active): the lost key is retired" \
    "$(row_state "$A0")" retired

# --- key.destroy.after_overwrite: the retired key's file of a rotation ------
setup
crash "rotate" key.destroy.after_overwrite key rotate
is "destroy.after_overwrite: rotation committed" \
    "$(row_state "$A0") $(row_state "$N0")" "retired active"
if [ -e "$KEYS/$A0.pem" ] &&
    [ "$(tr -d '\0' <"$KEYS/$A0.pem" | wc -c)" -eq 0 ]; then
	pass "destroy.after_overwrite: the retired key's file is left, zeroed"
else
	fail "destroy.after_overwrite: the retired key's file is left, zeroed" \
	    "$(ls -la "$KEYS")"
fi
age_files
invariants "destroy.after_overwrite"
is "destroy.after_overwrite: the old next key is active" "$ACTIVE" "$N0"
ok "destroy.after_overwrite: the zeroed file is gone" test ! -e "$KEYS/$A0.pem"

# --- an active key's file deleted by hand: the server repairs at start ------
setup
start_server || bail "the server did not start"
get_token order-service inventory
old_token=$TOKEN old_iss=$BASE
stop_server
rm -f "$KEYS/$A0.pem"
: >"$T/server.log"
if start_server; then
	pass "lost active file: the server starts"
else
	fail "lost active file: the server starts"
fi
like "lost active file: the server logs the repair" "$(cat "$T/server.log")" \
    "signing keys repaired: active key $A0 had no private key file: retired it"
is "lost active file: the old active key is retired" "$(row_state "$A0")" retired
is "lost active file: the next key is active" "$(row_state "$N0")" active
http_get /.well-known/jwks.json
cp "$T/out" "$T/jwks.json"
like "lost active file: the retired key is still in the JWKS" \
    "$(cat "$T/jwks.json")" "\"kid\":\"$A0\""
is "lost active file: a token signed before still verifies" \
    "$("$TSR_PYTHON" "$T/verify.py" "$T/jwks.json" "$old_token" inventory "$old_iss" 2>&1)" "$A0"
get_token order-service inventory
is "lost active file: a new token is signed by the new active key" \
    "$("$TSR_PYTHON" "$T/verify.py" "$T/jwks.json" "$TOKEN" inventory "$BASE" 2>&1)" "$N0"
stop_server
invariants "lost active file"
is "lost active file: the old next key stays active" "$ACTIVE" "$N0"

# --- a next key's file deleted by hand --------------------------------------
a1=$ACTIVE n1=$NEXT
rm -f "$KEYS/$n1.pem"
: >"$T/server.log"
if start_server; then
	pass "lost next file: the server starts"
else
	fail "lost next file: the server starts"
fi
like "lost next file: the server logs the repair" "$(cat "$T/server.log")" \
    "signing keys repaired: next key $n1 had no private key file: revoked it"
is "lost next file: the next key is revoked" "$(row_state "$n1")" revoked
http_get /.well-known/jwks.json
if [[ "$(cat "$T/out")" != *"$n1"* ]]; then
	pass "lost next file: the revoked key is not in the JWKS"
else
	fail "lost next file: the revoked key is not in the JWKS"
fi
stop_server
invariants "lost next file"
is "lost next file: the active key is unchanged" "$ACTIVE" "$a1"
isnt "lost next file: a new next key" "$NEXT" "$n1"

done_testing
