#!/usr/bin/env bash
# agent.sh: tessera agent against a real server with its own CA: the
# certificate is renewed over EST simplereenroll (a new serial and a new
# key each time, the files replaced with the key 0600 and no temporary
# left), the hook runs, the token file is fresh, 0600 and verifies with
# PyJWT against the JWKS, bound to one of the renewed certificates;
# SIGTERM ends it with 0; an expired certificate ends it with 1 and the
# message; a bad --renew-at is a usage error.
. "$(dirname "$0")/lib.sh"

command -v certtool >/dev/null 2>&1 || bail "no certtool (gnutls-bin)"

fresh_store
make_pki
tsr ca init >/dev/null || bail "tessera ca init failed"
tsr client add svc --cn svc --cert-ttl 5m >/dev/null &&
    tsr grant add svc api >/dev/null || bail "cannot set up the policy"
mkdir -p "$T/svc"
tsr cert issue svc --out "$T/svc" >/dev/null || bail "cert issue failed"
start_server || bail "the server did not start"

agent_args=(--server "$BASE" --cert "$T/svc/svc.pem"
    --key "$T/svc/svc-key.pem" --ca "$PKI/ca.pem")

for f in 0 1 1.5 -0.2 abc 0.5x nan; do
	usage_error "--renew-at $f is refused with status 2" \
	    "$TSR_BIN" agent "${agent_args[@]}" --renew-at "$f"
done
usage_error "--token-audience without --token-file is refused" \
    "$TSR_BIN" agent "${agent_args[@]}" --token-audience api
usage_error "--server must be https" \
    "$TSR_BIN" agent --server "http://127.0.0.1:$PORT" \
    --cert "$T/svc/svc.pem" --key "$T/svc/svc-key.pem" --ca "$PKI/ca.pem"

key0=$(file_checksum "$T/svc/svc-key.pem")
# 0.01 of a 5-minute certificate is already past (notBefore is backdated
# a minute): it renews at once, then every 5 s, the shortest it waits.
"$TSR_BIN" agent "${agent_args[@]}" --renew-at 0.01 \
    --exec "echo ran >>'$T/hook.log'" \
    --token-audience api --token-file "$T/token" \
    2>"$T/agent.log" </dev/null &
agent_pid=$!

renewals() { grep -c ' renewed svc: serial ' "$T/agent.log"; }
for ((i = 0; i < 300 * TSR_TIME_SCALE; i++)); do
	[ "$(renewals)" -ge 3 ] && [ "$(wc -l <"$T/hook.log" 2>/dev/null ||
	    echo 0)" -ge 3 ] && break
	kill -0 "$agent_pid" 2>/dev/null || break
	sleep 0.1
done
n=$(renewals)
tap_ok $(( n >= 3 ? 0 : 1 )) "the agent renewed three times ($n)"
key1=$(file_checksum "$T/svc/svc-key.pem")
isnt "the key file holds a new key" "$key1" "$key0"
is "the key file is 0600" "$(file_mode "$T/svc/svc-key.pem")" 600
serials=$(sed -n 's/.* renewed svc: serial \([0-9a-f]*\),.*/\1/p' \
    "$T/agent.log")
is "every renewal has its own serial" \
    "$(sort -u <<<"$serials" | wc -l)" "$(wc -l <<<"$serials")"
like "the log line names serial, notAfter and fingerprint" \
    "$(grep -m1 ' renewed svc: ' "$T/agent.log")" \
    'serial [0-9a-f]{32}, notAfter [0-9-]+ [0-9:]+Z, sha256 [0-9a-f]{64}$'

# Stop it between renewals, then look at what it left.
kill -TERM "$agent_pid"
_wait_pid "$agent_pid" $((100 * TSR_TIME_SCALE)) || kill -KILL "$agent_pid"
wait "$agent_pid"
is "SIGTERM ends the agent with status 0" "$?" 0
hooks=$(wc -l <"$T/hook.log")
# (A renewal just as SIGTERM came may have had no hook.)
tap_ok $(( hooks >= 3 && hooks <= $(renewals) ? 0 : 1 )) \
    "the hook ran after each renewal ($hooks hooks, $(renewals) renewals)"
is "no temporary file is left" \
    "$(find "$T/svc" -name '*.new' | wc -l)" 0

# Keys differ from one renewal to the next, and the files match.
if "$TSR_PYTHON" - "$T/svc/svc.pem" "$T/svc/svc-key.pem" \
    <<'PY' 2>"$T/err"; then
import sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization as s
cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
key = s.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
f = s.PublicFormat.SubjectPublicKeyInfo
assert cert.public_key().public_bytes(s.Encoding.DER, f) == \
    key.public_key().public_bytes(s.Encoding.DER, f), "key mismatch"
cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
assert [a.value for a in cn] == ["svc"], cn
PY
	pass "the certificate file and the key file go together, CN svc"
else
	fail "the certificate file and the key file go together, CN svc" \
	    "$(cat "$T/err")"
fi

is "the token file is 0600" "$(file_mode "$T/token")" 600
curl -sf --cacert "$PKI/ca.pem" "$BASE/.well-known/jwks.json" \
    >"$T/jwks.json" || fail "JWKS"
fps=$(sed -n 's/.* renewed svc: .*, sha256 \([0-9a-f]*\)$/\1/p' \
    "$T/agent.log")
if "$TSR_PYTHON" - "$T/token" "$T/jwks.json" "$fps" <<'PY' 2>"$T/err"
import base64, json, sys, jwt
token = open(sys.argv[1]).read()
jwks = json.load(open(sys.argv[2]))
kid = jwt.get_unverified_header(token)["kid"]
k = next(k for k in jwks["keys"] if k["kid"] == kid)
pub = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(k))
c = jwt.decode(token, pub, algorithms=["RS256"], audience="api")
assert c["sub"] == "svc", c
fps = [base64.urlsafe_b64encode(bytes.fromhex(f)).rstrip(b"=").decode()
       for f in sys.argv[3].split()]
assert c["cnf"]["x5t#S256"] in fps, "token not bound to a renewed cert"
PY
then
	pass "the token verifies (PyJWT, JWKS), aud api, bound to a renewed certificate"
else
	fail "the token verifies (PyJWT, JWKS), aud api, bound to a renewed certificate" \
	    "$(cat "$T/err")"
fi

# An expired certificate, signed by the CA: the agent gives up at once.
cat >"$T/exp.tmpl" <<'EOF'
cn = "svc"
serial = 7
activation_date = "2020-01-01 00:00:00"
expiration_date = "2020-01-02 00:00:00"
tls_www_client
signing_key
EOF
ca_key_pem "$T/ca-key.pem" &&
    certtool --generate-privkey --key-type ecdsa --outfile "$T/exp-key.pem" \
    2>/dev/null && chmod 0600 "$T/exp-key.pem" &&
    certtool --generate-certificate --load-privkey "$T/exp-key.pem" \
    --load-ca-certificate "$T/svc/ca.pem" \
    --load-ca-privkey "$T/ca-key.pem" --template "$T/exp.tmpl" \
    --outfile "$T/exp.pem" >/dev/null 2>&1 || bail "cannot make an expired certificate"
run "$TSR_BIN" agent --server "$BASE" --cert "$T/exp.pem" \
    --key "$T/exp-key.pem" --ca "$PKI/ca.pem"
is "an expired certificate ends the agent with status 1" "$RC" 1
like "... saying when it expired and how to re-bootstrap" "$ERR" \
    'expired at 2020-01-02 00:00:00Z; re-bootstrap with tessera cert enroll-token'

done_testing
