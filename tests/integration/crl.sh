#!/usr/bin/env bash
# crl.sh: the client CRL (--client-crl, README "Certificates").  A CRL
# that is not signed by a CA of the client CA bundle (here: another key
# under the same CA name) is an error: the server refuses to start, and a
# reload (SIGHUP) with it keeps the old CRL in force.  A CRL past its
# nextUpdate still revokes what it lists; the log warns and
# tessera_crl_next_update_seconds goes negative.  A CRL that does not
# parse is named in the error, not the CA file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

fresh_store
make_pki
pki=$PKI
"$TSR_SRCDIR/scripts/dev-pki" "$pki" --client revoked --cn order-service \
    >/dev/null || bail "dev-pki could not make the revoked certificate"
# A second CA with the very same name as ours, and its own key.
"$TSR_SRCDIR/scripts/dev-pki" "$T/pki2" >/dev/null || bail "second PKI"

# make_crl OUT CA-DIR TEMPLATE-LINES: a CRL revoking "revoked", signed by
# CA-DIR's CA
make_crl() {
	printf '%s\n' "$3" 'crl_number = 1' >"$T/crl.tmpl"
	certtool --generate-crl --load-ca-privkey "$2/ca-key.pem" \
	    --load-ca-certificate "$2/ca.pem" \
	    --load-certificate "$pki/revoked.pem" --template "$T/crl.tmpl" \
	    --outfile "$1" >/dev/null 2>&1 || bail "certtool: CRL $1"
}
make_crl "$T/good-crl.pem" "$pki" 'crl_next_update = 30'
make_crl "$T/other-crl.pem" "$T/pki2" 'crl_next_update = 30'
make_crl "$T/stale-crl.pem" "$pki" 'crl_this_update_date = "2020-01-01 00:00:00"
crl_next_update_date = "2020-02-01 00:00:00"'
printf -- '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n' \
    >"$T/garbage-crl.pem"

tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null &&
    tsr grant add billing-service inventory >/dev/null ||
    bail "cannot set up the policy"
REQ="grant_type=client_credentials&audience=inventory"
crl=$T/crl.pem

# serve_once CRL: run the server with CRL, bounded, for the refusals
serve_once() {
	timeout 10 "$TSR_BIN" --db "$DB" --key-dir "$KEYS" serve \
	    --listen 127.0.0.1:0 --tls-cert "$pki/server.pem" \
	    --tls-key "$pki/server-key.pem" --client-ca "$pki/ca.pem" \
	    --client-crl "$1"
}
status_of() { post_token "$1" "$REQ"; echo "$STATUS"; }
metric() {
	http_get /metrics
	awk -v n="$1" '$1 == n { print $2 }' "$T/out"
}

# --- refused at start ------------------------------------------------------------
errors "a CRL signed by another CA's key: start refused" \
    serve_once "$T/other-crl.pem"
like "the error names the CRL file" "$ERR" "^tessera: .*other-crl\.pem"
errors "a CRL that does not parse: start refused" \
    serve_once "$T/garbage-crl.pem"
like "the parse error names the CRL file" "$ERR" "^tessera: .*garbage-crl\.pem"
if [[ "$ERR" == *"$pki/ca.pem"* ]]; then
	fail "the parse error does not blame the CA file" "$ERR"
else
	pass "the parse error does not blame the CA file"
fi

# --- a good CRL, then a reload with a foreign one ---------------------------------
cp "$T/good-crl.pem" "$crl"
start_server --client-crl "$crl" || bail "the server did not start"
is "good CRL: the revoked certificate gets 401" "$(status_of revoked)" 401
is "good CRL: order-service gets 200" "$(status_of order-service)" 200
grep -q 'client CRL: 1 CRL(s), 1 revoked certificate(s)' "$T/server.log"
tap_ok $? "the log says how many CRLs and entries were loaded"
v=$(metric tessera_crl_next_update_seconds)
like "good CRL: tessera_crl_next_update_seconds is positive ($v)" "$v" \
    '^[1-9][0-9]*$'

failed_line='TLS reload failed, keeping the old credentials'
count() { grep -c -F -- "$1" "$T/server.log"; }
fails=$(count "$failed_line")
more_fails() { [ "$(count "$failed_line")" -gt "$fails" ]; }
cp "$T/other-crl.pem" "$crl.tmp" && mv "$crl.tmp" "$crl"
kill -HUP "$SERVER_PID"
poll_until 3000 more_fails
tap_ok $? "foreign CRL + SIGHUP: the log says the reload failed"
like "the reload failure names the CRL file" \
    "$(grep -F "$failed_line" "$T/server.log" | tail -n 1)" "crl\.pem"
sleep 0.3
is "foreign CRL + SIGHUP: the revoked certificate still gets 401" \
    "$(status_of revoked)" 401
is "foreign CRL + SIGHUP: order-service still gets 200" \
    "$(status_of order-service)" 200
stop_server

# --- a CRL past its nextUpdate still revokes --------------------------------------
: >"$T/server.log"
start_server --client-crl "$T/stale-crl.pem" ||
    bail "the server did not start with a stale CRL"
is "stale CRL: the revoked certificate gets 401" "$(status_of revoked)" 401
is "stale CRL: billing-service gets 200" "$(status_of billing-service)" 200
grep -Eq ' warn .*CRL is past its nextUpdate' "$T/server.log"
tap_ok $? "stale CRL: the log warns"
v=$(metric tessera_crl_next_update_seconds)
like "stale CRL: tessera_crl_next_update_seconds is negative ($v)" "$v" \
    '^-[1-9][0-9]*$'
stop_server

done_testing
