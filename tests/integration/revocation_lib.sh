# revocation_lib.sh: helpers for the tests of POST /revoke, POST /introspect
# and the revocation subcommands (revocation.sh, revocation_errors.sh).
# Source it after lib.sh and oauth_lib.sh.  Like oauth_lib.sh, every
# request leaves its body in $T/out, its headers in $T/hdr and its status
# in $STATUS.
# shellcheck shell=bash disable=SC2034

# The policy both files use: order-service and billing-service call
# inventory-service (a resource server with its own client certificate);
# order-service may also call billing-service, with no scope.
revocation_policy() {
	"$TSR_SRCDIR/scripts/dev-pki" "$PKI" --client inventory-service \
	    >/dev/null || bail "dev-pki --client inventory-service failed"
	tsr client add order-service --cn order-service >/dev/null &&
	    tsr client add billing-service --cn billing-service >/dev/null &&
	    tsr client add inventory-service --cn inventory-service \
		>/dev/null &&
	    tsr grant add order-service inventory-service \
		--scope stock:read --scope stock:deduct >/dev/null &&
	    tsr grant add billing-service inventory-service \
		--scope stock:read >/dev/null &&
	    tsr grant add order-service billing-service >/dev/null ||
	    bail "cannot set up the policy"
}

# post_form ENDPOINT CLIENT BODY [CURL-ARGS...]: POST BODY to
# ${URL:-$BASE}/ENDPOINT as CLIENT ("-": no certificate); "@FILE" sends FILE.
post_form() {
	local ep=$1 c=$2 body=$3
	shift 3
	: >"$T/hdr"
	STATUS=$(ccurl "$c" -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
	    --data-binary "$body" "$@" "${URL:-$BASE}/$ep")
	return 0
}

# introspect CALLER TOKEN / revoke CALLER TOKEN [URL]
introspect() { URL=${3:-$BASE} post_form introspect "$1" "token=$2"; }
revoke() { URL=${3:-$BASE} post_form revoke "$1" "token=$2"; }

# is_active CALLER TOKEN [URL]: /introspect answers 200 {"active":true,...}
is_active() {
	introspect "$@"
	[ "$STATUS" = 200 ] || return 1
	# the quick answer first: python is slow on a loaded machine
	grep -q '^{"active":true,' "$T/out" ||
	    [ "$(json 'd.get("active")' <"$T/out" 2>/dev/null)" = true ]
}

# is_inactive CALLER TOKEN [URL]: /introspect answers 200, exactly
# {"active":false}
is_inactive() {
	introspect "$@"
	[ "$STATUS" = 200 ] || return 1
	[ "$(<"$T/out")" = '{"active":false}' ] ||
	    [ "$(json 'd == {"active": False}' <"$T/out" 2>/dev/null)" = true ]
}

# active_within DESC MS CALLER TOKEN [URL] / inactive_within ...: one TAP
# line: /introspect says so within MS milliseconds (polled every 0.05 s).
active_within() {
	local desc=$1 ms=$2
	shift 2
	if poll_until "$ms" is_active "$@"; then
		pass "$desc"
	else
		fail "$desc" "not active after ${POLL_MS} ms" "status: $STATUS" \
		    "body: $(head -c 500 "$T/out")"
	fi
}
inactive_within() {
	local desc=$1 ms=$2
	shift 2
	if poll_until "$ms" is_inactive "$@"; then
		pass "$desc"
	else
		fail "$desc" "still not {\"active\":false} after ${POLL_MS} ms" \
		    "status: $STATUS" "body: $(head -c 500 "$T/out")"
	fi
}

# oerr DESC STATUS CODE: oauth_error, with a quick path for the exact
# body {"error":"CODE"} that spawns nothing (python is slow on a loaded
# machine); anything else goes to oauth_error for its verdict.
oerr() {
	if [ "$STATUS" = "$2" ] && [ "$(<"$T/out")" = "{\"error\":\"$3\"}" ]
	then
		pass "$1"
	else
		oauth_error "$@"
	fi
}

# claim TOKEN NAME: a claim of the token's payload (no verification)
claim() {
	"$TSR_PYTHON" -c '
import base64, json, sys
p = sys.argv[1].split(".")[1]
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
v = c.get(sys.argv[2], "")
print(v if isinstance(v, str) else json.dumps(v))
' "$1" "$2"
}

# header_kid TOKEN: the kid of the token's header
header_kid() {
	"$TSR_PYTHON" -c '
import base64, json, sys
h = sys.argv[1].split(".")[0]
print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"])
' "$1"
}

# store_sum: a checksum of everything in $DB but the audit trail, which a
# running server appends to on every request
store_sum() { db_checksum "$DB" --no-audit; }

# revocations: the deny-list as stored, expired entries too, one a line
revocations() {
	stored_revocations "[(r['kind'], r.get('jti', r.get('client')),
    r['reason'], r['revoked_at'], r['expires_at']) for r in rs]"
}

# wait_next_second EPOCH: until the clock is past EPOCH (bounded, 3 s)
wait_next_second() {
	local i
	for ((i = 0; i < 60; i++)); do
		[ "$(date +%s)" -gt "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
