#!/usr/bin/env bash
# notify.sh: the service manager protocol (sd_notify(3)) as the systemd
# unit (Type=notify) relies on it.  A python3 datagram socket stands in
# for systemd: "tessera serve" sends READY=1 once /healthz answers,
# RELOADING=1 with MONOTONIC_USEC= then READY=1 around a SIGHUP reload,
# and STOPPING=1 on SIGTERM before it exits 0; an abstract "@" socket
# works too; without NOTIFY_SOCKET, or with one nobody listens on, the
# server runs, reloads and stops as usual.
. "$(dirname "$0")/lib.sh"

fresh_store
make_pki

# listen ADDR LOG: a datagram socket at ADDR ("@name" = abstract) that
# appends each message to LOG as one line, newlines turned into blanks,
# followed by "recv_usec=N" (CLOCK_MONOTONIC when it arrived).
LISTENERS=()
listen() {
	rm -f "$2" "$2.up"
	"$TSR_PYTHON" - "$1" "$2" <<'PY' &
import socket, sys, time
addr, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(log + ".up", "w").close()
with open(log, "a", buffering=1) as out:
    while True:
        data = s.recv(4096)
        out.write("%s recv_usec=%d\n" % (data.decode().replace("\n", " "),
                  time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000))
PY
	LISTENERS+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$2.up" ] && return 0
		sleep 0.05
	done
	bail "the notify listener did not start"
}
trap 'kill "${LISTENERS[@]}" 2>/dev/null; _lib_cleanup' EXIT

# wait_line LOG N ERE: wait (up to 10 s) until line N of LOG matches ERE
wait_line() {
	local i
	for ((i = 0; i < 200 * TSR_TIME_SCALE; i++)); do
		sed -n "$2p" "$1" 2>/dev/null | grep -Eq "$3" && return 0
		sleep 0.05
	done
	return 1
}

health() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	    --cacert "$PKI/ca.pem" "$BASE/healthz"
}

# --- a socket path ----------------------------------------------------------
N=$T/notify.log
listen "$T/notify.sock" "$N"
export NOTIFY_SOCKET=$T/notify.sock
start_server || bail "server did not start with NOTIFY_SOCKET set"
wait_line "$N" 1 '^READY=1( |$)'
tap_ok $? "READY=1 is the first message"
# READY=1 came before start_server saw /healthz; it must answer now.
is "/healthz answers once READY=1 was sent" "$(health)" 200
is "nothing but READY=1 at start" "$(wc -l <"$N")" 1

kill -HUP "$SERVER_PID"
wait_line "$N" 3 '^READY=1( |$)'
tap_ok $? "SIGHUP: a third message, READY=1"
line2=$(sed -n 2p "$N")
like "SIGHUP: RELOADING=1 with MONOTONIC_USEC= first" "$line2" \
    '^RELOADING=1 MONOTONIC_USEC=[0-9]+ '
# MONOTONIC_USEC is CLOCK_MONOTONIC when the reload began: before the
# message arrived, and not long before.
sent=$(sed -E 's/.*MONOTONIC_USEC=([0-9]+).*/\1/' <<<"$line2")
recv=$(sed -E 's/.*recv_usec=([0-9]+).*/\1/' <<<"$line2")
if [[ $sent =~ ^[0-9]+$ && $recv =~ ^[0-9]+$ ]] &&
    [ "$sent" -le "$recv" ] && [ $((recv - sent)) -lt 5000000 ]; then
	pass "MONOTONIC_USEC is the monotonic clock at the reload"
else
	fail "MONOTONIC_USEC is the monotonic clock at the reload" \
	    "sent=$sent recv=$recv"
fi
is "/healthz answers after the reload" "$(health)" 200

pid=$SERVER_PID
stop_server
is "SIGTERM: exit status 0" "$SERVER_STATUS" 0
wait_line "$N" 4 '^STOPPING=1( |$)'
tap_ok $? "SIGTERM: STOPPING=1"
is "four messages in all" "$(wc -l <"$N")" 4
grep -q "shutting down" "$T/server.log"
tap_ok $? "the server drained as usual (pid $pid)"

# --- an abstract socket -----------------------------------------------------
A=$T/abstract.log
abstract="@tsr-notify-$$-$RANDOM"
listen "$abstract" "$A"
export NOTIFY_SOCKET=$abstract
start_server || bail "server did not start with an abstract NOTIFY_SOCKET"
wait_line "$A" 1 '^READY=1( |$)'
tap_ok $? "abstract socket: READY=1"
stop_server
is "abstract socket: exit status 0" "$SERVER_STATUS" 0
wait_line "$A" 2 '^STOPPING=1( |$)'
tap_ok $? "abstract socket: STOPPING=1"

# --- nobody listening, and no NOTIFY_SOCKET at all --------------------------
for how in "a socket nobody listens on" "no NOTIFY_SOCKET"; do
	if [ "$how" = "no NOTIFY_SOCKET" ]; then
		unset NOTIFY_SOCKET
	else
		export NOTIFY_SOCKET=$T/nobody.sock
	fi
	start_server
	tap_ok $? "$how: the server starts"
	if [ -n "$SERVER_PID" ]; then
		kill -HUP "$SERVER_PID"
		sleep 0.5
		is "$how: /healthz answers after SIGHUP" "$(health)" 200
		stop_server
		is "$how: SIGTERM exits 0" "$SERVER_STATUS" 0
	fi
done
is "no stray messages on the first socket" "$(wc -l <"$N")" 4

done_testing
