#!/usr/bin/env python3
"""The deepest page of a directory asked three ways, on one release server over SQLite: the first
page by startIndex, the last hundred users by startIndex on a server that answered no walk to
them (an OFFSET), and the same page by RFC 9865 cursor (a seek, on any replica). Checks the two
deep pages hold the same users and prints the server's CPU per page (/proc/<pid>/stat) over 200
requests of each, three rounds. With FILTER, every page is of that filter's users (all of them
must match it: `active eq true`, `userName sw "user"`). Every loop is bounded.
Usage: scripts/probes/deep_pages.py BIN [USERS, default 20000] [FILTER] (exits 1 on any failure)"""
import http.client, json, os, sys, tempfile, urllib.parse

from probe_kit import check, finish, free_port, scim_integration, serve, server_env

BIN = sys.argv[1]
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
assert 200 < USERS <= 200_000, "USERS from 201 to 200,000"
FILTER = "&filter=" + urllib.parse.quote(sys.argv[3]) if len(sys.argv) > 3 else ""
tmp = tempfile.mkdtemp()
PORT = free_port()
env = server_env(PORT, f"sqlite://{tmp}/r.db?mode=rwc")
integration = scim_integration(BIN, env, "pages")
srv = serve(BIN, env, open(f"{tmp}/server.log", "w"))
base = urllib.parse.urlparse(integration["endpoint"]).path
conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
headers = {"Authorization": f"Bearer {integration['token']}", "Content-Type": "application/scim+json"}


def call(method, path, body=None):
    conn.request(method, base + path, body=json.dumps(body) if body else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    assert r.status < 300, (method, path, r.status, data[:300])
    return json.loads(data) if data else None


def cpu_seconds():
    fields = open(f"/proc/{srv.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


for k in range(USERS):
    call("POST", "/Users", {"userName": f"user{k:06d}", "displayName": f"User {k}"})
# A cursor to the last hundred: a walk there, 200 users a page.
cursor, answered = "", 0
for _ in range(USERS // 200 + 2):
    if answered >= USERS - 100:
        break
    page = call("GET", f"/Users?count={min(200, USERS - 100 - answered)}&cursor={cursor}{FILTER}")
    answered += len(page["Resources"])
    cursor = page["nextCursor"]
by_index = f"/Users?startIndex={USERS - 99}&count=100{FILTER}"
by_cursor = f"/Users?count=100&cursor={cursor}{FILTER}"
ids = lambda page: [u["id"] for u in page["Resources"]]
deep_by_index, deep_by_cursor = call("GET", by_index), call("GET", by_cursor)
check("the last page by startIndex and by cursor hold the same 100 users",
      ids(deep_by_index) == ids(deep_by_cursor) and len(ids(deep_by_cursor)) == 100)
# A full page of a walk of Users always has a next cursor; past the last user its page is empty.
after_last = call("GET", f"/Users?count=100&cursor={deep_by_cursor['nextCursor']}{FILTER}")
check("past the last user, an empty page without nextCursor",
      after_last["Resources"] == [] and "nextCursor" not in after_last, after_last)
rounds = {}
for _ in range(3):
    for name, path in [("first page by startIndex", f"/Users?startIndex=1&count=100{FILTER}"),
                       (f"page at {USERS - 99} by startIndex", by_index),
                       (f"page at {USERS - 99} by cursor", by_cursor)]:
        before = cpu_seconds()
        for _ in range(200):
            call("GET", path)
        rounds.setdefault(name, []).append((cpu_seconds() - before) / 200 * 1000)
for name, ms in rounds.items():
    print(f"{name}: " + ", ".join(f"{x:.3f}" for x in ms) + " ms of CPU a page")
srv.terminate()
srv.wait(timeout=30)
finish(tmp)
