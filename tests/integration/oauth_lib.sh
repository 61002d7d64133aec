# oauth_lib.sh: helpers for the tests that talk to a running server's
# HTTP API (token.sh, token_errors.sh, cert_matrix.sh, serve_ops.sh).
# Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/oauth_lib.sh"
#
# Every request leaves its body in $T/out (so json_check reads it), its
# response headers in $T/hdr and its HTTP status in $STATUS ("000" when
# curl got no response).
# shellcheck shell=bash disable=SC2034

# post_token CLIENT BODY [CURL-ARGS...]: POST BODY (sent as is, with
# curl's default Content-Type application/x-www-form-urlencoded) to
# $BASE/token as CLIENT ("-": no certificate).  BODY "@FILE" sends FILE.
post_token() {
	local c=$1 body=$2
	shift 2
	: >"$T/hdr"
	STATUS=$(ccurl "$c" -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
	    --data-binary "$body" "$@" "$BASE/token")
	return 0
}

# get_token CLIENT AUDIENCE [MORE-FORM]: a token request that should
# succeed; the response is in $T/out, the token in $TOKEN ("" if none).
get_token() {
	post_token "$1" "grant_type=client_credentials&audience=$2${3:+&$3}"
	TOKEN=$(json 'd.get("access_token", "")' <"$T/out" 2>/dev/null)
	return 0
}

# http_get PATH [CURL-ARGS...]: GET $BASE/PATH without a certificate
http_get() {
	local path=$1
	shift
	: >"$T/hdr"
	STATUS=$(ccurl - -o "$T/out" -D "$T/hdr" -w '%{http_code}' "$@" \
	    "$BASE$path")
	return 0
}

# header NAME: the value of response header NAME in $T/hdr (the last one
# if curl saw several responses, e.g. after "100 Continue"), without CR
header() {
	tr -d '\r' <"$T/hdr" | awk -v n="$1" '
		BEGIN { n = tolower(n) ":" }
		tolower(substr($0, 1, length(n))) == n {
			v = substr($0, length(n) + 1); sub(/^[ \t]+/, "", v)
		}
		END { print v }'
}

# oauth_error DESC STATUS CODE: the last response was STATUS with exactly
# the body {"error":"CODE"}, and so issued no token.  One TAP line.
oauth_error() {
	local desc=$1 want_status=$2 code=$3 msg
	if [ "$STATUS" != "$want_status" ]; then
		fail "$desc" "status: got $STATUS, want $want_status" \
		    "body: $(head -c 500 "$T/out")"
		return 0
	fi
	# The exact bytes are the common case and need no parser: valid JSON
	# with one member, error = CODE.  Anything else is parsed, so that
	# only a semantic difference fails.
	if [ "$(cat "$T/out")" = "{\"error\":\"$code\"}" ]; then
		pass "$desc"
	elif msg=$("$TSR_PYTHON" -c '
import json, sys
with open(sys.argv[1], "rb") as f:
    raw = f.read()
assert b"access_token" not in raw, "a token was issued"
d = json.loads(raw)
assert d == {"error": sys.argv[2]}, d
' "$T/out" "$code" 2>&1); then
		pass "$desc"
	else
		fail "$desc" "$(printf '%s\n' "$msg" | tail -n 1)" \
		    "body: $(head -c 500 "$T/out")"
	fi
}

# token_ok DESC: the last response was a 200 with an access token
token_ok() {
	if [ "$STATUS" = 200 ] && [ -n "${TOKEN:-}" ]; then
		pass "$1"
	else
		fail "$1" "status: $STATUS" "body: $(head -c 500 "$T/out")"
	fi
}

# poll_until MS CMD...: run CMD every 0.05 s until it succeeds or MS
# milliseconds have passed; 0 if it succeeded.  POLL_MS is the time taken.
poll_until() {
	local limit=$1 t0
	shift
	t0=$(date +%s%N)
	while :; do
		if "$@"; then
			POLL_MS=$((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		POLL_MS=$((($(date +%s%N) - t0) / 1000000))
		[ "$POLL_MS" -lt "$limit" ] || return 1
		sleep 0.05
	done
}

# policy_checksum DB: db_checksum without the audit trail, which grows by
# one event per request by design: a checksum of everything a refused
# request must leave alone (clients, grants, keys, revocations, settings).
policy_checksum() { db_checksum "$1" --no-audit; }
