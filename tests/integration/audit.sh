#!/usr/bin/env bash
# audit.sh: the audit trail (README "Operations: Audit trail").  Every
# request to /token, /revoke and /introspect leaves one event with the
# outcome, the OAuth error and the internal reason the response leaves
# out, plus the peer address, the presented certificate's SHA-256 (also
# for refused certificates), the CN, client and audience where known.
# One event per case of the certificate matrix and per row of the
# documented /token error table; `tessera audit` filters; and no token text, whole
# or its signature, in the database (and its -wal) or the server log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
pki=$PKI
devpki() { "$TSR_SRCDIR/scripts/dev-pki" "$pki" "$@" >/dev/null; }

# The certificate matrix (as in cert_matrix.sh): all but "stranger" carry
# the CN of a client, so only the certificate itself is wrong.
devpki --client expired --cn order-service \
    --not-before '2020-01-01 00:00:00' --not-after '2021-01-01 00:00:00' &&
    devpki --client future --cn order-service \
	--not-before '2090-01-01 00:00:00' --not-after '2091-01-01 00:00:00' &&
    devpki --client server-eku --cn order-service --eku server &&
    devpki --client stranger --cn stranger-service ||
    bail "dev-pki could not make the client certificates"
"$TSR_SRCDIR/scripts/dev-pki" "$T/pki2" >/dev/null || bail "second PKI"
cp "$T/pki2/order-service.pem" "$pki/other-ca.pem"
cp "$T/pki2/order-service-key.pem" "$pki/other-ca-key.pem"

# resource-service introspects tokens meant for it (/introspect).
devpki --client resource-service || bail "dev-pki: resource-service"

tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr client add resource-service --cn resource-service >/dev/null &&
    tsr grant add order-service inventory --scope stock:read \
	--scope stock:write >/dev/null &&
    tsr grant add order-service resource-service >/dev/null &&
    tsr grant add billing-service inventory >/dev/null &&
    tsr client disable billing-service >/dev/null ||
    bail "cannot set up the policy"

# sha CLIENT: SHA-256 (hex) of the DER of $PKI/CLIENT.pem's first cert
sha() { openssl x509 -in "$pki/$1.pem" -outform DER | sha256sum | cut -d' ' -f1; }

# Debug logging: the most the server ever writes about a request.
T_START=$(date +%s)
start_server --log-level debug || bail "the server did not start"
GOOD="grant_type=client_credentials&audience=inventory"
: >"$T/tokens"

# --- the expected events, in request order ----------------------------------
# Every POST below makes exactly one audit event; expect() records what
# the event of the latest request must hold, as KEY=VALUE lines for
# tsr_event.py (KEY?=VALUE: the field is VALUE or empty, for what the
# server cannot know yet at that point).
NREQ=0
: >"$T/expect"
req() { NREQ=$((NREQ + 1)); }
# expect DESC KEY=VALUE...
expect() {
	local desc=$1
	shift
	{
		printf '@%d\t%s\n' "$((NREQ - 1))" "$desc"
		printf '%s\n' "$@"
	} >>"$T/expect"
}

# issued DESC CLIENT BODY AUDIENCE SCOPES: a token request that succeeds
issued() {
	local desc=$1 c=$2 body=$3 aud=$4 scopes=$5 jti kid
	post_token "$c" "$body"
	req
	TOKEN=$(json 'd.get("access_token", "")' <"$T/out" 2>/dev/null)
	token_ok "$desc: 200 with a token"
	printf '%s\n' "$TOKEN" >>"$T/tokens"
	jti=$(tok_claim "$TOKEN" jti)
	kid=$(tok_header "$TOKEN" kid)
	expect "$desc" event=token outcome=issued error= reason= \
	    "client=$c" "cn=$c" "audience=$aud" "scopes=$scopes" "jti=$jti" \
	    "kid=$kid" "cert_sha256=$(sha "$c")" peer=127.0.0.1
}
tok_part() {
	"$TSR_PYTHON" -c '
import base64, json, sys
p = sys.argv[1].split(".")[int(sys.argv[2])]
d = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
print(d.get(sys.argv[3], ""))' "$1" "$2" "$3" 2>/dev/null
}
tok_claim() { tok_part "$1" 1 "$2"; }
tok_header() { tok_part "$1" 0 "$2"; }

# refused DESC STATUS CODE CLIENT BODY REASON [KEY=VALUE...] -- [CURL...]
refused() {
	local desc=$1 status=$2 code=$3 c=$4 body=$5 reason=$6 kv=()
	shift 6
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		kv+=("$1")
		shift
	done
	[ "$#" -gt 0 ] && shift
	post_token "$c" "$body" "$@"
	req
	oauth_error "$desc: $status $code" "$status" "$code"
	expect "$desc" event=token outcome=denied "error=$code" \
	    "reason=$reason" peer=127.0.0.1 "${kv[@]}"
}

# The writer runs while the server does: the first event shows up in
# `tessera audit` without a shutdown.
issued "control: order-service, inventory" order-service "$GOOD" \
    inventory "stock:read stock:write"
first_jti=$(tok_claim "$TOKEN" jti)
audit_has_first() {
	tsr audit --json --limit 1 >"$T/poll" 2>/dev/null &&
	    [ "$(json 'd["events"][0]["jti"]' <"$T/poll" 2>/dev/null)" = "$first_jti" ]
}
poll_until 5000 audit_has_first
tap_ok $? "the first event is in the database while the server runs (${POLL_MS} ms)"

# --- the certificate matrix ------------------------------------------------------
# A refused certificate: its fingerprint, but no CN, client or audience
# (nothing of a certificate that does not verify is believed).
refused "no certificate" 401 invalid_client - "$GOOD" \
    "no client certificate" cert_sha256= cn= client= audience=
refused "certificate from another CA" 401 invalid_client other-ca "$GOOD" \
    "certificate not issued by the client CA" \
    "cert_sha256=$(sha other-ca)" cn= client= audience=
refused "expired certificate" 401 invalid_client expired "$GOOD" \
    "certificate expired" "cert_sha256=$(sha expired)" cn= client= audience=
refused "certificate not yet valid" 401 invalid_client future "$GOOD" \
    "certificate not yet valid" "cert_sha256=$(sha future)" cn= client= \
    audience=
refused "serverAuth-only EKU" 401 invalid_client server-eku "$GOOD" \
    "certificate lacks the clientAuth extended key usage" \
    "cert_sha256=$(sha server-eku)" cn= client= audience=
refused "unknown CN" 401 invalid_client stranger "$GOOD" \
    "no client with this certificate CN" "cert_sha256=$(sha stranger)" \
    cn=stranger-service client= audience=
# The certificate verified and its CN names a client of the policy: the
# client is known (README: the trail records the client), disabled or not.
refused "disabled client" 401 invalid_client billing-service "$GOOD" \
    "client disabled" "cert_sha256=$(sha billing-service)" \
    cn=billing-service client=billing-service audience=

# --- the documented /token error rows --------------------------------------------------
# After client authentication the client is known; the audience only once
# the form named one.
OS=("cert_sha256=$(sha order-service)" cn=order-service client=order-service)
refused "grant_type missing" 400 invalid_request order-service \
    "audience=inventory" "grant_type missing" "${OS[@]}" audience=
refused "unsupported grant type" 400 unsupported_grant_type order-service \
    "grant_type=password&audience=inventory" \
    "grant_type not client_credentials" "${OS[@]}" audience=
refused "audience missing" 400 invalid_request order-service \
    "grant_type=client_credentials" "audience missing" "${OS[@]}" audience=
refused "audience and resource together" 400 invalid_request order-service \
    "$GOOD&resource=inventory" "audience and resource together" \
    "${OS[@]}" audience=
refused "repeated parameter" 400 invalid_request order-service \
    "$GOOD&audience=inventory" "parameter repeated" "${OS[@]}" audience=
refused "bad encoding (%zz)" 400 invalid_request order-service \
    "$GOOD&scope=stock%zzread" "malformed percent-escape" "${OS[@]}" \
    audience=
refused "bytes not UTF-8 (%ff)" 400 invalid_request order-service \
    "grant_type=client_credentials&audience=inv%ff" "form is not UTF-8" \
    "${OS[@]}" audience=
refused "wrong content type" 400 invalid_request order-service "$GOOD" \
    "wrong content type" "${OS[@]}" audience= -- \
    -H 'Content-Type: application/json'
refused "invalid_target" 400 invalid_target order-service \
    "grant_type=client_credentials&audience=reports" "audience not granted" \
    "${OS[@]}" audience=reports jti= kid=
refused "invalid_scope" 400 invalid_scope order-service \
    "$GOOD&scope=stock:delete" "scope not granted" "${OS[@]}" \
    audience=inventory jti= kid= scopes=
head -c 8192 /dev/zero | tr '\0' 'a' >"$T/8k"
# Answered before client authentication (order: method, body size,
# then the client): the certificate may or may not be named, the client
# and the audience are not.
refused "413 body too large" 413 invalid_request order-service "@$T/8k" \
    "body too large" "cert_sha256?=$(sha order-service)" cn?=order-service \
    client?=order-service audience=
: >"$T/hdr"
STATUS=$(ccurl order-service -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
    "$BASE/token")
req
oauth_error "405 GET /token: 405 invalid_request" 405 invalid_request
expect "405 method not allowed" event=token outcome=denied \
    error=invalid_request "reason=method not allowed" peer=127.0.0.1 \
    "cert_sha256?=$(sha order-service)" cn?=order-service \
    client?=order-service audience=

# The refusals above that came before client authentication are folded
# into counted rows, stored at shutdown under their own second: a new
# second here keeps them out of "the newest three" below.
sleep 1
issued "scope subset" order-service "$GOOD&scope=stock:read" inventory \
    stock:read
issued "for resource-service" order-service \
    "grant_type=client_credentials&audience=resource-service" \
    resource-service ""
rs_token=$TOKEN

# --- introspection and revocation carry tokens: events, but no token --------
post_form() {	# post_form CLIENT PATH BODY
	: >"$T/hdr"
	STATUS=$(ccurl "$1" -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
	    --data-binary "$3" "$BASE$2")
	req
}
post_form resource-service /introspect "token=$rs_token"
json_check "introspect: active" 'assert d["active"] is True, d'
expect "introspect: active" event=introspect outcome=active \
    client=resource-service cn=resource-service \
    "cert_sha256=$(sha resource-service)" audience=resource-service \
    "jti=$(tok_claim "$rs_token" jti)" "kid=$(tok_header "$rs_token" kid)" \
    peer=127.0.0.1 error=
post_form order-service /revoke "token=$rs_token"
is "revoke: 200" "$STATUS" 200
expect "revoke: revoked" event=revoke outcome=revoked client=order-service \
    "jti=$(tok_claim "$rs_token" jti)" "reason=token revoked" error= \
    peer=127.0.0.1
post_form resource-service /introspect "token=$rs_token"
json_check "introspect after revoke: inactive" \
    'assert d == {"active": False}, d'
expect "introspect: revoked token" event=introspect outcome=inactive \
    client=resource-service "reason=token revoked" \
    "jti=$(tok_claim "$rs_token" jti)"

# While the server runs the newest events live in the -wal: keep a copy
# of the files as they are now, for the token grep below.
mkdir "$T/live"
for f in "$DB" "$DB-wal"; do
	[ -e "$f" ] && cp "$f" "$T/live/"
done
stop_server
is "SIGTERM: the server exits 0" "$SERVER_STATUS" 0
T_END=$(date +%s)

# --- the events, oldest first ------------------------------------------------------
run tsr audit --json --limit 1000
[ "$RC" -eq 0 ] || bail "tessera audit --json failed: $ERR"
cp "$T/out" "$T/audit.json"
n_events=$(json 'len(d["events"])' <"$T/audit.json")
is "one event per request ($NREQ requests)" "$n_events" "$NREQ"

cat >"$T/tsr_event.py" <<'EOF'
# tsr_event.py AUDIT.json EXPECT T0 T1: one TAP-ish line per expected
# event: "ok<TAB>desc" or "not ok<TAB>desc<TAB>why".
import json, sys
with open(sys.argv[1]) as f:
    evs = list(reversed(json.load(f)["events"]))  # oldest first
t0, t1 = int(sys.argv[3]), int(sys.argv[4])
cases = []
with open(sys.argv[2]) as f:
    for line in f.read().splitlines():
        if line.startswith("@"):
            i, desc = line[1:].split("\t", 1)
            cases.append((int(i), desc, []))
        elif line:
            cases[-1][2].append(line)
def check(e, kvs):
    why = []
    if not (t0 <= e["at"] <= t1):
        why.append("at %d not within [%d, %d]" % (e["at"], t0, t1))
    for kv in kvs:
        opt = False
        k, v = kv.split("=", 1)
        if k.endswith("?"):
            k, opt = k[:-1], True
        got = e.get(k)
        if got != v and not (opt and got == ""):
            why.append("%s: got %r, want %r%s" % (
                k, got, v, " or ''" if opt else ""))
    return why
# Rows of callers with no verified identity are folded and stored when
# their interval ends (here: at the stop), after the events of the same
# second: an expected event may match a later row, each row used once.
used = set()
for i, desc, kvs in cases:
    why = []
    if i >= len(evs):
        why.append("no event #%d (only %d)" % (i, len(evs)))
    else:
        j = i if i not in used and not check(evs[i], kvs) else next(
            (j for j in range(len(evs))
             if j not in used and not check(evs[j], kvs)), None)
        if j is not None:
            used.add(j)
        else:
            why = check(evs[i], kvs)
            why.append("event: " + json.dumps(evs[i], sort_keys=True))
    print("%s\t%s\t%s" % ("not ok" if why else "ok", desc,
                          " | ".join(why)))
EOF
while IFS=$'\t' read -r res desc why; do
	if [ "$res" = ok ]; then
		pass "event: $desc"
	else
		# shellcheck disable=SC2001
		fail "event: $desc" "$(sed 's/ | /\n/g' <<<"$why")"
	fi
done < <("$TSR_PYTHON" "$T/tsr_event.py" "$T/audit.json" "$T/expect" \
    "$T_START" "$T_END")

# --- filters --------------------------------------------------------------------------
# An event from two hours ago, for --since.  Nothing but the server
# writes events, and only at its clock's now, so it goes straight into
# SQLite's table: these checks are SQLite-only.
OLD=0
if sqlite_store; then
	sqlite3 -batch "$DB" "INSERT INTO audit_events (at, event, peer,
	    cert_sha256, cn, client, audience, scopes, jti, kid, outcome,
	    error, reason) VALUES (strftime('%s','now') - 7200, 'token',
	    '127.0.0.1', '', 'order-service', 'order-service', 'inventory',
	    '', '', '', 'denied', 'invalid_scope', 'old event')" ||
	    bail "cannot insert the old event"
	OLD=1
fi

n_issued=$(grep -c '^outcome=issued$' "$T/expect")
n_os=$(grep -c '^client=order-service$' "$T/expect")

# audit_check DESC ARGS... -- PYTHON: tessera audit --json ARGS, then
# asserts on d
audit_check() {
	local desc=$1 args=()
	shift
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	run tsr audit --json "${args[@]}"
	if [ "$RC" -ne 0 ]; then
		fail "$desc" "$(_show_run tsr audit --json "${args[@]}")"
		return 0
	fi
	json_check "$desc" "E = d['events']
$1"
}
audit_check "audit (default): newest first, the old event last" -- \
    "assert len(E) == $NREQ + $OLD, len(E)
assert not $OLD or E[-1]['reason'] == 'old event', E[-1]
assert all(a['at'] >= b['at'] for a, b in zip(E, E[1:])), 'not newest first'"
audit_check "audit --since 1h: only this run's events" --since 1h -- \
    "assert len(E) == $NREQ, len(E)
assert all(e['reason'] != 'old event' for e in E)"
if sqlite_store; then
	audit_check "audit --since 3h: the old event too" --since 3h -- \
	    "assert len(E) == $NREQ + 1, len(E)"
else
	skip "audit --since 3h: the old event too" "not an SQLite store"
fi
audit_check "audit --client order-service: only its events, all of them" \
    --since 1h --client order-service -- \
    "assert len(E) == $n_os, (len(E), $n_os)
assert all(e['client'] == 'order-service' for e in E)"
audit_check "audit --client nobody: nothing" --client nobody -- \
    "assert E == [], E"
audit_check "audit --audience reports: the invalid_target event" \
    --audience reports -- \
    "assert [(e['error'], e['reason']) for e in E] == [('invalid_target', 'audience not granted')], E"
audit_check "audit --audience inventory --outcome issued: the two inventory tokens" \
    --audience inventory --outcome issued -- \
    "assert len(E) == 2, E
assert all(e['audience'] == 'inventory' and e['outcome'] == 'issued' for e in E)"
audit_check "audit --outcome issued: every issued token" --outcome issued -- \
    "assert len(E) == $n_issued, (len(E), $n_issued)
assert all(e['jti'] and e['kid'] for e in E)"
audit_check "audit --outcome denied --since 1h: every refusal" \
    --outcome denied --since 1h -- \
    "assert len(E) == $(grep -c '^outcome=denied$' "$T/expect"), len(E)
assert all(e['outcome'] == 'denied' and e['error'] for e in E)"
audit_check "audit --limit 3: the newest three" --limit 3 -- \
    "assert len(E) == 3, len(E)
assert [e['event'] for e in E] == ['introspect', 'revoke', 'introspect'], E"
errors "audit --limit 0: refused" tsr audit --limit 0
errors "audit --since garbage: refused" tsr audit --since soon
run tsr audit --outcome denied --since 1h
like "audit (table): a refusal and its reason" "$OUT" \
    'denied +1 +- +- +invalid_client +no client certificate'

# --- no token text anywhere --------------------------------------------------------
n_tok=$(grep -c . "$T/tokens")
is "tokens collected" "$n_tok" "$n_issued"
# Patterns: each whole token, its signature, and the first 40 characters
# of the signature (a truncated copy is a leak too).
awk -F. 'NF == 3 { print; print $3; print substr($3, 1, 40) }' \
    "$T/tokens" >"$T/patterns"
is "three patterns per token" "$(wc -l <"$T/patterns")" "$((3 * n_tok))"
files=("$DB")
for f in "$DB-wal" "$T/live/t.db" "$T/live/t.db-wal" "$T/server.log"; do
	[ -e "$f" ] && files+=("$f")
done
# Control: the grep reads these files as text: every jti is there.
awk -F. 'NF == 3' "$T/tokens" | while read -r t; do tok_claim "$t" jti; done \
    >"$T/jtis"
missing=$(grep -a -F -o -h -f "$T/jtis" "${files[@]}" | sort -u |
    comm -13 - <(sort -u "$T/jtis"))
is "control: every issued jti is in the database or the log" "$missing" ""
for f in "${files[@]}"; do
	hits=$(grep -a -F -c -f "$T/patterns" "$f")
	is "no token text in ${f#"$T"/}" "$hits" 0
done
grep -q 'request method=POST path=/introspect' "$T/server.log"
tap_ok $? "control: the log has the request lines"

done_testing
