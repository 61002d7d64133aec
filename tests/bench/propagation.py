"""propagation: how long a policy change takes to be in force on every
replica.  For each of N changes a grant (client order-service, audience
prop-<i>) is inserted through one psql session, and each replica is asked
for a token for that audience over a kept-alive mTLS connection until it
issues one.  The time from just before the INSERT is sent to the first
token of each replica is one sample per replica (an upper bound: it
includes the INSERT itself and the polling interval, a few ms).

    propagation.py DSN CA CERT KEY N PORT...

Prints one JSON line: {"changes", "samples", "p50_ms", "p90_ms", "p99_ms",
"max_ms", "missed"}; "missed" counts samples not in force within 5 s.
"""
import http.client
import json
import ssl
import subprocess
import sys
import time

dsn, ca, cert, key, n = sys.argv[1:6]
ports = [int(p) for p in sys.argv[6:]]
n = int(n)

ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)


def connect(port):
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                       timeout=5)


conns = {p: connect(p) for p in ports}


def issues(port, aud):
    body = "grant_type=client_credentials&audience=" + aud
    for _ in range(2):
        try:
            c = conns[port]
            c.request("POST", "/token", body, {
                "Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            r.read()
            return r.status == 200
        except (OSError, http.client.HTTPException):
            conns[port].close()
            conns[port] = connect(port)
    return False


psql = subprocess.Popen(["psql", "-X", "-q", "-At", dsn],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        text=True, bufsize=1)
samples, missed = [], 0
for i in range(n):
    aud = "prop-%d" % i
    t0 = time.monotonic()
    psql.stdin.write(
        "INSERT INTO grants (client_id, audience, created_at) "
        "SELECT id, '%s', extract(epoch FROM now())::bigint FROM clients "
        "WHERE name = 'order-service';\nSELECT 'done %d';\n" % (aud, i))
    psql.stdin.flush()
    while psql.stdout.readline().strip() != "done %d" % i:
        pass
    todo = set(ports)
    while todo and time.monotonic() - t0 < 5:
        for p in sorted(todo):
            if issues(p, aud):
                samples.append((time.monotonic() - t0) * 1000)
                todo.discard(p)
    missed += len(todo)
psql.stdin.close()
psql.wait()

samples.sort()


def pct(q):
    if not samples:
        return None
    i = max(0, min(len(samples) - 1, int(q * len(samples) + 0.999999) - 1))
    return round(samples[i], 1)


print(json.dumps({"changes": n, "replicas": len(ports),
                  "samples": len(samples), "p50_ms": pct(0.50),
                  "p90_ms": pct(0.90), "p99_ms": pct(0.99),
                  "max_ms": pct(1.0), "missed": missed}))
