#!/usr/bin/env python3
"""A replica starting beside one that serves a parallel sync, on one PostgreSQL
(ROSTER_TEST_POSTGRES_URL), as in a rolling upgrade: replica A serves 4 clients, each creating users
and PATCHing each into its group, for 25 s at most; meanwhile replica B (the same binary: it runs
Db::migrate's steps, which give way to A's transactions, db::migration) is started and stopped
four times. Checks: every start answers /healthz, every request of the sync answers 2xx, no ERROR
in any log; prints the sync's latency (p50, p99, max) and each start's time to /healthz.
Bounded loops, loopback only. Usage: scripts/postgres run scripts/probes/rolling_start.py BIN"""
import sys, tempfile, threading, time, urllib.request

from probe_kit import (check, finish, free_port, no_errors_logged, postgres_database, req, scim_integration,
                       serve, server_env)

BIN = sys.argv[1]
tmp = tempfile.mkdtemp()
url = postgres_database("rolling")
port_a = free_port()
I = scim_integration(BIN, server_env(port_a, url), "idp")
a = serve(BIN, server_env(port_a, url), open(f"{tmp}/a.log", "w"))
endpoint, token = I["endpoint"], I["token"]
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
stop_at = time.time() + 25
latencies, statuses, lock = [], {}, threading.Lock()


def sync(n):
    """Creates users and adds each to this client's group, until stop_at (5,000 users at most)."""
    group = req("POST", endpoint + "/Groups", token, {"displayName": f"rolling {n}"})[2]["id"]
    for k in range(5000):
        if time.time() >= stop_at:
            return
        began = time.time()
        status, _, user = req("POST", endpoint + "/Users", token, {"userName": f"rolling{n}-{k}"})
        answers = [status]
        if status == 201:
            add = {"op": "add", "path": "members", "value": [{"value": user["id"]}]}
            answers.append(req("PATCH", f"{endpoint}/Groups/{group}", token,
                               {"schemas": [PATCH], "Operations": [add]})[0])
        with lock:
            latencies.append(time.time() - began)
            for s in answers:
                statuses[s] = statuses.get(s, 0) + 1


clients = [threading.Thread(target=sync, args=(n,)) for n in range(4)]
for c in clients:
    c.start()
logs = [f"{tmp}/a.log"]
for start in range(4):
    time.sleep(2)
    port_b = free_port()
    logs.append(f"{tmp}/b{start}.log")
    began = time.time()
    b = serve(BIN, server_env(port_b, url), open(logs[-1], "w"))
    took = time.time() - began
    try:
        healthy = urllib.request.urlopen(f"http://127.0.0.1:{port_b}/healthz", timeout=5).status == 200
    except Exception:
        healthy = False
    check(f"start {start + 1} of replica B beside the sync answers /healthz ({took:.2f} s)", healthy)
    b.terminate()
    b.wait(timeout=30)
for c in clients:
    c.join(timeout=60)
latencies.sort()
n = len(latencies)
check("the sync ran", n > 100, n)
if n:
    print(f"sync: {n} creates (each with its PATCH), p50 {latencies[n // 2] * 1000:.1f} ms, "
          f"p99 {latencies[int(n * 0.99)] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
check("every request of the sync answered 2xx", set(statuses) <= {200, 201, 204}, statuses)
no_errors_logged("the replicas' logs", logs)
a.terminate()
a.wait(timeout=30)
finish(tmp)
