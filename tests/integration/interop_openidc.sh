#!/usr/bin/env bash
# interop_openidc.sh: Apache httpd with mod_auth_openidc as an OAuth 2.0
# resource server in front of a protected location, introspecting tessera
# ("POST /introspect") with its own TLS client certificate.  A live
# token passes; a revoked one, one for another audience and none at all
# get 401.  Apache runs in the foreground (-X) as a child of this test,
# with its own ServerRoot and config in the temp dir, on a loopback port.
# Needs the Debian packages apache2 and libapache2-mod-auth-openidc
# (scripts/setup-deps --test installs them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
. "$(dirname "$0")/revocation_lib.sh"

APACHE=${TSR_APACHE:-/usr/sbin/apache2}
MODS=/usr/lib/apache2/modules
[ -x "$APACHE" ] && [ -e "$MODS/mod_auth_openidc.so" ] ||
    bail "apache2 and libapache2-mod-auth-openidc are not installed (scripts/setup-deps --test)"

fresh_store
make_pki
revocation_policy
start_server || bail "the server did not start"
RS=inventory-service

# Apache's own tree.  As root, httpd drops to www-data, which must be able
# to read the certificate and key it introspects with.
A=$T/apache
mkdir -p "$A/htdocs/protected" "$A/logs"
echo "stock: 42" >"$A/htdocs/protected/stock.txt"
cp "$PKI/ca.pem" "$PKI/$RS.pem" "$PKI/$RS-key.pem" "$A/"
user_line=
if [ "$(id -u)" -eq 0 ]; then
	id www-data >/dev/null 2>&1 || bail "no www-data user for httpd"
	chmod 711 "$T"
	chown -R www-data: "$A"
	user_line="User www-data
Group www-data"
fi
# httpd cannot listen on port 0 and report the port, so it gets a port
# the kernel just handed out and closed, and another one should something
# else take it first ("Address already in use"), up to five times.
candidate_port() {
	"$TSR_PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}
# Up once it answers; gone (config error, port taken) ends the wait at once.
apache_up() {
	kill -0 "$APACHE_PID" 2>/dev/null || return 0
	curl -s -o /dev/null --max-time 2 "$AURL/"
}
APACHE_PID=
trap 'if [ -n "$APACHE_PID" ]; then kill -TERM "$APACHE_PID" 2>/dev/null; wait "$APACHE_PID" 2>/dev/null; fi; _lib_cleanup' EXIT
for try in 1 2 3 4 5; do
	APORT=$(candidate_port)
	cat >"$A/httpd.conf" <<EOF
ServerRoot "$A"
ServerName 127.0.0.1
Listen 127.0.0.1:$APORT
PidFile "$A/logs/httpd.pid"
ErrorLog "$A/logs/error.log"
LogLevel warn auth_openidc:debug
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authz_user_module $MODS/mod_authz_user.so
LoadModule auth_openidc_module $MODS/mod_auth_openidc.so
$user_line
DocumentRoot "$A/htdocs"
<Directory />
	Require all granted
</Directory>

OIDCCryptoPassphrase "tessera-interop-test"
OIDCCABundlePath "$A/ca.pem"
OIDCOAuthIntrospectionEndpoint $BASE/introspect
OIDCOAuthIntrospectionEndpointMethod POST
OIDCOAuthIntrospectionEndpointAuth none
OIDCOAuthIntrospectionEndpointCert "$A/$RS.pem"
OIDCOAuthIntrospectionEndpointKey "$A/$RS-key.pem"
OIDCOAuthSSLValidateServer On
OIDCOAuthClientID $RS
OIDCOAuthTokenExpiryClaim exp absolute mandatory
# Ask tessera every time: a revocation must count at once.
OIDCOAuthTokenIntrospectionInterval -1
OIDCOAuthRemoteUserClaim sub

<Location /protected>
	AuthType oauth20
	Require valid-user
</Location>
EOF
	[ "$(id -u)" -ne 0 ] || chown www-data: "$A/httpd.conf"
	: >"$A/logs/error.log"
	"$APACHE" -X -d "$A" -f "$A/httpd.conf" >>"$A/logs/stdout.log" 2>&1 </dev/null &
	APACHE_PID=$!
	AURL=http://127.0.0.1:$APORT
	poll_until 10000 apache_up
	kill -0 "$APACHE_PID" 2>/dev/null && break
	wait "$APACHE_PID" 2>/dev/null
	APACHE_PID=
	grep -q 'Address already in use' "$A/logs/error.log" \
	    "$A/logs/stdout.log" 2>/dev/null || break
	diag "httpd: port $APORT taken, try $try"
done
[ -n "$APACHE_PID" ] ||
    bail "httpd did not come up: $(tail -n 20 "$A/logs/error.log" "$A/logs/stdout.log" 2>/dev/null)"

# rs_get [TOKEN]: GET the protected file, with the token as a Bearer
# token when given; the body in $T/out, the status in $STATUS.
rs_get() {
	local auth=()
	[ -z "${1:-}" ] || auth=(-H "Authorization: Bearer $1")
	: >"$T/hdr"
	STATUS=$(curl -s --max-time 10 -o "$T/out" -D "$T/hdr" \
	    -w '%{http_code}' "${auth[@]}" "$AURL/protected/stock.txt")
}
show_log() { tail -n 15 "$A/logs/error.log" 2>/dev/null; }
# rs_is DESC WANT: the last rs_get answered WANT; httpd's log if not
rs_is() {
	if [ "$STATUS" = "$2" ]; then
		pass "$1"
	else
		fail "$1" "status: got $STATUS, want $2" "$(show_log)"
	fi
}

get_token order-service "$RS"
token_ok "setup: order-service gets a token for $RS"
TA=$TOKEN

rs_get
rs_is "openidc: no token, 401" 401
rs_get "$TA"
rs_is "openidc: a live token, 200" 200
is "openidc: the protected content is served" "$(<"$T/out")" "stock: 42"

# The same token, revoked by its client: 401 at the next request.
revoke order-service "$TA"
is "openidc: order-service revokes its token, 200" "$STATUS" 200
rs_get "$TA"
rs_is "openidc: the revoked token, 401" 401

# Revoked through the CLI (the server sees it within a second).
get_token order-service "$RS"
TB=$TOKEN
rs_get "$TB"
rs_is "openidc: a second live token, 200" 200
ok "openidc: token revoke (CLI)" tsr token revoke "$TB"
rs_401() { rs_get "$1"; [ "$STATUS" = 401 ]; }
if poll_until 1500 rs_401 "$TB"; then
	pass "openidc: the token revoked by the CLI gets 401 within a second"
else
	fail "openidc: the token revoked by the CLI gets 401 within a second" \
	    "status: $STATUS" "$(show_log)"
fi

# A token for another audience is inactive to this resource server.
get_token order-service billing-service
rs_get "$TOKEN"
rs_is "openidc: a token for another audience, 401" 401
rs_get "not.a.token"
is "openidc: garbage, 401" "$STATUS" 401

# And a token that was never revoked still passes afterwards.
get_token billing-service "$RS"
rs_get "$TOKEN"
rs_is "openidc: billing-service's live token, 200" 200
# Every verdict above came from tessera: httpd introspected with the
# resource server's certificate (at least once per token presented).
n=$(grep -c 'path=/introspect status=200 client=inventory-service' \
    "$T/server.log")
like "openidc: httpd introspected at tessera as $RS ($n calls)" \
    "$((n >= 6))" '^1$'

kill -TERM "$APACHE_PID" 2>/dev/null
wait "$APACHE_PID" 2>/dev/null
trap _lib_cleanup EXIT
stop_server
done_testing
