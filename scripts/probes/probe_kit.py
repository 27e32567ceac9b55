"""What the probes share: a release server started on loopback, SCIM requests to it, and the
checks' tally. Imported by every probe (their folder is on sys.path)."""
import atexit, json, os, shutil, socket, subprocess, sys, time, urllib.error, urllib.request

failures = []


def check(name, cond, detail=""):
    """Prints one line for a check; a failed one is counted for finish()."""
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"  {detail}"))
    if not cond:
        failures.append(name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(port, database_url):
    """The settings of a server on `port` over `database_url`, without the rate limit or a seeded admin."""
    env = dict(os.environ, ROSTER_DATABASE_URL=database_url, LEPTOS_SITE_ADDR=f"127.0.0.1:{port}",
               ROSTER_PUBLIC_URL=f"http://127.0.0.1:{port}", ROSTER_SCIM_RATE="0", RUST_LOG="warn")
    env.pop("ROSTER_ADMIN_USERNAME", None)
    env.pop("ROSTER_ADMIN_PASSWORD", None)
    return env


def postgres_database(prefix):
    """A new database on the PostgreSQL of ROSTER_TEST_POSTGRES_URL (`scripts/postgres run`), dropped
    at exit: its URL."""
    admin = os.environ["ROSTER_TEST_POSTGRES_URL"]
    name = f"{prefix}_{os.getpid()}"
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    atexit.register(lambda: subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"]))
    return admin.rsplit("/", 1)[0] + "/" + name


def scim_integration(binary, env, name):
    """A new SCIM integration of tenant `main`, made by `binary scim create` on env's database (which
    it migrates): its `endpoint`, `token` and the rest of what the command prints."""
    made = subprocess.run([binary, "scim", "create", "--tenant", "main", "--name", name], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(made.stdout)


def serve(binary, env, log):
    """Starts `binary serve` (killed at exit if still running) and waits for /healthz, 15 s at most."""
    srv = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    atexit.register(lambda: srv.poll() is None and srv.kill())
    health = f"http://{env['LEPTOS_SITE_ADDR']}/healthz"
    for _ in range(150):
        try:
            urllib.request.urlopen(health, timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    return srv


def req(method, url, token=None, body=None, headers=None, raw=None):
    """(status, lower-cased headers, JSON body or text) of one request."""
    h = {"Content-Type": "application/scim+json"}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    r = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            t = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, (json.loads(t) if t else None)
    except urllib.error.HTTPError as e:
        t = e.read()
        try:
            j = json.loads(t)
        except Exception:
            j = t.decode(errors="replace")
        return e.code, {k.lower(): v for k, v in e.headers.items()}, j


def no_errors_logged(what, paths):
    lines = [l for p in paths for l in open(p) if "ERROR" in l or "panick" in l]
    check(f"no ERROR or panic in {what}", not lines, lines[:3])


def finish(tmp):
    """Prints the tally and exits 1 on a failure (keeping `tmp` to read), else removes `tmp`."""
    print(f"{len(failures)} failures")
    if failures:
        print(f"the servers' files: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failures else 0)
