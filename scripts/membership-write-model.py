#!/usr/bin/env python3
"""What a group DELETE writes, by the shape of the membership table (issue #13).

A model, not the server: Python's stdlib `sqlite3` (the same SQLite C code, another version) with
the tables a group DELETE touches, N users, N/10 groups of 100 random members, then every group
deleted, one per transaction (WAL, synchronous=NORMAL, foreign keys on, as Roster and the floor
run). Per DELETE it prints the process's CPU (user and system, `getrusage`), the bytes and write
calls it made (`wchar`, `syscw` in /proc/self/io: the WAL's frames and the checkpoints' copies)
and its read calls, for

  roster        the membership table as migrations 0002 and 0009 leave it: text keys, and the
                index of each user's group references (user id, tenant, the group's id and name)
  narrow        the same with an index on the user alone
  clustered     `roster` as a WITHOUT ROWID table
  integers      memberships keyed by integer numbers of the group, user and tenant
  floor         ../shared/bench/floor's schema (integer keys, WITHOUT ROWID)

each at `wal_autocheckpoint` 1,000 (SQLite's default), 4,000 and 10,000 pages (Roster's writer).

    scripts/membership-write-model.py [--users 2000] [--rounds 2] [--only roster,floor]

Every loop is bounded by --users; the databases live in a temp dir that is removed at exit.
"""
import argparse
import json
import os
import random
import resource
import sqlite3
import tempfile
import uuid

TEXT_KEYED = """
CREATE TABLE users (id TEXT PRIMARY KEY, body TEXT);
CREATE TABLE groups (id TEXT PRIMARY KEY, tenant_id TEXT, name TEXT, name_lower TEXT,
  UNIQUE (tenant_id, name_lower));
CREATE TABLE group_members (
  group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL, tenant_id TEXT NOT NULL, group_ref TEXT,
  PRIMARY KEY (group_id, user_id)){without_rowid};
CREATE INDEX group_members_unfilled_idx ON group_members (group_id) WHERE group_ref IS NULL;
{user_index}
"""

SHAPES = {
    "roster": dict(without_rowid="", user_index=
                   "CREATE INDEX refs ON group_members (user_id, tenant_id, group_ref);"),
    "narrow": dict(without_rowid="", user_index="CREATE INDEX refs ON group_members (user_id);"),
    "clustered": dict(without_rowid=" WITHOUT ROWID", user_index=
                      "CREATE INDEX refs ON group_members (user_id, tenant_id, group_ref);"),
}

INTEGERS = """
CREATE TABLE users (id TEXT PRIMARY KEY, n INTEGER UNIQUE, body TEXT);
CREATE TABLE groups (id TEXT PRIMARY KEY, n INTEGER UNIQUE, tenant_id TEXT, name TEXT,
  name_lower TEXT, UNIQUE (tenant_id, name_lower));
CREATE TABLE group_members (
  group_n INTEGER NOT NULL REFERENCES groups (n) ON DELETE CASCADE,
  user_n INTEGER NOT NULL REFERENCES users (n) ON DELETE CASCADE,
  created_at BIGINT NOT NULL, tenant_n INTEGER NOT NULL, PRIMARY KEY (group_n, user_n));
CREATE INDEX refs ON group_members (user_n, tenant_n, group_n);
"""

FLOOR = """
CREATE TABLE users (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT);
CREATE TABLE groups (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE members (
  g INTEGER NOT NULL REFERENCES groups (n) ON DELETE CASCADE,
  u INTEGER NOT NULL REFERENCES users (n) ON DELETE CASCADE,
  PRIMARY KEY (g, u)) WITHOUT ROWID;
CREATE INDEX members_u ON members (u);
"""


def connect(path, checkpoint):
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON",
                   f"wal_autocheckpoint = {checkpoint}"):
        conn.execute("PRAGMA " + pragma)
    return conn


def in_transaction(conn, statements):
    conn.execute("BEGIN")
    for sql, args in statements:
        conn.execute(sql, args)
    conn.execute("COMMIT")


def io_counters():
    with open("/proc/self/io") as f:
        return {k: int(v) for k, v in (line.split(":") for line in f)}


def measure(conn, deletes):
    """CPU and I/O per DELETE, each in a transaction of its own."""
    usage0, io0 = resource.getrusage(resource.RUSAGE_SELF), io_counters()
    for sql, args in deletes:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, args)
        conn.execute("COMMIT")
    usage1, io1 = resource.getrusage(resource.RUSAGE_SELF), io_counters()
    n = len(deletes)
    return {
        "user_ms": 1000 * (usage1.ru_utime - usage0.ru_utime) / n,
        "sys_ms": 1000 * (usage1.ru_stime - usage0.ru_stime) / n,
        "written_kib": (io1["wchar"] - io0["wchar"]) / n / 1024,
        "write_calls": (io1["syscw"] - io0["syscw"]) / n,
        "read_calls": (io1["syscr"] - io0["syscr"]) / n,
    }


def run_text_keyed(conn, shape, users, rng):
    conn.executescript(TEXT_KEYED.format(**SHAPES[shape]))
    tenant = str(uuid.uuid4())
    user_ids = [str(uuid.uuid4()) for _ in range(users)]
    in_transaction(conn, [("INSERT INTO users VALUES (?, ?)", (u, "x" * 900)) for u in user_ids])
    group_ids = [str(uuid.uuid4()) for _ in range(users // 10)]
    for i, g in enumerate(group_ids):
        in_transaction(conn, [("INSERT INTO groups VALUES (?, ?, ?, ?)",
                               (g, tenant, f"Group {i}", f"group {i}"))])
    for g in group_ids:
        reference = json.dumps(g) + json.dumps("Group name of the bench")
        in_transaction(conn, [("INSERT INTO group_members VALUES (?, ?, ?, ?, ?)",
                               (g, u, 1, tenant, reference))
                              for u in rng.sample(user_ids, 100)])
    rng.shuffle(group_ids)
    return measure(conn, [("DELETE FROM groups WHERE id = ?", (g,)) for g in group_ids])


def run_integers(conn, users, rng):
    conn.executescript(INTEGERS)
    in_transaction(conn, [("INSERT INTO users VALUES (?, ?, ?)", (str(uuid.uuid4()), i + 1, "x" * 900))
                          for i in range(users)])
    groups = list(range(1, users // 10 + 1))
    for g in groups:
        in_transaction(conn, [("INSERT INTO groups VALUES (?, ?, ?, ?, ?)",
                               (str(uuid.uuid4()), g, "t", f"Group {g}", f"group {g}"))])
    for g in groups:
        in_transaction(conn, [("INSERT INTO group_members VALUES (?, ?, ?, ?)", (g, u, 1, 1))
                              for u in rng.sample(range(1, users + 1), 100)])
    rng.shuffle(groups)
    return measure(conn, [("DELETE FROM groups WHERE n = ?", (g,)) for g in groups])


def run_floor(conn, users, rng):
    conn.executescript(FLOOR)
    in_transaction(conn, [("INSERT INTO users (n, id, body) VALUES (?, ?, ?)",
                           (i + 1, str(uuid.uuid4()), "x" * 900)) for i in range(users)])
    groups = list(range(1, users // 10 + 1))
    for g in groups:
        in_transaction(conn, [("INSERT INTO groups (n, id, body) VALUES (?, ?, ?)",
                               (g, str(uuid.uuid4()), "{}"))])
    for g in groups:
        in_transaction(conn, [("INSERT INTO members VALUES (?, ?)", (g, u))
                              for u in rng.sample(range(1, users + 1), 100)])
    rng.shuffle(groups)
    return measure(conn, [("DELETE FROM groups WHERE n = ?", (g,)) for g in groups])


def main():
    shapes = [*SHAPES, "integers", "floor"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default=",".join(shapes))
    args = parser.parse_args()
    if not 100 <= args.users <= 200_000 or not 1 <= args.rounds <= 10:
        parser.error("--users from 100 to 200,000, --rounds from 1 to 10")
    chosen = [s for s in args.only.split(",") if s]
    unknown = set(chosen) - set(shapes)
    if unknown:
        parser.error(f"unknown shapes {sorted(unknown)}; choose among {shapes}")
    print(f"{args.users} users, {args.users // 10} groups of 100; per group DELETE:")
    print(f"{'shape':10s} {'checkpoint':>10s} {'user ms':>8s} {'sys ms':>7s} {'KiB written':>11s}"
          f" {'writes':>7s} {'reads':>6s}")
    with tempfile.TemporaryDirectory(prefix="membership-model-") as tmp:
        for round_ in range(args.rounds):
            for shape in chosen:
                for checkpoint in (1000, 4000, 10000):
                    path = os.path.join(tmp, f"{shape}-{checkpoint}-{round_}.db")
                    conn = connect(path, checkpoint)
                    rng = random.Random(round_)
                    if shape in SHAPES:
                        m = run_text_keyed(conn, shape, args.users, rng)
                    elif shape == "integers":
                        m = run_integers(conn, args.users, rng)
                    else:
                        m = run_floor(conn, args.users, rng)
                    conn.close()
                    print(f"{shape:10s} {checkpoint:10d} {m['user_ms']:8.3f} {m['sys_ms']:7.3f}"
                          f" {m['written_kib']:11.0f} {m['write_calls']:7.0f} {m['read_calls']:6.0f}",
                          flush=True)


if __name__ == "__main__":
    main()
