#!/usr/bin/env python3
"""Two Roster replicas on one PostgreSQL (ROSTER_TEST_POSTGRES_URL), driven as a parallel IdP sync
through both: 8 clients create 400 users alternating replicas; 8 clients add them to one group
(one member a PATCH, alternating replicas); readers list with count=1 while users are created
and deleted. Checks: 0 errors, every member present, the group's version = PATCHes + 1, list
totals covering their pages, the same answers from both replicas, no ERROR in either log.
Bounded loops, loopback only. Usage: scripts/postgres run scripts/probes/replicas.py BIN"""
import sys, tempfile, threading, urllib.parse
from concurrent.futures import ThreadPoolExecutor

from probe_kit import (check, finish, free_port, no_errors_logged, postgres_database, req, scim_integration,
                       serve, server_env)

BIN = sys.argv[1]
tmp = tempfile.mkdtemp()
url = postgres_database("replicas")

ports = [free_port(), free_port()]
I = scim_integration(BIN, server_env(ports[0], url), "idp")
logs = [open(f"{tmp}/r{i}.log", "w") for i in range(2)]
srvs = [serve(BIN, server_env(p, url), logs[i]) for i, p in enumerate(ports)]
path = urllib.parse.urlsplit(I["endpoint"]).path
bases = [f"http://127.0.0.1:{p}{path}" for p in ports]
tok = I["token"]

q = urllib.parse.quote
N = 400
def create(i):
    return req("POST", bases[i % 2] + "/Users", tok, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": f"r{i}@example.com", "emails": [{"value": f"r{i}@example.com", "primary": True}], "active": True})
with ThreadPoolExecutor(8) as ex:
    created = list(ex.map(create, range(N)))
bad = [c for c in created if c[0] != 201]
check(f"{N} creates through both replicas, 8 clients: all 201", not bad, bad[:2])
ids = [c[2]["id"] for c in created if c[0] == 201]
st, h, g = req("POST", bases[0] + "/Groups", tok, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone"})
gid = g["id"]
def add(i):
    return req("PATCH", f"{bases[i % 2]}/Groups/{gid}", tok, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "add", "path": "members", "value": [{"value": ids[i]}]}]})
with ThreadPoolExecutor(8) as ex:
    added = list(ex.map(add, range(len(ids))))
bad = [a for a in added if a[0] != 204]
check(f"{len(ids)} one-member PATCHes through both replicas, 8 clients: all 204", not bad, bad[:2])
views = [req("GET", f"{b}/Groups/{gid}", tok) for b in bases]
members = [{m["value"] for m in v[2]["members"]} for v in views]
check("both replicas show every member", members[0] == members[1] == set(ids), [len(m) for m in members])
check("the version is one per change", views[0][1]["etag"] == views[1][1]["etag"] == f'W/"{len(ids) + 1}"',
      [v[1]["etag"] for v in views])
tot = [req("GET", f"{b}/Users?count=1", tok)[2]["totalResults"] for b in bases]
check("both replicas count every user", tot == [len(ids)] * 2, tot)

stop = threading.Event(); seen = []; lock = threading.Lock()
lst = "/Users?count=1&filter=" + q('userName sw "cycle-"')
def lister(r):
    for n in range(3000):
        if stop.is_set(): break
        st, _, b = req("GET", bases[(n + r) % 2] + lst, tok)
        with lock: seen.append((st, len(b.get("Resources", [])) if st == 200 else -1, b.get("totalResults") if st == 200 else b))
ts = [threading.Thread(target=lister, args=(r,)) for r in range(4)]; [t.start() for t in ts]
for i in range(60):
    st, _, u = req("POST", bases[i % 2] + "/Users", tok, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"cycle-{i}"})
    req("DELETE", f"{bases[(i + 1) % 2]}/Users/{u['id']}", tok)
stop.set(); [t.join() for t in ts]
bad = [s for s in seen if s[0] != 200 or not (s[2] >= s[1] and s[2] <= 1)]
check(f"list totals across replicas under creates/deletes: {len(seen)} pages, {sum(1 for s in seen if s[1] > 0)} listing one",
      not bad and len(seen) > 8, bad[:3])

for s in srvs: s.terminate()
for s in srvs: s.wait(timeout=30)
for l in logs: l.close()
no_errors_logged("either replica's log", [f"{tmp}/r{i}.log" for i in range(2)])
finish(tmp)
