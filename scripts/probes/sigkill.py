#!/usr/bin/env python3
"""A release binary killed without warning while a parallel sync writes, as a machine that loses
power does it, over real HTTP on loopback. Four clients create users (each with an email) and add
every tenth to a group; the server is killed with SIGKILL at each of the given moments and
started again on the same file. At these rates the write-ahead log passes 10,000 pages about every
two seconds and is copied back into the database file beside the writes
(`db::sqlite_checkpointer`), so a kill lands after several copies and often during one. Each time, every create and member add the server acknowledged is
there, the file passes `PRAGMA integrity_check`, and the log has no ERROR or panic. Every loop is
bounded in count and time. The audit log holds exactly one event per user made and per member
added: none lost, none invented. Usage: scripts/probes/sigkill.py BIN [SECONDS ...] (default 4 7 11;
exits 1 on any failure)"""
import os, signal, sqlite3, sys, tempfile, threading, time

from probe_kit import check, finish, free_port, no_errors_logged, req, scim_integration, serve, server_env

BIN = sys.argv[1]
MOMENTS = [float(s) for s in sys.argv[2:]] or [4.0, 7.0, 11.0]
CLIENTS, PER_CLIENT = 4, 20000
tmp = tempfile.mkdtemp()
PORT = free_port()
db = f"{tmp}/r.db"
env = server_env(PORT, f"sqlite://{db}")
cred = scim_integration(BIN, env, "sync")
EP, TOKEN = cred["endpoint"], cred["token"]
logs = []


def start():
    logs.append(f"{tmp}/server-{len(logs)}.log")
    return serve(BIN, env, open(logs[-1], "w"))


srv = start()
_, _, group = req("POST", f"{EP}/Groups", TOKEN,
                  {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Synced"})
GROUP = group["id"]
acked_users, acked_members = [], set()
lock = threading.Lock()

for run, moment in enumerate(MOMENTS):
    stop_at = time.time() + moment + 20

    def client(c):
        for i in range(PER_CLIENT):
            if time.time() > stop_at:
                return
            try:
                status, _, user = req("POST", f"{EP}/Users", TOKEN, {
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": f"r{run}-c{c}-u{i}",
                    "emails": [{"value": f"r{run}-c{c}-u{i}@example.com", "type": "work", "primary": True}]})
            except Exception:
                return  # the server is gone
            if status != 201:
                return
            with lock:
                acked_users.append(user["id"])
            if i % 10 == 0:
                try:
                    status, _, _ = req("PATCH", f"{EP}/Groups/{GROUP}", TOKEN, {
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}]})
                except Exception:
                    return
                if status not in (200, 204):
                    return
                with lock:
                    acked_members.add(user["id"])

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    before = len(acked_users)
    for t in threads:
        t.start()
    time.sleep(moment)
    wal = os.path.getsize(f"{db}-wal") if os.path.exists(f"{db}-wal") else 0
    srv.send_signal(signal.SIGKILL)
    srv.wait(30)
    for t in threads:
        t.join(70)
    made = len(acked_users) - before
    print(f"killed {moment} s into run {run + 1}: {made} creates acknowledged, the log file {wal} bytes")
    check(f"run {run + 1}: the sync was under way when killed (over 1,000 creates)", made > 1000, made)
    check(f"run {run + 1}: the log had grown past 10,000 pages at least once", wal > 10000 * 4120, wal)

    srv = start()
    missing = [u for u in acked_users if req("GET", f"{EP}/Users/{u}", TOKEN)[0] != 200]
    check(f"run {run + 1}: every acknowledged create is there after restart ({len(acked_users)})",
          not missing, missing[:3])
    status, _, stored = req("GET", f"{EP}/Groups/{GROUP}", TOKEN)
    members = {m["value"] for m in (stored or {}).get("members", [])}
    lost = acked_members - members
    check(f"run {run + 1}: every acknowledged member add is there ({len(acked_members)})",
          status == 200 and not lost, (status, sorted(lost)[:3]))
    conn = sqlite3.connect(db)
    intact = conn.execute("PRAGMA integrity_check").fetchone()[0]
    # The audit log agrees with what is stored: each user the sync made has one event, and no
    # event names a user that is not there (each is written in its change's transaction).
    one = lambda sql: conn.execute(sql).fetchone()[0]
    users = one("SELECT COUNT(*) FROM users WHERE created_by IS NOT NULL")
    events = one("SELECT COUNT(*) FROM audit_events WHERE action = 'user.provision'")
    lost = one("SELECT COUNT(*) FROM users u WHERE u.created_by IS NOT NULL AND NOT EXISTS "
               "(SELECT 1 FROM audit_events e WHERE e.target_id = u.id AND e.action = 'user.provision')")
    invented = one("SELECT COUNT(*) FROM audit_events e WHERE e.action = 'user.provision' "
                   "AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = e.target_id)")
    member_events = one("SELECT COUNT(*) FROM audit_events WHERE action = 'group.update'")
    member_rows = one("SELECT COUNT(*) FROM group_members")
    conn.close()
    check(f"run {run + 1}: integrity_check is ok after the kill", intact == "ok", intact)
    check(f"run {run + 1}: one audit event per user made ({users}), none lost or invented",
          users == events and lost == 0 and invented == 0, (users, events, lost, invented))
    check(f"run {run + 1}: one audit event per member added ({member_rows})",
          member_events == member_rows, (member_events, member_rows))

srv.send_signal(signal.SIGTERM)
srv.wait(30)
no_errors_logged("the servers' logs", logs)
finish(tmp)
