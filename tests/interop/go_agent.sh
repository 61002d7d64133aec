#!/usr/bin/env bash
# go_agent.sh: a Go service (go/reload/reload.go: crypto/tls with
# GetClientCertificate, reloading its key pair when the files change)
# keeps asking /token while tessera agent renews its certificate beside
# it; with no restart it must go on getting tokens, and they must name
# the new certificate.  The program's TAP is renumbered into this file's.
#
# Built offline in GOPATH mode, standard library only.
. "$(dirname "$0")/../integration/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
command -v go >/dev/null 2>&1 ||
    bail "no go (golang-go; scripts/setup-deps installs it)"
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$T/gocache \
    GOFLAGS='' GOPROXY=off GOENV=off GOTMPDIR=$T
ok "go build go/reload/reload.go (stdlib, offline)" \
    go build -o "$T/reload" "$here/go/reload/reload.go"
[ -x "$T/reload" ] || bail "reload.go did not build"

fresh_store
make_pki
tsr ca init >/dev/null || bail "tessera ca init failed"
tsr client add svc --cn svc --cert-ttl 5m >/dev/null &&
    tsr grant add svc api >/dev/null || bail "cannot set up the policy"
mkdir -p "$T/svc"
tsr cert issue svc --out "$T/svc" >/dev/null || bail "cert issue failed"
start_server || bail "the server did not start"

"$T/reload" -base "$BASE" -cert "$T/svc/svc.pem" \
    -key "$T/svc/svc-key.pem" -ca "$PKI/ca.pem" -audience api \
    -wait 60s >"$T/go.out" 2>"$T/go.err" &
go_pid=$!
sleep 1
# 0.01 of the lifetime is already past: it renews at once, then every 5 s.
"$TSR_BIN" agent --server "$BASE" --cert "$T/svc/svc.pem" \
    --key "$T/svc/svc-key.pem" --ca "$PKI/ca.pem" --renew-at 0.01 \
    2>"$T/agent.log" </dev/null &
agent_pid=$!
wait "$go_pid"
go_rc=$?
kill -TERM "$agent_pid"
wait "$agent_pid"
is "the agent exits 0 on SIGTERM" "$?" 0
like "the agent renewed" "$(cat "$T/agent.log")" ' renewed svc: serial '

go_n=0
while IFS= read -r line; do
	if [[ "$line" =~ ^(not\ )?ok\ ([0-9]+)(\ -\ )?(.*)$ ]]; then
		go_n=$((go_n + 1))
		if [ -z "${BASH_REMATCH[1]}" ]; then
			pass "go: ${BASH_REMATCH[4]}"
		else
			fail "go: ${BASH_REMATCH[4]}"
		fi
	elif [[ "$line" == "#"* ]]; then
		printf '%s\n' "$line"
	fi
done <"$T/go.out"
[ -s "$T/go.err" ] && diag "go stderr: $(head -c 2000 "$T/go.err")"
is "go: all of its 4 checks ran" "$go_n" 4
is "go: the program exits 0" "$go_rc" 0

done_testing
