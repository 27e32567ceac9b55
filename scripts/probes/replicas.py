#!/usr/bin/env python3
"""Two Roster replicas on one PostgreSQL (ROSTER_TEST_POSTGRES_URL), driven as a parallel IdP sync
through both: 8 clients create 400 users alternating replicas; 8 clients add them to one group
(one member a PATCH, alternating replicas); readers list with count=1 while users are created
and deleted. Checks: 0 errors, every member present, the group's version = PATCHes + 1, list
totals covering their pages, the same answers from both replicas, no ERROR in either log.
Bounded loops, loopback only. Usage: scripts/postgres run scripts/probes/replicas.py BIN"""
import json, os, subprocess, sys, tempfile, threading, time, urllib.parse, urllib.request, urllib.error, socket
from concurrent.futures import ThreadPoolExecutor

BIN = sys.argv[1]
tmp = tempfile.mkdtemp()
admin = os.environ["ROSTER_TEST_POSTGRES_URL"]
db = "replicas_" + str(os.getpid())
subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {db}"], check=True)
url = admin.rsplit("/", 1)[0] + "/" + db

def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]
ports = [port(), port()]
def env_for(p):
    e = dict(os.environ, ROSTER_DATABASE_URL=url, LEPTOS_SITE_ADDR=f"127.0.0.1:{p}",
             ROSTER_PUBLIC_URL=f"http://127.0.0.1:{p}", ROSTER_SCIM_RATE="0", RUST_LOG="warn")
    e.pop("ROSTER_ADMIN_USERNAME", None); e.pop("ROSTER_ADMIN_PASSWORD", None)
    return e
made = subprocess.run([BIN, "scim", "create", "--tenant", "main", "--name", "idp"], env=env_for(ports[0]),
                      capture_output=True, text=True, timeout=60, check=True)
I = json.loads(made.stdout)
logs = [open(f"{tmp}/r{i}.log", "w") for i in range(2)]
srvs = [subprocess.Popen([BIN, "serve"], env=env_for(p), stdout=logs[i], stderr=subprocess.STDOUT)
        for i, p in enumerate(ports)]
import atexit, shutil
atexit.register(lambda: [s.kill() for s in srvs if s.poll() is None])  # an assertion that stops the probe
for p in ports:
    for _ in range(150):
        try: urllib.request.urlopen(f"http://127.0.0.1:{p}/healthz", timeout=1); break
        except Exception: time.sleep(0.1)
path = urllib.parse.urlsplit(I["endpoint"]).path
bases = [f"http://127.0.0.1:{p}{path}" for p in ports]
tok = I["token"]

def req(method, url, body=None):
    r = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method,
                               headers={"Content-Type": "application/scim+json", "Authorization": f"Bearer {tok}"})
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            t = resp.read(); return resp.status, {k.lower(): v for k, v in resp.headers.items()}, (json.loads(t) if t else None)
    except urllib.error.HTTPError as e:
        t = e.read(); return e.code, {}, t.decode(errors="replace")

failures = []
def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"  {detail}"))
    if not cond: failures.append(name)
q = urllib.parse.quote
N = 400
def create(i):
    return req("POST", bases[i % 2] + "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": f"r{i}@example.com", "emails": [{"value": f"r{i}@example.com", "primary": True}], "active": True})
with ThreadPoolExecutor(8) as ex:
    created = list(ex.map(create, range(N)))
bad = [c for c in created if c[0] != 201]
check(f"{N} creates through both replicas, 8 clients: all 201", not bad, bad[:2])
ids = [c[2]["id"] for c in created if c[0] == 201]
st, h, g = req("POST", bases[0] + "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone"})
gid = g["id"]
def add(i):
    return req("PATCH", f"{bases[i % 2]}/Groups/{gid}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "add", "path": "members", "value": [{"value": ids[i]}]}]})
with ThreadPoolExecutor(8) as ex:
    added = list(ex.map(add, range(len(ids))))
bad = [a for a in added if a[0] != 204]
check(f"{len(ids)} one-member PATCHes through both replicas, 8 clients: all 204", not bad, bad[:2])
views = [req("GET", f"{b}/Groups/{gid}") for b in bases]
members = [{m["value"] for m in v[2]["members"]} for v in views]
check("both replicas show every member", members[0] == members[1] == set(ids), [len(m) for m in members])
check("the version is one per change", views[0][1]["etag"] == views[1][1]["etag"] == f'W/"{len(ids) + 1}"',
      [v[1]["etag"] for v in views])
tot = [req("GET", f"{b}/Users?count=1")[2]["totalResults"] for b in bases]
check("both replicas count every user", tot == [len(ids)] * 2, tot)

stop = threading.Event(); seen = []; lock = threading.Lock()
lst = "/Users?count=1&filter=" + q('userName sw "cycle-"')
def lister(r):
    for n in range(3000):
        if stop.is_set(): break
        st, _, b = req("GET", bases[(n + r) % 2] + lst)
        with lock: seen.append((st, len(b.get("Resources", [])) if st == 200 else -1, b.get("totalResults") if st == 200 else b))
ts = [threading.Thread(target=lister, args=(r,)) for r in range(4)]; [t.start() for t in ts]
for i in range(60):
    st, _, u = req("POST", bases[i % 2] + "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"cycle-{i}"})
    req("DELETE", f"{bases[(i + 1) % 2]}/Users/{u['id']}")
stop.set(); [t.join() for t in ts]
bad = [s for s in seen if s[0] != 200 or not (s[2] >= s[1] and s[2] <= 1)]
check(f"list totals across replicas under creates/deletes: {len(seen)} pages, {sum(1 for s in seen if s[1] > 0)} listing one",
      not bad and len(seen) > 8, bad[:3])

for s in srvs: s.terminate()
for s in srvs: s.wait(timeout=30)
for l in logs: l.close()
errs = [l for i in range(2) for l in open(f"{tmp}/r{i}.log") if "ERROR" in l or "panick" in l]
check("no ERROR or panic in either replica's log", not errs, errs[:3])
subprocess.run(["psql", admin, "-qc", f"DROP DATABASE {db}"])
print(f"{len(failures)} failures")
if failures:
    print(f"the replicas' logs: {tmp}")
else:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failures else 0)
