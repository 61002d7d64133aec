#!/usr/bin/env bash
# go_client.sh: a Go service against the real server (go/client.go): the
# mTLS token request with crypto/tls and http.PostForm, then golang-jwt
# (Debian's golang-github-golang-jwt-jwt-dev, v4) as the resource server,
# with the JWKS fetched over https; a body over the size limit gets its
# 413; and README's Go client snippet, as written, gets a token.  The program speaks TAP; its lines are
# renumbered into this file's, under one plan.
#
# Built offline in GOPATH mode against /usr/share/gocode; nothing is
# downloaded.
. "$(dirname "$0")/../integration/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
gojwt=/usr/share/gocode/src/github.com/golang-jwt/jwt

command -v go >/dev/null 2>&1 ||
    bail "no go (golang-go; scripts/setup-deps installs it)"
[ -f "$gojwt/go.mod" ] ||
    bail "no $gojwt (golang-github-golang-jwt-jwt-dev; scripts/setup-deps --test)"

# GOPATH mode, a private cache, no network, no user settings.
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$T/gocache \
    GOFLAGS='' GOPROXY=off GOENV=off GOTMPDIR=$T
ok "go build go/client.go (stdlib + golang-jwt, GOPATH mode, offline)" \
    go build -o "$T/client" "$here/go/client.go"
[ -x "$T/client" ] || bail "client.go did not build"

fresh_store
make_pki
# shellcheck disable=SC2015
tsr client add order-service --cn order-service >/dev/null &&
    tsr grant add order-service inventory-service \
	--scope stock:read --scope stock:deduct >/dev/null &&
    tsr grant add order-service ledger --scope ledger:append >/dev/null ||
    bail "cannot set up the policy"
start_server || bail "the server did not start"

run "$T/client" -base "$BASE" \
    -cert "$PKI/order-service.pem" -key "$PKI/order-service-key.pem" \
    -ca "$PKI/ca.pem" -audience inventory-service -other-audience ledger \
    -other-cert "$PKI/billing-service.pem"
go_rc=$RC

# Pass the program's TAP through, renumbered; its plan must match the
# number of its test lines, which must be numbered 1, 2, ...
go_n=0 go_plan='' go_seq=ok
while IFS= read -r line; do
	if [[ "$line" =~ ^(not\ )?ok\ ([0-9]+)(\ -\ )?(.*)$ ]]; then
		go_n=$((go_n + 1))
		[ "${BASH_REMATCH[2]}" = "$go_n" ] || go_seq="line $go_n numbered ${BASH_REMATCH[2]}"
		if [ -z "${BASH_REMATCH[1]}" ]; then
			pass "go: ${BASH_REMATCH[4]}"
		else
			fail "go: ${BASH_REMATCH[4]}"
		fi
	elif [[ "$line" =~ ^1\.\.([0-9]+)$ ]]; then
		go_plan=${BASH_REMATCH[1]}
	elif [[ "$line" == "#"* ]]; then
		printf '%s\n' "$line"
	else
		diag "go: $line"
	fi
done <"$T/out"
[ -s "$T/err" ] && diag "go stderr: $(head -c 2000 "$T/err")"

# README's Go client snippet, as written, in a main() that prints what it
# got: run in the PKI directory (its file names are dev-pki's) with the
# server's URL in place of https://127.0.0.1:8443.
mkdir -p "$T/readme"
if "$TSR_PYTHON" - "$TSR_SRCDIR/README.md" "$BASE" >"$T/readme/main.go" <<'PY'
import re, sys
readme, base = sys.argv[1:3]
blocks = re.findall(r"^```go\n(.*?)^```", open(readme).read(), re.S | re.M)
snippet = next(b for b in blocks if "tls.LoadX509KeyPair" in b)
print("""package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
)

func main() {
%s
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%%d %%s\\n", resp.StatusCode, body)
}""" % snippet.replace("https://127.0.0.1:8443", base))
PY
then
	ok "README: the Go client snippet builds" \
	    go build -o "$T/readme/client" "$T/readme/main.go"
	run sh -c 'cd "$1" && exec "$2"' sh "$PKI" "$T/readme/client"
	like "README: the Go client snippet gets a token" "$OUT" \
	    '^200 \{"access_token":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"'
else
	fail "README: a Go block with tls.LoadX509KeyPair"
fi

is "go: the program printed a plan matching its $go_n test lines" \
    "$go_plan" "$go_n"
is "go: its test lines are numbered in sequence" "$go_seq" ok
# 20 checks when nothing stops it early (a failed prerequisite ends the
# run after its "not ok", and the count shows that too).
is "go: all of its 20 checks ran" "$go_n" 20
is "go: the program exits 0" "$go_rc" 0

done_testing
