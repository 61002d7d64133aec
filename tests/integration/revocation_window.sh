#!/usr/bin/env bash
# revocation_window.sh: a revocation lasts as long as the tokens it
# covers, also when the servers sharing the store were started with
# different --token-ttl and --clock-skew (`client revoke-tokens`:
# "every token of NAME issued until now"; "A deny-list entry is dropped
# once every token it can match has expired").  Server A mints 4 s tokens
# and accepts them 20 s past exp; server B, started after it on the same
# store, 1 s tokens with 1 s of skew.  Tokens A minted and revoked by any
# route must stay inactive on A while A still accepts them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
. "$(dirname "$0")/revocation_lib.sh"

ISSUER=https://tessera.test
RS=inventory-service
fresh_store
make_pki
revocation_policy
start_server --issuer "$ISSUER" --token-ttl 4s --clock-skew 20s ||
    bail "server A did not start"
PID_A=$SERVER_PID
BASE_A=$BASE
SERVER_PID=
trap 'kill -TERM "$PID_A" 2>/dev/null; _lib_cleanup' EXIT
start_server --issuer "$ISSUER" --token-ttl 1s --clock-skew 1s ||
    bail "server B did not start"
BASE_B=$BASE
BASE=$BASE_A

# Every token from A: order-service's for the client revocation, one of
# billing-service's per other route, and one never revoked.
get_token order-service "$RS"
T_client=$TOKEN
is "setup: server A's token has exp = iat + 4" \
    "$(($(claim "$T_client" exp) - $(claim "$T_client" iat)))" 4
for v in T_jti T_cli T_revoke_b T_revoke_a T_live; do
	get_token billing-service "$RS"
	printf -v "$v" '%s' "$TOKEN"
done

ok "client revoke-tokens order-service" \
    tsr client revoke-tokens order-service
ok "token revoke --jti" tsr token revoke --jti "$(claim "$T_jti" jti)"
ok "token revoke TOKEN" tsr token revoke "$T_cli"
revoke billing-service "$T_revoke_b" "$BASE_B"
is "/revoke through server B, 200" "$STATUS" 200
revoke billing-service "$T_revoke_a" "$BASE_A"
is "/revoke through server A, 200" "$STATUS" 200
routes="client jti cli revoke_b revoke_a"
for r in $routes; do
	v=T_$r
	inactive_within "$r: A's token inactive on A within 1 s" 1000 \
	    "$RS" "${!v}"
done

# Watch A for 10 s: enough for the shortest entry lifetime B's settings
# give (exp + 1 s, or 2 s), a purge (every 5 s) and a reload; short of
# the 24 s A accepts its tokens.  The unrevoked token shows the watch
# can see "active".
declare -A first=()
seen_live=0
t0=$(date +%s%N)
while [ $((($(date +%s%N) - t0) / 1000000)) -lt 10000 ]; do
	ms=$((($(date +%s%N) - t0) / 1000000))
	for r in $routes; do
		v=T_$r
		[ -n "${first[$r]:-}" ] || ! is_active "$RS" "${!v}" ||
		    first[$r]=$ms
	done
	is_active "$RS" "$T_live" && seen_live=1
	sleep 0.2
done
is "watch: the unrevoked token stayed active on A" "$seen_live" 1
for r in $routes; do
	if [ -z "${first[$r]:-}" ]; then
		pass "$r: A's token stays inactive on A for 10 s"
	else
		fail "$r: A's token stays inactive on A for 10 s" \
		    "active again ${first[$r]} ms into the watch" \
		    "deny-list rows now: $(revocations | tr '\n' ';')"
	fi
done
run tsr --json revocation list
json_check "revocation list: all five entries listed while A accepts their tokens" "
kinds = sorted(r['kind'] for r in d['revocations'])
assert kinds == ['client', 'token', 'token', 'token', 'token'], d
"

kill -TERM "$PID_A" 2>/dev/null
_wait_pid "$PID_A" 100 || kill -KILL "$PID_A" 2>/dev/null
wait "$PID_A" 2>/dev/null
trap _lib_cleanup EXIT
stop_server
done_testing
