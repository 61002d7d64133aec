#!/usr/bin/env bash
# limits.sh: README "Operations: Limits", bounded and on loopback only.
#  - --rate-limit N/s: a client over its rate gets 429 {"error":
#    "rate_limited"} with Retry-After; another client is unaffected; the
#    first works again a second later.
#  - 200 idle TLS connections, 20 TCP connections that never start TLS
#    and 10 clients trickling header bytes do not stop /healthz from
#    answering a fresh connection within 1 s.
#  - RSS after 100k token requests is within 2 MiB of RSS after 10k
#    (8 MiB under ASan).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

# The load generator of tests/bench (built with every build).
LOADGEN=${TSR_LOADGEN:-$(dirname "$TESSERA")/../tests/bench/loadgen}
[ -x "$LOADGEN" ] ||
    bail "no load generator at $LOADGEN (ninja builds tests/bench/loadgen)"
# A sanitizer build (scripts/test's second pass): see the RSS part.
asan=0
ldd "$TESSERA" 2>/dev/null | grep -q libasan && asan=1

fresh_store
make_pki
tsr client add order-service --cn order-service >/dev/null &&
    tsr client add billing-service --cn billing-service >/dev/null &&
    tsr grant add order-service inventory >/dev/null &&
    tsr grant add billing-service inventory >/dev/null ||
    bail "cannot set up the policy"
GOOD="grant_type=client_credentials&audience=inventory"
# The deadline for handshake and headers (conn_guard.sh tests it) is set
# out of the way: here the held connections must stay open throughout.
start_server --rate-limit 5/s --handshake-timeout 1h ||
    bail "the server did not start"

# --- rate limit ----------------------------------------------------------------------
# burst CLIENT N: N token requests on one keep-alive connection (one curl,
# N URLs); one line per request in $T/burst: STATUS CONNECTS RETRY-AFTER,
# bodies in $T/burst_1..N; BURST_S is curl's wall time, BURST_END when
# it ended (ns).
burst() {
	local t0
	rm -f "$T"/burst_*
	t0=$(date +%s%N)
	ccurl "$1" --data-binary "$GOOD" -o "$T/burst_#1" \
	    -w '%{http_code} %{num_connects} %header{retry-after}\n' \
	    "$BASE/token?n=[1-$2]" >"$T/burst"
	BURST_END=$(date +%s%N)
	BURST_S=$(awk -v ns=$((BURST_END - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }')
}
burst order-service 15
a_end=$BURST_END
n200=$(grep -c '^200 ' "$T/burst")
n429=$(grep -c '^429 ' "$T/burst")
is "burst of 15 from A: every request answered, 200 or 429" \
    "$((n200 + n429))" 15
is "burst of 15 from A: one connection (keep-alive)" \
    "$(awk '{ n += $2 } END { print n }' "$T/burst")" 1
[ "$n429" -ge 1 ]
tap_ok $? "burst of 15 from A: some 429 ($n429)"
# 5/s with a burst of at most 5: no more than 5 + 5/s of the burst's time.
max_ok=$(awk -v s="$BURST_S" 'BEGIN { printf "%d", 5 + 5 * s + 1 }')
[ "$n200" -ge 1 ] && [ "$n200" -le "$max_ok" ]
tap_ok $? "burst of 15 from A: 1 to $max_ok get 200 in ${BURST_S} s ($n200)"
bad=
i=0
while read -r st _ ra; do
	i=$((i + 1))
	[ "$st" = 429 ] || continue
	body=$(cat "$T/burst_$i")
	[ "$body" = '{"error":"rate_limited"}' ] || bad+=" #$i body $body;"
	[[ "$ra" =~ ^[1-9][0-9]*$ ]] || bad+=" #$i Retry-After '$ra';"
done <"$T/burst"
is "every 429: body {\"error\":\"rate_limited\"} and a Retry-After" "$bad" ""

burst billing-service 5
is "client B right after: 5 requests, all 200" \
    "$(awk '{ print $1 }' "$T/burst" | sort | uniq -c |
    awk '{ print $1 " x " $2 }')" "5 x 200"
# One second after A's burst its bucket has refilled (5/s): wait out what
# is left of that second (at most 1 s), then A works again.
left_ms=$((1000 - ($(date +%s%N) - a_end) / 1000000))
if [ "$left_ms" -gt 0 ]; then
	sleep "$(awk -v m="$left_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
fi
post_token order-service "$GOOD"
is "client A 1 s later: 200 again" "$STATUS" 200
http_get /metrics
got=$(awk '$1 == "tessera_tokens_total{outcome=\"rate_limited\"}" { print $2 }' \
    "$T/out")
is "metrics: tokens_total{outcome=\"rate_limited\"} counts the 429s" \
    "$got" "$n429"

# --- idle and slow connections --------------------------------------------------------
# tsr_hold.py: open NIDLE TLS connections (handshake done, nothing sent),
# NRAW TCP connections (no TLS at all) and NSLOW TLS connections that
# trickle a request head one byte every 0.5 s; write READY, the bytes
# trickled so far to PROGRESS, and hold everything until DONE exists (at
# most 60 s).  Then report how many of each were still open (the server
# did not just drop them) and close them all.
cat >"$T/tsr_hold.py" <<'EOF'
import json, os, socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
nidle, nraw, nslow = map(int, sys.argv[3:6])
ready, progress, done, out = sys.argv[6:10]
t0 = time.time()
ctx = ssl.create_default_context(cafile=ca)
def tls():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")
idle = [tls() for _ in range(nidle)]
raw = [socket.create_connection(("127.0.0.1", port), timeout=20)
       for _ in range(nraw)]
slow = [tls() for _ in range(nslow)]
head = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200 +
        b"\r\n\r\n")
with open(ready, "w") as f:
    f.write("%.3f\n" % (time.time() - t0))
sent, alive = 0, [True] * nslow
deadline = time.time() + 60
while not os.path.exists(done) and time.time() < deadline:
    for i, s in enumerate(slow):
        if alive[i]:
            try:
                s.send(head[sent:sent + 1])
            except OSError:
                alive[i] = False
    sent += 1
    with open(progress + ".tmp", "w") as f:
        f.write("%d\n" % sent)
    os.replace(progress + ".tmp", progress)
    time.sleep(0.5)

def is_open(s):
    s.setblocking(False)
    try:
        if isinstance(s, ssl.SSLSocket):
            return s.recv(1) != b""
        return s.recv(1, socket.MSG_PEEK) != b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return True
    except OSError:
        return False
res = {"setup_s": round(time.time() - t0, 3), "bytes": sent,
       "idle_open": sum(map(is_open, idle)),
       "raw_open": sum(map(is_open, raw)),
       "slow_open": sum(1 for i, s in enumerate(slow)
                        if alive[i] and is_open(s))}
for s in idle + raw + slow:
    s.close()
with open(out, "w") as f:
    json.dump(res, f)
EOF
"$TSR_PYTHON" "$T/tsr_hold.py" "$PORT" "$PKI/ca.pem" 200 20 10 \
    "$T/hold.ready" "$T/hold.progress" "$T/hold.done" "$T/hold.json" \
    2>"$T/hold.err" &
hold_pid=$!
poll_until 40000 test -s "$T/hold.ready"
tap_ok $? "200 idle TLS + 20 raw TCP + 10 slow connections open ($(cat "$T/hold.ready" 2>/dev/null) s)"
progress() { cat "$T/hold.progress" 2>/dev/null || echo 0; }
two_more_bytes() { [ "$(progress)" -ge $(($1 + 2)) ]; }
# Three probes about a second apart (two trickled bytes) while held.
for probe in 1 2 3; do
	p0=$(progress)
	poll_until 5000 two_more_bytes "$p0"
	got=$(curl -s -o /dev/null --max-time 5 --cacert "$PKI/ca.pem" \
	    -w '%{http_code} %{time_total}' "$BASE/healthz")
	read -r st secs <<<"$got"
	if [ "${st:-}" = 200 ] &&
	    awk -v t="${secs:-9}" 'BEGIN { exit !(t < 1.0) }'; then
		pass "healthz on a fresh connection while held: 200 in $secs s (probe $probe, $(progress) bytes trickled)"
	else
		fail "healthz on a fresh connection while held: 200 within 1 s (probe $probe)" \
		    "got: ${got:-nothing}"
	fi
done
touch "$T/hold.done"
poll_until 10000 test -s "$T/hold.json"
wait "$hold_pid" 2>/dev/null
[ -s "$T/hold.err" ] && diag "holder: $(tail -n 3 "$T/hold.err")"
cp "$T/hold.json" "$T/out" 2>/dev/null || echo '{}' >"$T/out"
# The control: the conditions held while probing (nothing was dropped).
json_check "the idle and slow connections were still open at the end" \
    'assert d["idle_open"] == 200 and d["slow_open"] == 10, d'
diag "held connections: $(cat "$T/hold.json" 2>/dev/null)"
http_get /healthz
is "after the held connections closed: healthz 200" "$STATUS" 200
stop_server
is "SIGTERM: exit 0" "$SERVER_STATUS" 0

# --- memory under load ----------------------------------------------------------------
# Token requests over keep-alive connections (tests/bench/loadgen): most
# are cheap refusals on the token path (audience not granted: 400
# invalid_target, no signature), with requests that are issued running
# alongside (as many as the RSA signing lets through, a few percent).
# Each goes through the whole request path: TLS, the client certificate
# check, policy lookup, form parsing, metrics and an event on the audit
# queue, which the writer thread stores in SQLite.
DENIED="grant_type=client_credentials&audience=not-granted"
N1=10000
N2=100000
if [ "$asan" = 1 ]; then
	# Under ASan freed memory sits in a quarantine (256 MiB by default)
	# and would be counted as growth: the server runs without it.
	# Requests are ~3x slower there; the counts stay the same unless the
	# machine is too slow for the time budget (see below).
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
fi
start_server || bail "the server did not start (memory part)"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
LG=("$LOADGEN" --connect "127.0.0.1:$PORT" --ca "$PKI/ca.pem"
    --cert "$PKI/order-service.pem" --key "$PKI/order-service-key.pem"
    --mode token -d 1)
SENT=0
ISSUED=0
REFUSED=0
LOAD_S=0
LOAD_BAD=
# load SECONDS: one round of load, both kinds of request side by side
load() {
	local d dc de ic ie
	"${LG[@]}" -d "$1" -c 2 --body "$DENIED" >"$T/lg.denied" 2>/dev/null &
	d=$!
	"${LG[@]}" -d "$1" -c 1 --body "$GOOD" >"$T/lg.issued" 2>/dev/null
	wait "$d"
	read -r dc de < <(json '"%d %d" % (d["count"], d["errors"])' <"$T/lg.denied")
	read -r ic ie < <(json '"%d %d" % (d["count"], d["errors"])' <"$T/lg.issued")
	# loadgen counts a 200 as a success, anything else as an error.
	SENT=$((SENT + ${dc:-0} + ${de:-0} + ${ic:-0} + ${ie:-0}))
	ISSUED=$((ISSUED + ${ic:-0}))
	REFUSED=$((REFUSED + ${de:-0}))
	LOAD_S=$((LOAD_S + $1))
	echo "$1 s: denied $dc/$de issued $ic/$ie -> $SENT" >>"$T/lg.rounds"
	[ "${dc:-x}" = 0 ] && [ "${ie:-x}" = 0 ] ||
	    LOAD_BAD="denied: $dc ok, $de refused; issued: $ic ok, $ie refused"
}
# load_until N: rounds of load until N requests have been answered, each
# sized from the rate of the round before (at most 3 s; the first round
# warms up; bounded: 40 s of load in all).
load_until() {
	local d before
	while [ "$SENT" -lt "$1" ] && [ "$LOAD_S" -lt 40 ]; do
		d=1
		[ "${LAST_N:-0}" -gt 0 ] &&
		    d=$(((($1 - SENT) * LAST_S + LAST_N - 1) / LAST_N))
		[ "$d" -ge 1 ] || d=1
		[ "$d" -le 3 ] || d=3
		[ $((LOAD_S + d)) -le 40 ] || d=$((40 - LOAD_S))
		before=$SENT
		load "$d"
		LAST_N=$((SENT - before))
		[ "$LAST_N" -gt 0 ] || LAST_N=1	# a failed round
		LAST_S=$d
	done
}
load_until "$N1"
rss1=$(rss_kb)
sent1=$SENT
s1=$LOAD_S
if [ "$asan" = 1 ] && [ $(((N2 - SENT) * LAST_S / LAST_N)) -gt 15 ]; then
	# ASan on a slow machine: 100k would not fit in the 60 s budget;
	# there the bound is checked over about 15 s of load instead.
	N2=$((SENT + 15 * LAST_N / LAST_S))
	diag "ASan, $((LAST_N / LAST_S)) requests/s: the second phase stops at $N2 requests"
fi
load_until "$N2"
rss2=$(rss_kb)
diag "load rounds (seconds: denied ok/refused, issued ok/refused -> total)" \
    "$(cat "$T/lg.rounds")"
diag "RSS $rss1 kB after $sent1 requests, $rss2 kB after $SENT ($ISSUED issued, $REFUSED refused; $s1 s + $((LOAD_S - s1)) s of load)"
is "load: every response was the expected one" "$LOAD_BAD" ""
[ "$sent1" -ge "$N1" ] && [ "$SENT" -ge "$N2" ]
tap_ok $? "load: $sent1 >= $N1 then $SENT >= $N2 requests"
[ "$ISSUED" -ge 100 ]
tap_ok $? "load: tokens issued along the way ($ISSUED)"
# Under ASan the shadow memory and the allocation stack depot grow with
# every page the allocator touches for the first time, a few MiB over
# such a run; its leak checker, not RSS, is the test there for leaks.
rss_slack=2048
[ "$asan" = 1 ] && rss_slack=8192
[ -n "$rss1" ] && [ -n "$rss2" ] && [ $((rss2 - rss1)) -le $rss_slack ]
tap_ok $? "RSS after $SENT requests is within $((rss_slack / 1024)) MiB of RSS after $sent1 (${rss1} -> ${rss2} kB, $((rss2 - rss1)) kB)"
# The server saw what the load generators counted.
http_get /metrics
issued_m=$(awk '$1 == "tessera_tokens_total{outcome=\"issued\"}" { print $2 }' "$T/out")
refused_m=$(awk '$1 == "tessera_tokens_total{outcome=\"invalid_target\"}" { print $2 }' "$T/out")
is "metrics: issued tokens = those the load generator got" "$issued_m" "$ISSUED"
is "metrics: invalid_target = the refusals the load generator got" \
    "$refused_m" "$REFUSED"
diag "audit events dropped (queue full): $(awk '$1 == "tessera_audit_dropped_events_total" { print $2 }' "$T/out")"
ok "the server still answers" curl -sf -o /dev/null --max-time 5 \
    --cacert "$PKI/ca.pem" "$BASE/healthz"

done_testing
