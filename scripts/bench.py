#!/usr/bin/env python3
"""Bounded SCIM provisioning benchmark (Python stdlib only); run by scripts/bench.

Adapted from ../shared/bench/scim_bench.py (the harness behind issue #13's table) so the project's
benchmark is self-contained. Additions: a compact per-phase summary (ops/s, p50/p99, server CPU
ms/op, errors) and `--compare A.json B.json`, which prints A/B ratios of CPU ms per operation.

Runs a realistic provisioning workload against ONE SCIM base URL on the
loopback interface and reports, per phase: ops, ok, errors, ops/s and
p50/p90/p99/max latency. Optionally samples the server's RSS (--server-pid).

Phases (each bounded by count and by --phase-timeout seconds):
  create_users   POST /Users                     N users
  create_groups  POST /Groups                    N/10 groups
  patch_members  PATCH /Groups/{id}              add members, --batch per PATCH
                                                 (--members-per-group per group)
  member_churn   PATCH /Groups/{id}              only when named in --phases: --churn times, one
                                                 member of the first group removed
                                                 (members[value eq "..."]) and added back, two
                                                 PATCHes each (its cost should not depend on the
                                                 group's size: compare --members-per-group 10000
                                                 with 1)
  everyone_fill  PATCH /Groups/{id}              only when named in --phases: one more group,
                                                 every user added to it, 1,000 a PATCH (an IdP's
                                                 "everyone" group)
  everyone_reads GET /Groups/{id}                only with everyone_fill: --everyone-reads GETs
                                                 of that group whole (authentik reads a group
                                                 back after every change), each checked to carry
                                                 every member.
                                                 Their CPU and the peak RSS are the cost of
                                                 answering a group of the whole directory
  filter_lookup  GET /Users?filter=userName eq "..."   --lookups requests (--lookup-by email:
                                                 emails.value eq; work-email: Entra ID's
                                                 emails[type eq "work"].value eq;
                                                 display-name: displayName eq; username-prefix:
                                                 userName sw the whole name)
  list_pages     GET /Users?startIndex=&count=100      pages x --list-rounds
  put_users      PUT /Users/{id}                 N replacements
  delete_groups  DELETE /Groups/{id}
  delete_users   DELETE /Users/{id}

C concurrent clients = C forked worker processes, each a closed loop on its
own persistent HTTP connection (re-opened if the server closes it).

Example:
  python3 scim_bench.py --base-url http://127.0.0.1:18080/v2 --token secret \
      -n 2000 -c 4 --server-pid 1234 --json out.json
"""
import argparse
import glob
import http.client
import ipaddress
import json
import math
import multiprocessing as mp
import os
import random
import select
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

SCHEMA_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCHEMA_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCHEMA_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


# --------------------------------------------------------------------------- safety
def check_loopback(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http":
        sys.exit(f"refusing: only plain http:// loopback URLs are supported, got {url!r}")
    host = u.hostname or ""
    if host == "localhost":
        return u
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        sys.exit(f"refusing: host {host!r} is not a loopback IP literal or 'localhost'")
    if not ip.is_loopback:
        sys.exit(f"refusing: {host} is not a loopback address")
    return u


# --------------------------------------------------------------------------- RSS
def _proc_tree(pid):
    """pid plus all its descendants (e.g. gunicorn master + workers)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def read_rss_kib(pid):
    """VmRSS/VmHWM summed over pid and its descendants (KiB); 'procs' = count."""
    vals = {"VmRSS": 0, "VmHWM": 0, "Pss": 0, "procs": 0}
    for p in _proc_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        k, v = line.split(":", 1)
                        vals[k] += int(v.split()[0])
            vals["procs"] += 1
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        vals["Pss"] += int(line.split()[1])
        except OSError:
            pass
    return vals if vals["procs"] else {}


def cpu_seconds(pid, kernel_only=False):
    """utime+stime (s) summed over pid and its descendants (live ones only); stime alone when
    kernel_only."""
    tot = 0
    for p in _proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # utime, stime (+ cutime/cstime not needed)
            tot += int(fields[12]) if kernel_only else int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return tot / os.sysconf("SC_CLK_TCK")


def _threads(pid):
    """(pid, tid) of every live thread of pid and its descendants (`/proc/<pid>/task`)."""
    for p in _proc_tree(pid):
        try:
            threads = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in threads:
            yield p, t


def thread_cpu_ns(pid):
    """(ns, tids): the time on a CPU of each live thread of pid and its descendants, summed
    (the first field of /proc/<pid>/task/<tid>/schedstat, kept in nanoseconds), and the threads
    it summed. utime + stime come in clock ticks (10 ms): a phase of 40 ms of server CPU was
    measured ±25 % by them. A thread that ends between two readings takes its time with it, so
    a phase whose threads changed falls back to the ticks (`cpu_clock` in the report)."""
    tot, tids = 0, set()
    for p, t in _threads(pid):
        try:
            with open(f"/proc/{p}/task/{t}/schedstat") as f:
                tot += int(f.read().split()[0])
            tids.add((p, int(t)))
        except (OSError, ValueError, IndexError):
            pass
    return tot, tids


def context_switches(pid):
    """Context switches (voluntary and not) summed over the live threads of pid and its
    descendants (`/proc/<pid>/task/<tid>/status`): each is a thread put to sleep or taken off
    its CPU, the price of every hand-over between the runtime's threads and the database's."""
    tot = 0
    for p, t in _threads(pid):
        try:
            with open(f"/proc/{p}/task/{t}/status") as f:
                for line in f:
                    if "ctxt_switches:" in line:
                        tot += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return tot


def file_reads(pid):
    """Read system calls on files (read, pread, readv: `syscr` in /proc/<pid>/io; socket receives
    are not counted) over the process's threads: SQLite's page reads, which the instruction count
    leaves out."""
    return proc_io(pid, "syscr:")


def bytes_written(pid):
    """Bytes the process sent to storage (`write_bytes` in /proc/<pid>/io): its commits' pages, and
    the checkpoints that copy them back into the database file, in whichever phase one falls."""
    return proc_io(pid, "write_bytes:")


def write_calls(pid):
    """Write system calls (write, pwrite, writev: `syscw` in /proc/<pid>/io), files and sockets:
    SQLite writes each WAL frame in two (its header, its page) and each page a checkpoint copies
    back in one, so beside the one or two a response takes this counts the pages written."""
    return proc_io(pid, "syscw:")


def proc_io(pid, field):
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    def __init__(self, pid, interval=0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            r = read_rss_kib(self.pid).get("VmRSS", 0)
            self.peak = max(self.peak, r)
            self.stop_ev.wait(self.interval)


# --------------------------------------------------------------------------- worker
class Client:
    def __init__(self, u, token, timeout):
        self.host = u.hostname
        self.port = u.port or 80
        self.prefix = u.path.rstrip("/")
        self.timeout = timeout
        self.headers = {
            "Accept": "application/scim+json",
            "Content-Type": "application/scim+json",
        }
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = None

    def request(self, method, path, body=None):
        # like urllib3: drop a kept-alive connection the server has already closed
        if self.conn is not None and self.conn.sock is not None:
            try:
                r, _, _ = select.select([self.conn.sock], [], [], 0)
            except (OSError, ValueError):
                r = [True]
            if r:
                self.reset()
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.conn.request(method, self.prefix + path, body=data, headers=self.headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        if resp.will_close:
            self.conn.close()
            self.conn = None
        return resp.status, payload

    def reset(self):
        try:
            if self.conn is not None:
                self.conn.close()
        finally:
            self.conn = None


def _worker(wid, u, token, timeout, tasks, deadline_s, go, out_q):
    """tasks: list of (idx, method, path, body, expect_statuses, check)."""
    cli = Client(u, token, timeout)
    lat, errs, extracted, samples = [], {}, {}, []
    not_run = 0
    go.wait()
    t0 = time.monotonic()
    deadline = t0 + deadline_s
    for n, (idx, method, path, body, expect, check) in enumerate(tasks):
        if time.monotonic() > deadline:
            not_run = len(tasks) - n
            break
        s = time.perf_counter()
        try:
            status, payload = cli.request(method, path, body)
            err = None if status in expect else f"HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            status, payload, err = None, b"", f"EXC {type(exc).__name__}"
            cli.reset()
        dt = (time.perf_counter() - s) * 1000.0
        lat.append(dt)
        if err is None and check:
            try:
                doc = json.loads(payload) if payload else {}
                if check == "id":
                    extracted[idx] = doc["id"]
                elif check == "one":
                    if int(doc.get("totalResults", -1)) != 1:
                        err = f"totalResults={doc.get('totalResults')}"
                elif check == "some":
                    if int(doc.get("totalResults", -1)) < 1 or not doc.get("Resources"):
                        err = f"totalResults={doc.get('totalResults')}"
                elif isinstance(check, tuple) and check[0] == "members":
                    found = len(doc.get("members") or [])
                    if found != check[1]:
                        err = f"members={found}"
                elif check == "page":
                    if len(doc.get("Resources") or []) > 100 or "totalResults" not in doc:
                        err = "bad page"
            except Exception as exc:  # noqa: BLE001
                err = f"bad body {type(exc).__name__}"
        if err is not None:
            errs[err] = errs.get(err, 0) + 1
            if len(samples) < 3:
                samples.append({"req": f"{method} {path}", "err": err,
                                "body": payload[:300].decode("utf-8", "replace")})
    t1 = time.monotonic()
    cli.reset()
    out_q.put({"wid": wid, "lat": lat, "errs": errs, "extracted": extracted,
               "samples": samples, "t0": t0, "t1": t1, "not_run": not_run})


def run_phase(name, u, token, args, partitions):
    ctx = mp.get_context("fork")
    go = ctx.Event()
    q = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(i, u, token, args.request_timeout, part,
                                                args.phase_timeout, go, q))
             for i, part in enumerate(partitions) if part]
    for p in procs:
        p.start()
    time.sleep(0.05)
    go.set()
    results = []
    hard = time.monotonic() + args.phase_timeout + args.request_timeout + 10
    while len(results) < len(procs) and time.monotonic() < hard:
        try:
            results.append(q.get(timeout=1.0))
        except Exception:  # queue.Empty
            pass
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.terminate()
    lat = sorted(x for r in results for x in r["lat"])
    errs = {}
    for r in results:
        for k, v in r["errs"].items():
            errs[k] = errs.get(k, 0) + v
    extracted = {}
    for r in results:
        extracted.update(r["extracted"])
    wall = (max(r["t1"] for r in results) - min(r["t0"] for r in results)) if results else 0.0
    nerr = sum(errs.values())

    def pct(p):
        if not lat:
            return None
        return round(lat[min(len(lat) - 1, max(0, math.ceil(p / 100.0 * len(lat)) - 1))], 2)

    stats = {
        "phase": name, "planned": sum(len(p) for p in partitions), "ops": len(lat),
        "ok": len(lat) - nerr, "errors": nerr, "error_kinds": errs,
        "not_run": sum(r["not_run"] for r in results), "workers": len(procs),
        "workers_reported": len(results),
        "wall_s": round(wall, 3),
        "ops_per_s": round(len(lat) / wall, 1) if wall > 0 else None,
        "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
        "max_ms": round(lat[-1], 2) if lat else None,
        "mean_ms": round(sum(lat) / len(lat), 2) if lat else None,
        "error_samples": [s for r in results for s in r["samples"]][:3],
    }
    return stats, extracted


def split_rr(tasks, c):
    parts = [[] for _ in range(c)]
    for i, t in enumerate(tasks):
        parts[i % c].append(t)
    return parts


# --------------------------------------------------------------------------- payloads
def user_doc(run, i, rev=0):
    return {
        "schemas": [SCHEMA_USER],
        "userName": f"bench-{run}-{i:06d}",
        "externalId": f"ext-{run}-{i}",
        "name": {"givenName": f"Given{i}" + ("" if rev == 0 else f"r{rev}"),
                 "familyName": f"Family{i}", "formatted": f"Given{i} Family{i}"},
        "displayName": f"Bench User {i}" + ("" if rev == 0 else f" (rev {rev})"),
        "active": True,
        "emails": [{"value": f"bench-{run}-{i}@example.com", "type": "work", "primary": True}],
        "title": "Engineer" if rev == 0 else "Senior Engineer",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spread", nargs="+", metavar="A_JSON:B_JSON",
                    help="runs of A against B (e.g. Roster and the floor, one pair a run): per "
                         "phase the median and range of A/B, and of each side's CPU ms/op")
    ap.add_argument("--compare", nargs=2, metavar=("A_JSON", "B_JSON"),
                    help="print per-phase ratios A/B of two earlier --json results and exit")
    ap.add_argument("--base-url", help="SCIM base URL on loopback, e.g. http://127.0.0.1:8080/scim/v2")
    ap.add_argument("--token", default="", help="bearer token")
    ap.add_argument("-n", "--users", type=int, default=2000)
    ap.add_argument("-c", "--concurrency", type=int, default=4)
    ap.add_argument("--groups", type=int, default=None, help="default N/10")
    ap.add_argument("--members-per-group", type=int, default=100)
    ap.add_argument("--batch", type=int, default=100, help="members per PATCH")
    ap.add_argument("--churn", type=int, default=200,
                    help="member_churn: members removed and added back (2 PATCHes each)")
    ap.add_argument("--everyone-reads", type=int, default=20,
                    help="GETs of the everyone group (everyone_reads)")
    ap.add_argument("--lookups", type=int, default=None, help="filter lookups (default N)")
    ap.add_argument("--lookup-among", metavar="RUN:COUNT", default=None,
                    help="lookups also choose among the COUNT users an earlier run RUN created "
                         "(scripts/bench --prefill): the whole directory, not this run's users only")
    ap.add_argument("--lookup-by", choices=("userName", "email", "work-email", "display-name", "username-prefix"),
                    default="userName",
                    help="what filter_lookup filters on: userName eq (every IdP), emails.value eq, "
                         "Entra ID's emails[type eq \"work\"].value eq, displayName eq (each run's users "
                         "repeat the names of an earlier run's: one or more found) or userName sw (the floor "
                         "filters on userName only)")
    ap.add_argument("--list-rounds", type=int, default=3, help="times to page through all users")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--page-query", default="",
                    help="more query parameters for list_pages, e.g. excludedAttributes=groups "
                         "(the floor's pages carry no groups)")
    ap.add_argument("--phases", default="create_users,create_groups,patch_members,filter_lookup,list_pages,put_users,delete_groups,delete_users")
    ap.add_argument("--phase-timeout", type=float, default=120.0, help="seconds per phase before workers stop issuing")
    ap.add_argument("--max-seconds", type=float, default=600.0, help="overall budget; later phases are skipped")
    ap.add_argument("--request-timeout", type=float, default=30.0)
    ap.add_argument("--server-pid", type=int, default=None, help="sample VmRSS of this pid")
    ap.add_argument("--aux-pid", type=int, action="append", default=[],
                    help="extra process tree (e.g. the postgres postmaster) whose CPU time is reported separately")
    ap.add_argument("--callgrind-out", metavar="PREFIX",
                    help="the server runs under valgrind's callgrind with --callgrind-out-file=PREFIX.%%p: "
                         "count its instructions per phase (callgrind_control zeroes before, dumps after)")
    ap.add_argument("--label", default="")
    ap.add_argument("--json", help="write results to this file")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)
    if args.spread:
        return spread(args.spread)
    if not args.base_url:
        sys.exit("--base-url is required")

    u = check_loopback(args.base_url)
    if args.users < 1 or args.users > 200000 or args.concurrency < 1 or args.concurrency > 64:
        sys.exit("refusing: --users must be 1..200000 and --concurrency 1..64")
    N, C = args.users, args.concurrency
    G = args.groups if args.groups is not None else max(1, N // 10)
    L = args.lookups if args.lookups is not None else N
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    run = f"{int(time.time()) % 100000000:08d}{os.getpid() % 1000:03d}"
    rnd = random.Random(args.seed)
    t_start = time.monotonic()

    sampler = None
    rss = {}
    if args.server_pid:
        rss["before"] = read_rss_kib(args.server_pid)
        sampler = RssSampler(args.server_pid)
        sampler.start()

    report = {"label": args.label, "base_url": args.base_url, "users": N, "groups": G,
              "concurrency": C, "run_id": run, "phases": []}
    user_ids, group_ids = {}, {}

    def budget_left():
        return args.max_seconds - (time.monotonic() - t_start)

    def do(name, tasks, partitions=None):
        if name not in phases:
            return {}
        if budget_left() <= 0:
            print(f"[skip] {name}: overall --max-seconds budget exhausted", flush=True)
            report["phases"].append({"phase": name, "skipped": "budget"})
            return {}
        parts = partitions if partitions is not None else split_rr(tasks, C)
        if args.callgrind_out:
            callgrind_control("--zero", args.server_pid)
        cpu0 = cpu_seconds(args.server_pid) if args.server_pid else None
        ns0 = thread_cpu_ns(args.server_pid) if args.server_pid else None
        sys0 = cpu_seconds(args.server_pid, kernel_only=True) if args.server_pid else None
        reads0 = file_reads(args.server_pid) if args.server_pid else None
        written0 = bytes_written(args.server_pid) if args.server_pid else None
        wcalls0 = write_calls(args.server_pid) if args.server_pid else None
        switches0 = context_switches(args.server_pid) if args.server_pid else None
        aux0 = [cpu_seconds(p) for p in args.aux_pid]
        stats, extracted = run_phase(name, u, args.token, args, parts)
        stats["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
        if cpu0 is not None:
            d = ticks = cpu_seconds(args.server_pid) - cpu0
            ns1 = thread_cpu_ns(args.server_pid)
            if ns0[1] and ns0[1] <= ns1[1]:
                d = (ns1[0] - ns0[0]) / 1e9
                stats["cpu_clock"] = "threads"
            else:
                stats["cpu_clock"] = "ticks"
            stats["server_cpu_s"] = round(d, 4)
            stats["server_cpu_ms_per_op"] = round(1000 * d / stats["ops"], 3) if stats["ops"] else None
            k = cpu_seconds(args.server_pid, kernel_only=True) - sys0
            stats["server_kernel_share"] = round(k / ticks, 2) if ticks > 0 else None
        if reads0 is not None and stats["ops"]:
            stats["server_file_reads_per_op"] = round((file_reads(args.server_pid) - reads0) / stats["ops"], 1)
            written = bytes_written(args.server_pid) - written0
            stats["server_kib_written_per_op"] = round(written / 1024 / stats["ops"], 1)
            stats["server_write_calls_per_op"] = round((write_calls(args.server_pid) - wcalls0) / stats["ops"], 1)
            switches = context_switches(args.server_pid) - switches0
            stats["server_switches_per_op"] = round(switches / stats["ops"], 1)
        if args.callgrind_out:
            ir = callgrind_phase_instructions(args.callgrind_out, args.server_pid, name)
            stats["server_instr_k_per_op"] = round(ir / 1000 / stats["ops"], 1) if stats["ops"] and ir else None
        if args.aux_pid:
            d = sum(cpu_seconds(p) for p in args.aux_pid) - sum(aux0)
            stats["aux_cpu_ms_per_op"] = round(1000 * d / stats["ops"], 3) if stats["ops"] else None
        if args.server_pid:
            stats["rss_kib_after"] = read_rss_kib(args.server_pid).get("VmRSS")
        report["phases"].append(stats)
        print(f"[done] {name:14s} ops={stats['ops']:6d} err={stats['errors']:5d} "
              f"{stats['ops_per_s']} ops/s p50={stats['p50_ms']}ms p99={stats['p99_ms']}ms"
              + (f" errs={stats['error_kinds']}" if stats['errors'] else ""), flush=True)
        return extracted

    # (i) users
    tasks = [(i, "POST", "/Users", user_doc(run, i), (201,), "id") for i in range(N)]
    user_ids = do("create_users", tasks)
    uids = [user_ids[i] for i in range(N) if i in user_ids]

    # (ii) groups
    tasks = [(j, "POST", "/Groups", {"schemas": [SCHEMA_GROUP], "displayName": f"bench-grp-{run}-{j:05d}",
                                     "externalId": f"gext-{run}-{j}"}, (201,), "id") for j in range(G)]
    group_ids = do("create_groups", tasks)
    gids = [(j, group_ids[j]) for j in range(G) if j in group_ids]

    # (iii) PATCH add members, batches of --batch; all batches of one group on one worker
    if uids and gids:
        parts = [[] for _ in range(C)]
        mpg = min(args.members_per_group, len(uids))
        for k, (j, gid) in enumerate(gids):
            start = (j * mpg) % len(uids)
            members = [uids[(start + m) % len(uids)] for m in range(mpg)]
            for b in range(0, mpg, args.batch):
                body = {"schemas": [SCHEMA_PATCH], "Operations": [
                    {"op": "add", "path": "members",
                     "value": [{"value": v} for v in members[b:b + args.batch]]}]}
                parts[k % C].append((j, "PATCH", f"/Groups/{gid}", json.dumps(body).encode(), (200, 204), None))
        do("patch_members", None, parts)
        # (iii b) one member of the first group out and back in, each member's pair on one worker
        j0, g0 = gids[0]
        start = (j0 * mpg) % len(uids)
        first = [uids[(start + m) % len(uids)] for m in range(mpg)]
        churn = [[] for _ in range(C)]
        for k in range(args.churn):
            v = first[(k * 37) % len(first)]
            out = {"schemas": [SCHEMA_PATCH], "Operations": [
                {"op": "remove", "path": f'members[value eq "{v}"]'}]}
            back = {"schemas": [SCHEMA_PATCH], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": v}]}]}
            for body in (out, back):
                churn[k % C].append((k, "PATCH", f"/Groups/{g0}", json.dumps(body).encode(), (200, 204), None))
        do("member_churn", None, churn)
        # untimed sanity check: members present on one group?
        try:
            cli = Client(u, args.token, args.request_timeout)
            j0, g0 = gids[0]
            st, body = cli.request("GET", f"/Groups/{g0}")
            doc = json.loads(body) if body else {}
            report["verify_group_members"] = {"status": st, "expected": mpg,
                                              "found": len(doc.get("members") or [])}
            print(f"[check] group {g0}: {report['verify_group_members']}", flush=True)
            cli.reset()
        except Exception as exc:  # noqa: BLE001
            report["verify_group_members"] = {"error": repr(exc)}

    # (iii c) a group of every user, then reads of it whole
    if uids and "everyone_fill" in phases:
        cli = Client(u, args.token, args.request_timeout)
        st, body = cli.request("POST", "/Groups", {"schemas": [SCHEMA_GROUP],
                                                   "displayName": f"bench-everyone-{run}"})
        cli.reset()
        everyone = json.loads(body)["id"] if st == 201 else None
        if everyone is None:
            print(f"[skip] everyone_fill: creating the group answered {st}", flush=True)
        else:
            fill = [(b, "PATCH", f"/Groups/{everyone}", json.dumps({"schemas": [SCHEMA_PATCH], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": v} for v in uids[b:b + 1000]]}]}).encode(),
                (200, 204), None) for b in range(0, len(uids), 1000)]
            # one worker: the PATCHes of one group are serialised anyway
            do("everyone_fill", None, [fill])
            expect = ("members", len(uids))
            reads = [(k, "GET", f"/Groups/{everyone}", None, (200,), expect)
                     for k in range(args.everyone_reads)]
            do("everyone_reads", reads)

    # (iv) filter lookups on userName (or on the user's work email: --lookup-by)
    lookup_filter = {
        "userName": lambda r, i: f'userName eq "bench-{r}-{i:06d}"',
        "email": lambda r, i: f'emails.value eq "bench-{r}-{i}@example.com"',
        "work-email": lambda r, i: f'emails[type eq "work"].value eq "bench-{r}-{i}@example.com"',
        "display-name": lambda r, i: f'displayName eq "Bench User {i}"',
        "username-prefix": lambda r, i: f'userName sw "bench-{r}-{i:06d}"',
    }[args.lookup_by]
    found = "some" if args.lookup_by == "display-name" else "one"
    idxs = sorted(user_ids)
    if idxs:
        names = [(run, i) for i in idxs]
        if args.lookup_among:
            earlier, count = args.lookup_among.split(":")
            names += [(earlier, i) for i in range(int(count))]
        tasks = []
        for k in range(L):
            r, i = rnd.choice(names)
            f = urllib.parse.quote(lookup_filter(r, i), safe="")
            tasks.append((k, "GET", f"/Users?filter={f}", None, (200,), found))
        do("filter_lookup", tasks)

    # (v) list pages
    if idxs:
        pages = max(1, math.ceil(len(idxs) / args.page_size))
        more = "&" + args.page_query if args.page_query else ""
        tasks = [(k, "GET", f"/Users?startIndex={1 + (k % pages) * args.page_size}&count={args.page_size}{more}",
                  None, (200,), "page") for k in range(pages * args.list_rounds)]
        do("list_pages", tasks)

    # (vi) PUT
    tasks = []
    for i in idxs:
        d = user_doc(run, i, rev=1)
        d["id"] = user_ids[i]
        tasks.append((i, "PUT", f"/Users/{user_ids[i]}", d, (200,), None))
    do("put_users", tasks)

    # (vii) DELETE
    do("delete_groups", [(j, "DELETE", f"/Groups/{gid}", None, (204,), None) for j, gid in gids])
    do("delete_users", [(i, "DELETE", f"/Users/{user_ids[i]}", None, (204,), None) for i in idxs])

    if sampler:
        sampler.stop_ev.set()
        sampler.join()
        after = read_rss_kib(args.server_pid)
        rss.update({"after": after, "peak_sampled_kib": sampler.peak})
        report["rss"] = rss
    report["total_wall_s"] = round(time.monotonic() - t_start, 2)

    # table
    hdr = (f"{'phase':14s} {'ops':>6s} {'ok':>6s} {'err':>5s} {'ops/s':>8s} {'p50ms':>8s} {'p90ms':>8s} {'p99ms':>8s} {'maxms':>8s}"
           f" {'srvCPUms/op':>11s} {'kernel':>6s} {'reads':>6s} {'writes':>6s} {'wKiB':>6s} {'switch':>6s}" + (f" {'auxCPUms/op':>11s}" if args.aux_pid else "") + f" {'load1m':>6s}")
    print(("\n== " + args.label if args.label else "\n==") + f" {args.base_url} N={N} groups={G} C={C}")
    print(hdr)
    for s in report["phases"]:
        if "skipped" in s:
            print(f"{s['phase']:14s} skipped ({s['skipped']})")
            continue
        print(f"{s['phase']:14s} {s['ops']:6d} {s['ok']:6d} {s['errors']:5d} {str(s['ops_per_s']):>8s} "
              f"{str(s['p50_ms']):>8s} {str(s['p90_ms']):>8s} {str(s['p99_ms']):>8s} {str(s['max_ms']):>8s}"
              f" {str(s.get('server_cpu_ms_per_op')):>11s} {str(s.get('server_kernel_share')):>6s} {str(s.get('server_file_reads_per_op')):>6s} {str(s.get('server_write_calls_per_op')):>6s} {str(s.get('server_kib_written_per_op')):>6s} {str(s.get('server_switches_per_op')):>6s}" + (f" {str(s.get('aux_cpu_ms_per_op')):>11s}" if args.aux_pid else "")
              + f" {str(s.get('loadavg_1m_after')):>6s}")
        if s["errors"]:
            print(f"{'':14s} errors: {s['error_kinds']}; e.g. {s['error_samples'][:1]}")
            if "HTTP 429" in s["error_kinds"]:
                print(f"{'':14s} 429 is the integration's rate limit: start the server with "
                      "ROSTER_SCIM_RATE=0 to measure work per request (scripts/bench does)")
        if s.get("not_run"):
            print(f"{'':14s} not run (phase timeout): {s['not_run']}")
    if "rss" in report:
        r = report["rss"]
        mib = lambda k: round(k / 1024, 1) if k else None
        print(f"server RSS MiB (pid tree, {r['after'].get('procs')} procs): before={mib(r['before'].get('VmRSS'))} "
              f"after={mib(r['after'].get('VmRSS'))} peak_sampled={mib(r['peak_sampled_kib'])} "
              f"sum VmHWM={mib(r['after'].get('VmHWM'))} Pss after={mib(r['after'].get('Pss'))}")
    print(f"total wall: {report['total_wall_s']}s; machine loadavg(1m) at end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    summary(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


def callgrind_control(flag, pid):
    subprocess.run(["callgrind_control", flag, str(pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)


def callgrind_phase_instructions(prefix, pid, phase):
    """Dumps the server's counts since the last zeroing and returns the instructions (Ir) the
    dump holds: every thread's (the dump's `totals:` lines, one file per thread or one in all)."""
    before = set(glob.glob(f"{prefix}.{pid}*"))
    callgrind_control("--dump=" + phase, pid)
    total = 0
    for path in sorted(set(glob.glob(f"{prefix}.{pid}*")) - before):
        with open(path) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    total += int(line.split()[1])
                    break
    return total


def _rss_mib(report):
    r = report.get("rss") or {}
    peak = r.get("peak_sampled_kib")
    return round(peak / 1024, 1) if peak else None


def summary(report):
    """The compact table: one line per phase."""
    counted = any(s.get("server_instr_k_per_op") for s in report["phases"] if "skipped" not in s)
    # --aux-pid: the database's processes (PostgreSQL), whose CPU is the other part of an op's cost.
    database = any("aux_cpu_ms_per_op" in s for s in report["phases"] if "skipped" not in s)
    print(f"\n{'phase':14s} {'ops':>6s} {'ops/s':>8s} {'p50ms':>7s} {'p99ms':>7s} {'CPUms/op':>9s} {'errors':>6s}"
          + (f" {'dbCPUms/op':>10s}" if database else "")
          + (f" {'kInstr/op':>10s}" if counted else ""))
    for s in report["phases"]:
        if "skipped" in s:
            continue
        print(f"{s['phase']:14s} {s['ops']:6d} {str(s['ops_per_s']):>8s} {str(s['p50_ms']):>7s} "
              f"{str(s['p99_ms']):>7s} {str(s.get('server_cpu_ms_per_op')):>9s} {s['errors']:6d}"
              + (f" {str(s.get('aux_cpu_ms_per_op')):>10s}" if database else "")
              + (f" {str(s.get('server_instr_k_per_op')):>10s}" if counted else ""))
    print(f"peak RSS (sampled): {_rss_mib(report)} MiB")


def spread(pairs):
    """Several runs of A against B (`a.json:b.json` each, one pair measured in one run): per
    phase the median and the range of the runs' A/B ratios, each side's median CPU ms/op, and
    the errors summed. One run's ratio moves by tens of percent on a shared machine; the median
    of several is the figure to hold a goal against."""
    runs = []
    for pair in pairs:
        a_path, sep, b_path = pair.partition(":")
        if not sep:
            sys.exit(f"--spread takes A_JSON:B_JSON pairs, not {pair}")
        with open(a_path) as f:
            a = json.load(f)
        with open(b_path) as f:
            b = json.load(f)
        runs.append((a, b))
    la, lb = runs[0][0].get("label") or "A", runs[0][1].get("label") or "B"
    a0 = runs[0][0]
    print(f"\nCPU ms/op over {len(runs)} runs, {la} vs {lb} (N={a0.get('users')}, C={a0.get('concurrency')}): "
          "medians, and the range of the runs' ratios")
    print(f"{'phase':14s} {la[:10]:>10s} {lb[:10]:>10s} {'ratio':>7s} {'range':>13s} {'over 2x':>7s} {'err':>9s}")
    for s in a0["phases"]:
        if "skipped" in s:
            continue
        name = s["phase"]
        xs, ys, ratios, ea, eb = [], [], [], 0, 0
        for a, b in runs:
            sa = next((t for t in a["phases"] if t["phase"] == name and "skipped" not in t), None)
            sb = next((t for t in b["phases"] if t["phase"] == name and "skipped" not in t), None)
            if not sa or not sb:
                continue
            x, y = sa.get("server_cpu_ms_per_op"), sb.get("server_cpu_ms_per_op")
            ea, eb = ea + sa["errors"], eb + sb["errors"]
            if x is None or not y:
                continue
            xs.append(x)
            ys.append(y)
            ratios.append(x / y)
        if not ratios:
            continue
        over = sum(r > 2 for r in ratios)
        print(f"{name:14s} {statistics.median(xs):10.3f} {statistics.median(ys):10.3f} "
              f"{statistics.median(ratios):6.2f}x {f'{min(ratios):.2f}-{max(ratios):.2f}x':>13s} "
              f"{f'{over}/{len(ratios)}':>7s} {f'{ea}/{eb}':>9s}")
    return 0


def compare(a_path, b_path):
    """Per phase: CPU ms/op of A and B and A/B (e.g. Roster / floor); the same for instructions
    when the runs counted them (--callgrind-out)."""
    with open(a_path) as f:
        a = json.load(f)
    with open(b_path) as f:
        b = json.load(f)
    la, lb = a.get("label") or "A", b.get("label") or "B"
    bp = {s["phase"]: s for s in b["phases"] if "skipped" not in s}

    def table(title, key, with_errors):
        print(f"\n{title}, {la} vs {lb} (N={a.get('users')}, C={a.get('concurrency')})")
        print(f"{'phase':14s} {la[:10]:>10s} {lb[:10]:>10s} {'ratio':>7s}" + (f" {'err':>9s}" if with_errors else ""))
        for s in a["phases"]:
            if "skipped" in s or s["phase"] not in bp:
                continue
            x, y = s.get(key), bp[s["phase"]].get(key)
            ratio = f"{x / y:.2f}x" if x is not None and y else "-"
            errs = f" {str(s['errors']) + '/' + str(bp[s['phase']]['errors']):>9s}" if with_errors else ""
            # A phase whose server threads changed was measured in clock ticks (thread_cpu_ns).
            ticks = with_errors and "ticks" in (s.get("cpu_clock"), bp[s["phase"]].get("cpu_clock"))
            print(f"{s['phase']:14s} {str(x):>10s} {str(y):>10s} {ratio:>7s}{errs}"
                  + ("  (clock ticks)" if ticks else ""))

    table("CPU ms/op", "server_cpu_ms_per_op", True)
    print(f"{'peak RSS MiB':14s} {str(_rss_mib(a)):>10s} {str(_rss_mib(b)):>10s}")
    if any(s.get("server_instr_k_per_op") for s in a["phases"] if "skipped" not in s):
        table("thousands of instructions per op (callgrind)", "server_instr_k_per_op", False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
