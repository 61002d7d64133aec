#!/usr/bin/env bash
# metrics.sh: GET /metrics ("Operations endpoints", README "Logs and
# metrics").  Public, Prometheus text format 0.0.4, accepted by promtool;
# after known traffic the counters moved by exactly what was sent:
# requests by route and status, the latency histogram (its count is the
# number of requests counted), tokens by outcome and issued tokens by
# audience, revocations and introspections by outcome, and the gauges.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

# promtool (Debian package prometheus, in scripts/setup-deps --test) is part of
# the test: without it this file fails, it never skips.
command -v promtool >/dev/null ||
    bail "promtool not found (apt-get install prometheus; scripts/setup-deps --test)"

fresh_store
make_pki
"$TSR_SRCDIR/scripts/dev-pki" "$PKI" --client resource-service >/dev/null ||
    bail "dev-pki: resource-service"
tsr client add order-service --cn order-service >/dev/null &&
    tsr client add resource-service --cn resource-service >/dev/null &&
    tsr grant add order-service inventory --scope stock:read >/dev/null &&
    tsr grant add order-service resource-service >/dev/null ||
    bail "cannot set up the policy"
start_server || bail "the server did not start"
GOOD="grant_type=client_credentials&audience=inventory"

# scrape NAME: GET /metrics without a certificate into $T/NAME.prom
scrape() {
	http_get /metrics
	cp "$T/out" "$T/$1.prom"
	cp "$T/hdr" "$T/$1.hdr"
}

scrape before
is "GET /metrics without a certificate: 200" "$STATUS" 200
like "content type text/plain; version=0.0.4" "$(header Content-Type)" \
    '^text/plain; version=0\.0\.4(;|$)'

# --- known traffic -------------------------------------------------------------------
# Each line says how it moves the counters; the checks below add it up.
for _ in 1 2 3; do get_token order-service inventory; done	# token 200 x3
token_ok "three tokens for inventory"
get_token order-service resource-service			# token 200
token_ok "a token for resource-service"
rs1=$TOKEN
get_token order-service resource-service			# token 200
rs2=$TOKEN
post_token order-service "grant_type=client_credentials&audience=reports"
oauth_error "invalid_target" 400 invalid_target			# token 400
post_token order-service "$GOOD&scope=stock:write"
oauth_error "invalid_scope" 400 invalid_scope			# token 400
post_token - "$GOOD"
oauth_error "no certificate: invalid_client" 401 invalid_client	# token 401
post_token order-service "grant_type=client_credentials"
oauth_error "audience missing: invalid_request" 400 invalid_request # 400
head -c 8192 /dev/zero | tr '\0' a >"$T/8k"
post_token order-service "@$T/8k"
oauth_error "413 body too large" 413 invalid_request		# token 413
http_get /token
oauth_error "405 GET /token" 405 invalid_request		# token 405
http_get /healthz						# healthz 200
http_get /healthz						# healthz 200
http_get /nope							# other 404
is "GET /nope: 404" "$STATUS" 404
http_get /.well-known/jwks.json					# jwks 200
etag=$(header ETag)
http_get /.well-known/jwks.json -H "If-None-Match: $etag"	# jwks 304
is "jwks with its ETag: 304" "$STATUS" 304
http_get /.well-known/openid-configuration			# discovery 200
form() {	# form CLIENT PATH BODY
	: >"$T/hdr"
	STATUS=$(ccurl "$1" -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
	    --data-binary "$3" "$BASE$2")
}
form resource-service /introspect "token=$rs1"			# introspect 200 active
json_check "introspect: active" 'assert d["active"] is True, d'
form resource-service /introspect "token=not-a-jwt"		# introspect 200 inactive
json_check "introspect garbage: inactive" 'assert d == {"active": False}, d'
form - /introspect "token=$rs1"					# introspect 401 denied
is "introspect without a certificate: 401" "$STATUS" 401
form order-service /revoke "token=$rs2"				# revoke 200 revoked
is "revoke own token: 200" "$STATUS" 200
form order-service /revoke "token=not-a-jwt"			# revoke 200 ignored
is "revoke garbage: 200" "$STATUS" 200
form resource-service /revoke "token=$rs1"			# revoke 400 denied
is "revoke another client's token: 400" "$STATUS" 400
scrape after							# metrics 200 (before)
is "GET /metrics again: 200" "$STATUS" 200

# --- promtool ------------------------------------------------------------------------
# Control first: promtool does reject a broken exposition.
printf '# TYPE tessera_x counter\ntessera_x{ 1\n' >"$T/broken.prom"
promtool check metrics <"$T/broken.prom" >/dev/null 2>&1
isnt "control: promtool rejects a broken exposition" "$?" 0
for f in before after; do
	out=$(promtool check metrics <"$T/$f.prom" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "promtool check metrics accepts the $f scrape"
	else
		fail "promtool check metrics accepts the $f scrape" \
		    "exit $rc" "$out"
	fi
done

# --- the numbers -----------------------------------------------------------------------
cat >"$T/tsr_prom.py" <<'EOF'
# tsr_prom.py BEFORE AFTER CERT_NOT_AFTER CHECKS: parse both scrapes and
# run CHECKS (one per line: "description<TAB>python expression"), one
# result line each: "ok<TAB>desc" or "not ok<TAB>desc<TAB>why".
import re, sys, time
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
lab_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

def parse(path):
    samples, types, helps = {}, {}, set()
    with open(path) as f:
        for line in f.read().splitlines():
            if line.startswith("# TYPE "):
                _, _, name, t = line.split(" ", 3)
                types[name] = t
            elif line.startswith("# HELP "):
                helps.add(line.split(" ")[2])
            elif line and not line.startswith("#"):
                m = line_re.match(line)
                if not m:
                    raise SystemExit("bad line: %r" % line)
                labels = tuple(sorted(lab_re.findall(m.group(3) or "")))
                samples[(m.group(1), labels)] = float(m.group(4))
    return samples, types, helps

b, _, _ = parse(sys.argv[1])
a, types, helps = parse(sys.argv[2])
not_after = int(sys.argv[3])

def v(s, name, **labels):
    return s.get((name, tuple(sorted(labels.items()))), 0.0)

def A(name, **labels):
    return v(a, name, **labels)

def D(name, **labels):
    return v(a, name, **labels) - v(b, name, **labels)

def total(s, name, **want):
    return sum(x for (n, ls), x in s.items() if n == name and
               all(dict(ls).get(k) == w for k, w in want.items()))

def DT(name, **want):
    return total(a, name, **want) - total(b, name, **want)

def buckets(s):
    bs = [(float(dict(ls)["le"]), x) for (n, ls), x in s.items()
          if n == "tessera_http_request_duration_seconds_bucket"]
    return [x for _, x in sorted(bs)]

env = dict(A=A, D=D, DT=DT, total=total, a=a, b=b, types=types,
           helps=helps, buckets=buckets, not_after=not_after, now=time.time())
with open(sys.argv[4]) as f:
    for line in f.read().splitlines():
        if not line.strip():
            continue
        desc, expr = line.split("\t", 1)
        try:
            r = eval(expr, env)
            ok = r is True
            why = "" if ok else "got %r" % (r,)
        except Exception as e:
            ok, why = False, "%s: %s" % (type(e).__name__, e)
        if not ok:
            why += " | expression: " + expr
        print("%s\t%s\t%s" % ("ok" if ok else "not ok", desc, why))
EOF

not_after=$(date -d "$(openssl x509 -in "$PKI/server.pem" -noout -enddate |
    cut -d= -f2)" +%s)
# One check per line: DESCRIPTION<TAB>EXPRESSION (must be True).
# D(name, labels): moved by; A: value in the last scrape; DT: the sum of
# every series of a metric that has these labels, moved by.
tab=$'\t'
cat >"$T/checks" <<EOF
every README metric has a TYPE${tab}all(types.get(n) == t for n, t in [("tessera_http_requests_total", "counter"), ("tessera_http_request_duration_seconds", "histogram"), ("tessera_tokens_total", "counter"), ("tessera_tokens_issued_total", "counter"), ("tessera_revocations_total", "counter"), ("tessera_introspections_total", "counter"), ("tessera_signing_key_age_seconds", "gauge"), ("tessera_tls_certificate_expiry_seconds", "gauge"), ("tessera_denylist_entries", "gauge"), ("tessera_database_up", "gauge"), ("tessera_audit_dropped_events_total", "counter")]) or types
every TYPE has a HELP${tab}set(types) <= helps or set(types) - helps
requests: token 200 +5${tab}D("tessera_http_requests_total", route="token", status="200") == 5
requests: token 400 +3${tab}D("tessera_http_requests_total", route="token", status="400") == 3
requests: token 401 +1${tab}D("tessera_http_requests_total", route="token", status="401") == 1
requests: token 413 +1${tab}D("tessera_http_requests_total", route="token", status="413") == 1
requests: token 405 +1${tab}D("tessera_http_requests_total", route="token", status="405") == 1
requests: token, 11 in all${tab}DT("tessera_http_requests_total", route="token") == 11
requests: healthz 200 +2${tab}D("tessera_http_requests_total", route="healthz", status="200") == 2
requests: an unknown path counts as other 404${tab}D("tessera_http_requests_total", route="other", status="404") == 1
requests: jwks 200 +1 and 304 +1${tab}(D("tessera_http_requests_total", route="jwks", status="200"), D("tessera_http_requests_total", route="jwks", status="304")) == (1, 1)
requests: discovery 200 +1${tab}D("tessera_http_requests_total", route="discovery", status="200") == 1
requests: introspect 200 +2, 401 +1${tab}(D("tessera_http_requests_total", route="introspect", status="200"), D("tessera_http_requests_total", route="introspect", status="401")) == (2, 1)
requests: revoke 200 +2, 400 +1${tab}(D("tessera_http_requests_total", route="revoke", status="200"), D("tessera_http_requests_total", route="revoke", status="400")) == (2, 1)
requests: metrics 200 +1 (the first scrape)${tab}D("tessera_http_requests_total", route="metrics", status="200") == 1
requests: 24 in all since the first scrape${tab}DT("tessera_http_requests_total") == 24
histogram: count = the requests counted${tab}A("tessera_http_request_duration_seconds_count") == total(a, "tessera_http_requests_total")
histogram: +Inf bucket = count${tab}A("tessera_http_request_duration_seconds_bucket", le="+Inf") == A("tessera_http_request_duration_seconds_count")
histogram: buckets are cumulative${tab}all(x <= y for x, y in zip(buckets(a), buckets(a)[1:])) or buckets(a)
histogram: count moved by 24${tab}D("tessera_http_request_duration_seconds_count") == 24
histogram: sum moved, by less than 24 x 10 s${tab}0 < D("tessera_http_request_duration_seconds_sum") < 240
tokens: issued +5${tab}D("tessera_tokens_total", outcome="issued") == 5
tokens: invalid_target +1${tab}D("tessera_tokens_total", outcome="invalid_target") == 1
tokens: invalid_scope +1${tab}D("tessera_tokens_total", outcome="invalid_scope") == 1
tokens: invalid_client +1${tab}D("tessera_tokens_total", outcome="invalid_client") == 1
tokens: nothing rate limited or unavailable${tab}(D("tessera_tokens_total", outcome="rate_limited"), D("tessera_tokens_total", outcome="temporarily_unavailable")) == (0, 0)
tokens: invalid_request counts the audience-missing request${tab}D("tessera_tokens_total", outcome="invalid_request") >= 1
tokens: every /token request has an outcome (413 and 405 included)${tab}DT("tessera_tokens_total") == DT("tessera_http_requests_total", route="token") or (DT("tessera_tokens_total"), DT("tessera_http_requests_total", route="token"))
issued by audience: inventory 3${tab}A("tessera_tokens_issued_total", audience="inventory") == 3
issued by audience: resource-service 2${tab}A("tessera_tokens_issued_total", audience="resource-service") == 2
issued by audience: refused audiences are not listed${tab}A("tessera_tokens_issued_total", audience="reports") == 0 and not any(n == "tessera_tokens_issued_total" and dict(ls)["audience"] == "reports" for n, ls in a)
introspections: active +1, inactive +1, denied +1${tab}[D("tessera_introspections_total", outcome=o) for o in ("active", "inactive", "denied")] == [1, 1, 1]
revocations: revoked +1, ignored +1, denied +1${tab}[D("tessera_revocations_total", outcome=o) for o in ("revoked", "ignored", "denied")] == [1, 1, 1]
gauge: deny-list 0 before, 1 after the revocation${tab}(dl := (total(b, "tessera_denylist_entries"), A("tessera_denylist_entries"))) == (0, 1) or dl
gauge: signing key age from 0 to 120 s${tab}0 <= A("tessera_signing_key_age_seconds") <= 120
gauge: TLS certificate expiry = notAfter - now (within 120 s)${tab}abs(A("tessera_tls_certificate_expiry_seconds") - (not_after - now)) <= 120 or (A("tessera_tls_certificate_expiry_seconds"), not_after - now)
gauge: database up${tab}A("tessera_database_up") == 1
no audit event dropped${tab}A("tessera_audit_dropped_events_total") == 0
EOF
while IFS=$'\t' read -r res desc why; do
	if [ "$res" = ok ]; then
		pass "$desc"
	else
		fail "$desc" "$why"
	fi
done < <("$TSR_PYTHON" "$T/tsr_prom.py" "$T/before.prom" "$T/after.prom" \
    "$not_after" "$T/checks" 2>&1)

done_testing
