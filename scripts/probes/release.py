#!/usr/bin/env python3
"""A release binary probed as production meets it, over real HTTP on loopback:
1. group reads under a concurrent PATCH writer: every answer's ETag names the members it lists;
2. list totals under a create/delete writer: a page's totalResults covers the resources it lists;
   a root /.search under a create/add/delete writer: a listed user's groups and the listed
   group's members agree (one snapshot for both types);
3. attacker probes: tokens across integrations and tenants, disabled/rotated/deleted, ids of
   another tenant, injections, oversized and malformed bodies.
Every loop is bounded. Usage: scripts/probes/release.py BIN (exits 1 on any failure)"""
import json, subprocess, sys, tempfile, threading, time, urllib.parse

from probe_kit import check, finish, free_port, no_errors_logged, req, serve, server_env

BIN = sys.argv[1]
tmp = tempfile.mkdtemp()
PORT = free_port()
env = server_env(PORT, f"sqlite://{tmp}/r.db")

def cli(*args):
    out = subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout

subprocess.run([BIN, "tenant", "create", "other", "--name", "Other"], env=env, check=True, capture_output=True, timeout=60)
A = json.loads(cli("scim", "create", "--tenant", "main", "--name", "a"))
A2 = json.loads(cli("scim", "create", "--tenant", "main", "--name", "a2"))
B = json.loads(cli("scim", "create", "--tenant", "other", "--name", "b"))
log = open(f"{tmp}/server.log", "w")
srv = serve(BIN, env, log)

def big_post(url, token, body):
    """POSTs a body the server may refuse before reading it all; returns the status it answered."""
    import http.client
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.putrequest("POST", u.path)
    for k, v in {"Content-Type": "application/scim+json", "Authorization": f"Bearer {token}",
                 "Content-Length": str(len(body))}.items():
        c.putheader(k, v)
    c.endheaders()
    try:
        c.send(body)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        return c.getresponse().status
    except Exception as e:
        return repr(e)

def user(name):
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": True}
def group(name):
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name}
def patch(op, uid):
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": op, "path": "members", "value": [{"value": uid}]}]}
q = urllib.parse.quote
ea, ta = A["endpoint"], A["token"]

# --- 1. group versions under a PATCH writer
ids = []
for i in range(120):
    st, _, b = req("POST", f"{ea}/Users", ta, user(f"m{i}")); assert st == 201, b; ids.append(b["id"])
st, h, g = req("POST", f"{ea}/Groups", ta, group("Versions")); assert st == 201
gid = g["id"]; versions = {h["etag"]: frozenset()}
stop = threading.Event(); seen = []; lock = threading.Lock()
def reader(r):
    for n in range(4000):
        if stop.is_set(): break
        if (n + r) % 3 == 0:
            st, _, b = req("GET", ea + "/Groups?filter=" + q('displayName eq "Versions"'), ta)
            res = b["Resources"][0]; etag = res["meta"]["version"]
        else:
            st, hh, res = req("GET", f"{ea}/Groups/{gid}", ta); etag = hh["etag"]
        with lock: seen.append((etag, frozenset(m["value"] for m in res.get("members", []))))
ts = [threading.Thread(target=reader, args=(r,)) for r in range(4)]; [t.start() for t in ts]
members = set()
for uid in ids:
    st, h, _ = req("PATCH", f"{ea}/Groups/{gid}", ta, patch("add", uid)); assert st == 204
    members.add(uid); versions[h["etag"]] = frozenset(members)
stop.set(); [t.join() for t in ts]
bad = [(e, len(m)) for e, m in seen if versions.get(e) != m]
check(f"group reads under PATCHes: {len(seen)} reads, each ETag with its version's members", not bad and len(seen) > 8, bad[:3])
st, h, _ = req("PATCH", f"{ea}/Groups/{gid}", ta, patch("add", ids[0]))
check("re-adding a member keeps the version", st == 204 and h.get("etag") == f'W/"{len(ids) + 1}"', (st, h.get("etag")))
st, _, b = req("PATCH", f"{ea}/Groups/{gid}", ta, patch("add", ids[1]), {"If-Match": 'W/"2"'})
check("a stale If-Match is 412", st == 412, (st, b))

# --- 2. list totals under a create/delete writer
stop.clear(); totals = []
lists = [ea + "/Users?count=1&filter=" + q('userName sw "cycle-"'),
         ea + "/Groups?count=1&filter=" + q('displayName sw "Cycle "')]
def lister(r):
    for n in range(4000):
        if stop.is_set(): break
        url = lists[(n + r) % 2]
        st, _, b = req("GET", url, ta)
        with lock: totals.append((url, len(b.get("Resources", [])), b["totalResults"]))
ts = [threading.Thread(target=lister, args=(r,)) for r in range(4)]; [t.start() for t in ts]
for i in range(80):
    _, _, u = req("POST", f"{ea}/Users", ta, user(f"cycle-{i}"))
    _, _, gg = req("POST", f"{ea}/Groups", ta, group(f"Cycle {i}"))
    req("DELETE", f"{ea}/Users/{u['id']}", ta); req("DELETE", f"{ea}/Groups/{gg['id']}", ta)
stop.set(); [t.join() for t in ts]
bad = [t for t in totals if not (t[2] >= t[1] and t[2] <= 1)]
found = sum(1 for t in totals if t[1])
check(f"list totals under creates/deletes: {len(totals)} pages ({found} listing one), total covers the page", not bad and found > 4, bad[:3])

# A root /.search reads Users and Groups at one moment: a user created, added to a group and
# deleted (their membership with them) is in the group's members exactly when the group is in
# their groups, and every member listed is a listed user.
st, _, rg = req("POST", f"{ea}/Groups", ta, group("Root cycle")); assert st == 201, rg
stop.clear(); roots = []
search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
          "filter": 'displayName sw "Root cycle"', "count": 10}
def root_reader(r):
    for n in range(4000):
        if stop.is_set(): break
        st, _, b = req("POST", f"{ea}/.search", ta, search)
        with lock: roots.append((st, b))
ts = [threading.Thread(target=root_reader, args=(r,)) for r in range(4)]; [t.start() for t in ts]
for i in range(80):
    body = dict(user(f"root-cycle-{i}"), displayName=f"Root cycle user {i}")
    _, _, u = req("POST", f"{ea}/Users", ta, body)
    req("PATCH", f"{ea}/Groups/{rg['id']}", ta, patch("add", u["id"]))
    req("DELETE", f"{ea}/Users/{u['id']}", ta)
stop.set(); [t.join() for t in ts]
def root_disagrees(st, b):
    if st != 200: return ("status", st)
    res = b.get("Resources", [])
    groups = [r for r in res if r["schemas"][0].endswith(":Group")]
    users = {r["id"]: r for r in res if not r["schemas"][0].endswith(":Group")}
    if len(groups) != 1 or b["totalResults"] != len(res): return ("shape", len(groups), b["totalResults"], len(res))
    members = {m["value"] for m in groups[0].get("members", [])}
    for uid, u in users.items():
        if (rg["id"] in {g["value"] for g in u.get("groups", [])}) != (uid in members): return ("groups vs members", uid)
    return None if members <= set(users) else ("member not listed", sorted(members - set(users)))
bad = [d for d in (root_disagrees(st, b) for st, b in roots) if d]
with_member = sum(1 for st, b in roots if st == 200 and any(r.get("members") for r in b.get("Resources", [])))
check(f"root searches under create/add/delete: {len(roots)} answers ({with_member} with a member), users and groups of one moment",
      not bad and with_member > 4, bad[:3])

# --- 3. attacker probes
eb, tb = B["endpoint"], B["token"]
e2, t2 = A2["endpoint"], A2["token"]
st, _, u = req("POST", f"{ea}/Users", ta, user("victim")); vid = u["id"]
st, _, bu = req("POST", f"{eb}/Users", tb, user("outsider")); bid = bu["id"]
st, _, bg = req("POST", f"{eb}/Groups", tb, group("B team")); bgid = bg["id"]
other_url_a = ea.replace("/main/", "/other/")
probes = [
    ("no token", req("GET", f"{ea}/Users", None)[0] == 401),
    ("Basic scheme", req("GET", f"{ea}/Users", None, headers={"Authorization": "Basic " + ta})[0] == 401),
    ("B's token at A's URL", req("GET", f"{ea}/Users", tb)[0] == 401),
    ("A2's token at A's URL", req("GET", f"{ea}/Users", t2)[0] == 401),
    ("A's token with tenant swapped in the URL", req("GET", f"{other_url_a}/Users", ta)[0] in (401, 404)),
    ("B reads A's user by id", req("GET", f"{eb}/Users/{vid}", tb)[0] == 404),
    ("B replaces A's user", req("PUT", f"{eb}/Users/{vid}", tb, user("victim"))[0] == 404),
    ("B deletes A's user", req("DELETE", f"{eb}/Users/{vid}", tb)[0] == 404),
    ("A adds B's user to A's group", req("PATCH", f"{ea}/Groups/{gid}", ta, patch("add", bid))[0] in (400, 404)),
    ("A patches B's group", req("PATCH", f"{ea}/Groups/{bgid}", ta, patch("add", vid))[0] == 404),
    ("A filters for B's user", req("GET", ea + "/Users?filter=" + q('userName eq "outsider"'), ta)[2]["totalResults"] == 0),
    ("A filters B's user by id", req("GET", ea + "/Users?filter=" + q('id eq "%s"' % bid), ta)[2]["totalResults"] == 0),
    ("injection in a filter", (lambda r: r[0] == 400 or (r[0] == 200 and r[2]["totalResults"] == 0))(req("GET", ea + "/Users?filter=" + q('userName eq "x\\" OR 1=1 --"'), ta))),
    ("injection in sortBy", req("GET", ea + "/Users?sortBy=" + q('userName; DROP TABLE users'), ta)[0] == 400),
    ("LIKE wildcards are literal", req("GET", ea + "/Users?filter=" + q('userName sw "%"'), ta)[2]["totalResults"] == 0),
    ("a negative count", req("GET", f"{ea}/Users?count=-5", ta)[0] in (200, 400)),
    ("a huge count is bounded", len(req("GET", f"{ea}/Users?count=1000000", ta)[2].get("Resources", [])) <= 1000),
    ("a 3 MB body", big_post(f"{ea}/Users", ta, b'{"a":"' + b"x" * 3_000_000 + b'"}') == 413),
    ("malformed JSON", req("POST", f"{ea}/Users", ta, raw=b'{"userName":')[0] == 400),
    ("text/plain", req("POST", f"{ea}/Users", ta, user("tp"), headers={"Content-Type": "text/plain"})[0] == 415),
    ("a traversal id", req("GET", f"{ea}/Users/..%2F..%2Fadmin", ta)[0] in (400, 404)),
    ("SCIM token on the admin API", req("GET", f"http://127.0.0.1:{PORT}/api/tenants", ta)[0] in (401, 403, 404)),
    ("a deeply nested body", req("POST", f"{ea}/Users", ta, raw=b"[" * 100000 + b"]" * 100000)[0] in (400, 413)),
]
for name, ok in probes:
    check(name, ok)
# A `roster` command in another process takes effect within credential_cache::FRESH_FOR (1 s).
cli("scim", "disable", "--tenant", "main", A2["id"]); time.sleep(1.2)
st, _, b = req("GET", f"{e2}/Users", t2); check("a disabled integration answers 401", st == 401, (st, b))
rot = json.loads(cli("scim", "rotate", "--tenant", "other", B["id"])); time.sleep(1.2)
check("a rotated-out token is 401", req("GET", f"{eb}/Users", tb)[0] == 401)
check("the new token works", req("GET", f"{eb}/Users", rot["token"])[0] == 200)
cli("scim", "delete", "--tenant", "other", B["id"]); time.sleep(1.2)
check("a deleted integration answers 404", req("GET", f"{eb}/Users", rot["token"])[0] == 404)

srv.terminate(); srv.wait(timeout=30); log.close()
no_errors_logged("the server's log", [f"{tmp}/server.log"])
finish(tmp)
