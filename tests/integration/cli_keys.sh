#!/usr/bin/env bash
# cli_keys.sh: the signing key lifecycle through the CLI ("Signing
# keys and rotation"): key list, key rotate, key revoke, and what is on
# disk after each.
. "$(dirname "$0")/lib.sh"

fresh_store

# keys_state DESC: "key list --json" has the documented shape, exactly one active
# and one next key, and the key directory (mode 0700) holds exactly their
# <kid>.pem files, mode 0600, each the private half of its kid (RFC 7638
# thumbprint computed by jwcrypto).  Leaves the list in $T/out and the
# kids in ACTIVE and NEXT.
keys_state() {
	local desc=$1 msg
	run tsr key list --json
	if [ "$RC" -ne 0 ]; then
		fail "$desc" "$(_show_run tsr key list --json)"
		return
	fi
	if msg=$("$TSR_PYTHON" - "$T/out" "$(key_view)" <<'PY' 2>&1
import json, os, re, stat, sys
from jwcrypto import jwk
doc, keydir = sys.argv[1:3]
with open(doc) as f:
    d = json.load(f)
assert list(d) == ["keys"], list(d)
ks = d["keys"]
fields = {"kid", "state", "bits", "created_at", "activated_at",
          "retired_at", "expires_at"}
for k in ks:
    assert set(k) == fields, k
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", k["kid"]), k
    assert k["state"] in ("next", "active", "retired", "expired",
                          "revoked"), k
    assert k["bits"] == 2048, k
    assert type(k["created_at"]) is int, k
    for t in ("activated_at", "retired_at", "expires_at"):
        assert k[t] is None or type(k[t]) is int, k
    if k["state"] == "next":
        assert k["activated_at"] is None and k["retired_at"] is None, k
    if k["state"] == "active":
        assert type(k["activated_at"]) is int, k
        assert k["retired_at"] is None and k["expires_at"] is None, k
    if k["state"] == "retired":
        assert type(k["retired_at"]) is int, k
        assert type(k["expires_at"]) is int, k
        assert k["expires_at"] > k["retired_at"], k
assert len({k["kid"] for k in ks}) == len(ks), "duplicate kid"
active = [k["kid"] for k in ks if k["state"] == "active"]
nxt = [k["kid"] for k in ks if k["state"] == "next"]
assert len(active) == 1, ("active keys", active)
assert len(nxt) == 1, ("next keys", nxt)
mode = stat.S_IMODE(os.stat(keydir).st_mode)
assert mode == 0o700, "key dir mode %o" % mode
files = sorted(os.listdir(keydir))
assert files == sorted([active[0] + ".pem", nxt[0] + ".pem"]), \
    ("key dir holds", files, "want active+next", active + nxt)
for kid in active + nxt:
    p = os.path.join(keydir, kid + ".pem")
    st = os.stat(p)
    assert stat.S_IMODE(st.st_mode) == 0o600, "%s mode %o" % (p, st.st_mode)
    with open(p, "rb") as f:
        key = jwk.JWK.from_pem(f.read())
    assert key.has_private, p
    assert key.thumbprint() == kid, ("thumbprint", key.thumbprint(), kid)
print(active[0], nxt[0])
PY
	); then
		read -r ACTIVE NEXT <<<"$msg"
		pass "$desc"
	else
		fail "$desc" "$(printf '%s\n' "$msg" | tail -n 2)" \
		    "document: $(head -c 3000 "$T/out")" \
		    "key dir: $(ls -la "$KEYS")"
	fi
}

# state_of KID: the key's state in the last key list ($T/out)
state_of() { json "[k['state'] for k in d['keys'] if k['kid'] == '$1'][0]" <"$T/out"; }
nkeys() { json "len(d['keys'])" <"$T/out"; }

# --- first use: an active and a next key -----------------------------------
is "an empty store has no key file" "$(ls -A "$KEYS")" ""
keys_state "first key list: one active and one next key, files 0600"
is "first key list: exactly two keys" "$(nkeys)" 2
a0=$ACTIVE n0=$NEXT
isnt "active and next are different keys" "$a0" "$n0"

keys_state "a second key list: still one active and one next"
is "a second key list makes no new key" "$ACTIVE $NEXT $(nkeys)" "$a0 $n0 2"

ok "key list (human)" tsr key list
like "key list (human) shows the active kid" "$OUT" "$a0"
like "key list (human) shows the next kid" "$OUT" "$n0"

# --- rotate ----------------------------------------------------------------
ok "key rotate" tsr key rotate
keys_state "after rotate: one active, one next, files of retired gone"
is "after rotate: the old next key is active" "$ACTIVE" "$n0"
is "after rotate: the old active key is retired" "$(state_of "$a0")" retired
isnt "after rotate: a new next key" "$NEXT" "$a0"
is "after rotate: three keys" "$(nkeys)" 3
ok "after rotate: the retired key's private file is gone" \
    private_key_absent "$a0"
a1=$ACTIVE n1=$NEXT

# --- revoke the next key ---------------------------------------------------
ok "key revoke of the next key" tsr key revoke "$n1"
keys_state "after revoking next: one active, one next"
is "after revoking next: it is revoked" "$(state_of "$n1")" revoked
is "after revoking next: the active key stays" "$ACTIVE" "$a1"
isnt "after revoking next: a new next key" "$NEXT" "$n1"
is "after revoking next: four keys" "$(nkeys)" 4
n2=$NEXT

# --- revoke the active key: rotation first ---------------------------------
ok "key revoke of the active key" tsr key revoke "$a1"
keys_state "after revoking active: one active, one next"
is "after revoking active: it is revoked" "$(state_of "$a1")" revoked
is "after revoking active: the old next key is active" "$ACTIVE" "$n2"
isnt "after revoking active: a new next key" "$NEXT" "$n2"
is "after revoking active: five keys" "$(nkeys)" 5
ok "after revoking active: its private file is gone" \
    private_key_absent "$a1"

# --- revoke a retired key, and a revoked one -------------------------------
ok "key revoke of a retired key" tsr key revoke "$a0"
keys_state "after revoking a retired key: one active, one next"
is "after revoking a retired key: it is revoked" "$(state_of "$a0")" revoked
bad_input "key revoke of a key already revoked" "$DB" tsr key revoke "$a0"

# --- a missing key directory is made 0700, the environment names it --------
DB2=$T/env.db
ok "TESSERA_DB/TESSERA_KEY_DIR: migrate" \
    env -u TESSERA_KEY_ENCRYPTION_KEY TESSERA_DB="$DB2" \
    TESSERA_KEY_DIR="$T/newkeys" "$TSR_BIN" migrate
ok "TESSERA_KEY_DIR: key list makes a missing key directory" \
    env -u TESSERA_KEY_ENCRYPTION_KEY TESSERA_DB="$DB2" \
    TESSERA_KEY_DIR="$T/newkeys" "$TSR_BIN" key list --json
is "the new key directory is mode 0700" "$(file_mode "$T/newkeys")" 700
is "the new key directory holds two key files" \
    "$(find "$T/newkeys" -name '*.pem' | wc -l)" 2
if pg_mode; then
	ok "sealed keys: the key directory holds no private key" \
	    test "$(find "$KEYS" -name '*.pem' | wc -l)" -eq 0
else
	ok "the first store's key directory is untouched" \
	    test "$(find "$KEYS" -name '*.pem' | wc -l)" -eq 2
fi

done_testing
