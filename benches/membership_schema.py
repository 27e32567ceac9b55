#!/usr/bin/env python3
"""Memberships in SQLite alone: Roster's layout against integer keys (the floor's) and against
each user's references kept in one text (issue #13).

A group DELETE and a 100-member PATCH are the SCIM writes that stay nearest to 2x the floor
(../shared/bench/floor), and a page of 100 users with their groups is over it. This measures the
part of them that is SQLite's, with no server around it: on a fresh database of --users users in
users/10 groups of 100 (each user in about ten), a group's 100 memberships inserted in one
transaction; every page of 100 users read with their groups' references, three times; then
groups deleted one a transaction (their memberships going by ON DELETE CASCADE). Reported: the
process's CPU time (user and kernel, from getrusage) and its write system calls (`syscw`; SQLite
writes a WAL frame in two, so about two a page changed) per operation.

- roster: `group_members` exactly as `migrations/` leave it (read from a database they built): text
  ids, each membership carrying its tenant and the group's reference, indexed by user, so a
  user's references are one range of that index (as `db::group_refs::expression` reads them);
- integer: the floor's `members` (two integer keys, WITHOUT ROWID, an index by user), users and
  groups keyed by integer, the groups with their tenant and name as columns; a user's references
  are read from each membership's group, by its key;
- per_user: slim memberships (the two text ids, WITHOUT ROWID) and each user's references in the
  tenant kept as one text beside them (`user_group_refs`), appended to by each membership's insert
  and taken out of by its group's DELETE, so a page reads one value a user instead of a range of
  ten index entries (the layout a page of users with their groups would want; session 41).

    python3 benches/membership_schema.py [--users 2000] [--runs 3]

Stdlib only (the sqlite3 module's SQLite, not the server's: the layouts' ratio is what it tells).
"""
import argparse
import glob
import os
import random
import resource
import sqlite3
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TENANT = "main"
PAGE_ROUNDS = 3


def roster_membership_ddl(tmp):
    """The CREATE statements of `group_members` and its indexes after every migration."""
    path = os.path.join(tmp, "migrated.db")
    db = sqlite3.connect(path)
    for migration in sorted(glob.glob(os.path.join(HERE, "..", "migrations", "*.sql"))):
        with open(migration) as f:
            db.executescript(f.read())
    ddl = [sql for (sql,) in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'group_members' AND sql IS NOT NULL "
        "ORDER BY type = 'index', name")]
    db.close()
    return ddl


def open_db(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


class Layout:
    """One membership layout: its tables, and its insert and delete statements."""

    def __init__(self, name, ddl, insert, delete, page):
        self.name, self.ddl, self.insert, self.delete = name, ddl, insert, delete
        self.page = page

    def statements(self, made):
        """The statements a membership's insert or a group's delete runs: one or a list."""
        return made if isinstance(made, list) else [made]


def layouts(tmp):
    roster = Layout(
        "roster",
        ["CREATE TABLE users (id TEXT PRIMARY KEY, body TEXT)",
         "CREATE TABLE groups (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, "
         "display_name TEXT NOT NULL, body TEXT)"]
        + roster_membership_ddl(tmp),
        lambda g, u, gi, ui: ("INSERT INTO group_members (group_id, user_id, created_at, "
                              "tenant_id, group_ref) VALUES (?, ?, 1, ?, ?)",
                              (g, u, TENANT, '"%s""Group %05d"' % (g, gi))),
        lambda g, gi: ("DELETE FROM groups WHERE tenant_id = ? AND id = ?", (TENANT, g)),
        # As `db::group_refs::expression` reads them: one range of the by-user index a user.
        "SELECT u.id, (SELECT group_concat(m.group_ref, ',') FROM group_members m "
        "WHERE m.user_id = u.id AND m.tenant_id = ?) FROM users u WHERE u.id > ? "
        "ORDER BY u.id LIMIT 100")
    integer = Layout(
        "integer",
        ["CREATE TABLE users (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT)",
         "CREATE TABLE groups (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
         "tenant_id TEXT NOT NULL, display_name TEXT NOT NULL, body TEXT)",
         "CREATE TABLE members (g INTEGER NOT NULL REFERENCES groups (n) ON DELETE CASCADE, "
         "u INTEGER NOT NULL REFERENCES users (n) ON DELETE CASCADE, PRIMARY KEY (g, u)) "
         "WITHOUT ROWID",
         "CREATE INDEX members_u ON members (u)"],
        lambda g, u, gi, ui: ("INSERT INTO members (g, u) VALUES (?, ?)", (gi + 1, ui + 1)),
        lambda g, gi: ("DELETE FROM groups WHERE id = ?", (g,)),
        # The same references from integer keys: each membership's group read by its key.
        "SELECT u.n, (SELECT group_concat(json_quote(g.id) || json_quote(g.display_name), ',') "
        "FROM members m JOIN groups g ON g.n = m.g WHERE m.u = u.n AND g.tenant_id = ?) "
        "FROM users u WHERE u.n > ? ORDER BY u.n LIMIT 100")
    # Each user's references (`"id""name"`, comma-separated) in one row of their own.
    this_ref = "'\"' || g.id || '\"\"' || g.display_name || '\"'"
    per_user = Layout(
        "per_user",
        ["CREATE TABLE users (id TEXT PRIMARY KEY, body TEXT)",
         "CREATE TABLE groups (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, "
         "display_name TEXT NOT NULL, body TEXT)",
         "CREATE TABLE group_members (group_id TEXT NOT NULL REFERENCES groups (id) "
         "ON DELETE CASCADE, user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE, "
         "created_at INTEGER NOT NULL, PRIMARY KEY (group_id, user_id)) WITHOUT ROWID",
         "CREATE TABLE user_group_refs (user_id TEXT NOT NULL, tenant_id TEXT NOT NULL, "
         "refs TEXT NOT NULL, PRIMARY KEY (user_id, tenant_id)) WITHOUT ROWID"],
        lambda g, u, gi, ui: [
            ("INSERT INTO group_members (group_id, user_id, created_at) VALUES (?, ?, 1)", (g, u)),
            ("INSERT INTO user_group_refs (user_id, tenant_id, refs) VALUES (?, ?, ?) "
             "ON CONFLICT (user_id, tenant_id) DO UPDATE SET refs = refs || ',' || excluded.refs",
             (u, TENANT, '"%s""Group %05d"' % (g, gi)))],
        lambda g, gi: [
            # Each member's text loses this group's reference, then the group goes.
            ("UPDATE user_group_refs SET refs = trim(replace(',' || refs || ',', ',' || "
             f"(SELECT {this_ref} FROM groups g WHERE g.id = ?1) || ',', ','), ',') "
             "WHERE tenant_id = ?2 AND user_id IN "
             "(SELECT user_id FROM group_members WHERE group_id = ?1)", (g, TENANT)),
            ("DELETE FROM groups WHERE tenant_id = ? AND id = ?", (TENANT, g))],
        "SELECT u.id, (SELECT r.refs FROM user_group_refs r "
        "WHERE r.user_id = u.id AND r.tenant_id = ?) FROM users u WHERE u.id > ? "
        "ORDER BY u.id LIMIT 100")
    return [roster, integer, per_user]


def write_calls():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("syscw:"):
                return int(line.split()[1])
    return 0


class Meter:
    """CPU ms (user, kernel) and write calls per operation over a block."""

    def __enter__(self):
        self.r0, self.w0 = resource.getrusage(resource.RUSAGE_SELF), write_calls()
        return self

    def per_op(self, ops):
        r1, w1 = resource.getrusage(resource.RUSAGE_SELF), write_calls()
        user = (r1.ru_utime - self.r0.ru_utime) * 1000 / ops
        kernel = (r1.ru_stime - self.r0.ru_stime) * 1000 / ops
        return user, kernel, (w1 - self.w0) / ops

    def __exit__(self, *exc):
        return False


def run(layout, tmp, users, seed):
    path = os.path.join(tmp, layout.name + ".db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = open_db(path)
    for sql in layout.ddl:
        db.execute(sql)
    rng = random.Random(seed)
    user_ids = [str(uuid.uuid4()) for _ in range(users)]
    group_ids = [str(uuid.uuid4()) for _ in range(users // 10)]
    db.execute("BEGIN")
    for i, u in enumerate(user_ids):
        if layout.name == "integer":
            db.execute("INSERT INTO users (n, id, body) VALUES (?, ?, ?)", (i + 1, u, "x" * 300))
        else:
            db.execute("INSERT INTO users (id, body) VALUES (?, ?)", (u, "x" * 300))
    for j, g in enumerate(group_ids):
        if layout.name == "integer":
            db.execute("INSERT INTO groups (n, id, tenant_id, display_name, body) "
                       "VALUES (?, ?, ?, ?, ?)", (j + 1, g, TENANT, "Group %05d" % j, "y" * 100))
        else:
            db.execute("INSERT INTO groups (id, tenant_id, display_name, body) VALUES (?, ?, ?, ?)",
                       (g, TENANT, "Group %05d" % j, "y" * 100))
    db.execute("COMMIT")
    with Meter() as m:
        for j, g in enumerate(group_ids):
            db.execute("BEGIN IMMEDIATE")
            for i in rng.sample(range(users), 100):
                for statement in layout.statements(layout.insert(g, user_ids[i], j, i)):
                    db.execute(*statement)
            db.execute("COMMIT")
        inserted = m.per_op(len(group_ids))
    pages, refs = 0, 0
    with Meter() as m:
        for _ in range(PAGE_ROUNDS):
            after = 0 if layout.name == "integer" else ""
            while True:
                rows = db.execute(layout.page, (TENANT, after)).fetchall()
                if not rows:
                    break
                pages += 1
                refs += sum(r[1].count('""') for r in rows if r[1])
                after = rows[-1][0]
        paged = m.per_op(pages)
    deleted_groups = group_ids[: len(group_ids) // 2]
    with Meter() as m:
        for j, g in enumerate(deleted_groups):
            db.execute("BEGIN IMMEDIATE")
            for statement in layout.statements(layout.delete(g, j)):
                db.execute(*statement)
            db.execute("COMMIT")
        deleted = m.per_op(len(deleted_groups))
    size = os.path.getsize(path) + os.path.getsize(path + "-wal")
    db.close()
    return inserted, deleted, paged, refs // PAGE_ROUNDS, size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3, help="each layout this many times, alternated")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        chosen = layouts(tmp)
        results = {layout.name: [] for layout in chosen}
        for run_no in range(args.runs):
            for layout in chosen:
                results[layout.name].append(run(layout, tmp, args.users, seed=run_no))
    print(f"SQLite {sqlite3.sqlite_version}, {args.users} users, {args.users // 10} groups of 100; "
          f"median of {args.runs} runs, per operation")
    print(f"{'layout':8s} {'op':22s} {'CPU ms':>7s} {'user':>6s} {'kernel':>7s} {'writes':>7s}")
    for name, runs in results.items():
        for k, op in enumerate(("add 100 members", "group DELETE", "a page's references")):
            rows = sorted((r[k] for r in runs), key=lambda x: x[0] + x[1])
            user, kernel, writes = rows[len(rows) // 2]
            print(f"{name:8s} {op:22s} {user + kernel:7.3f} {user:6.3f} {kernel:7.3f} {writes:7.1f}")
        size = sorted(r[4] for r in runs)[len(runs) // 2]
        print(f"{name:8s} {'database + WAL':22s} {size // 1024:>7d} KiB; "
              f"{runs[0][3]} references read a round of pages")


if __name__ == "__main__":
    main()
