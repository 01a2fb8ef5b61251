"""``make cluster-check``: the portal on a small cluster on loopback, under load, losing a host.

Starts, under one temporary directory and on free 127.0.0.1 ports: a PostgreSQL 15 primary and a
streaming replica (initdb, pg_basebackup), PgBouncer in transaction mode in front of the primary,
a Redis of its own, two gunicorn app hosts and HAProxy in front of them. Then, for ``--seconds``
(60): residents post the public form, supervisors open dashboards and the case queue, caseworkers
add progress notes to cases. Halfway, one app host is killed with SIGKILL; at three quarters the
replica is stopped. At the end it checks against the primary that every form post that got a
tracking code was stored, that every case action that answered success is on the case's
timeline, that dashboards were read from the replica while it ran and from the primary after,
that errors came only from requests in flight at the kill, and that the periodic jobs' advisory
lock lets one host run a job while another exits 0. It prints

    cluster: accepted N, stored N, actions A, recorded A, 5xx E, replica reads R

and the requests per second served by two hosts and by one, and exits 1 if anything accepted
was lost (or another check failed). Everything started is stopped by process id on the way out.

Figures on a shared machine are noisy: the load generator, both app hosts, HAProxy, PgBouncer,
Redis and both PostgreSQL servers share the same cores.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django_otp.oath import totp

from . import harness

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "yanshan-demo-2024"  # load_demo's published development password
READERS = ("area_secretary", "street_secretary")
ACTOR = "admin"
VERIFY_PATH = "/account/two-factor/verify/"


@functools.cache
def demo_totp_key() -> str:
    """The demo administrators' published second-factor key, from the one place that defines it."""
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from communities.demo import demo_totp_key; print(demo_totp_key())"],
        cwd=Path(__file__).resolve().parents[2], check=True, capture_output=True, text=True,
    ).stdout.split()[-1]  # the shell may first say what it imported


# --- the services ------------------------------------------------------------------------------


def ensure_packages() -> None:
    missing = [name for name in ("haproxy", "pgbouncer", "redis-server") if which(name) == name]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"cluster-check needs {', '.join(missing)}: apt-get install -y {' '.join(missing)}")
    print(f"installing {', '.join(missing)} (apt-get)", flush=True)
    command = ["apt-get", "install", "-y", "-q", *missing]
    if subprocess.run(command, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True)
        subprocess.run(command, check=True, capture_output=True)


def which(name: str) -> str:
    """The program's full path (sbin too, which a non-root PATH lacks), or its bare name when missing."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin:/sbin:/bin") or name


def pgbouncer_config(root: Path, port: int, primary_port: int) -> Path:
    (root / "userlist.txt").write_text('"postgres" ""\n')
    config = root / "pgbouncer.ini"
    config.write_text(f"""[databases]
portal = host=127.0.0.1 port={primary_port} dbname=portal user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root / "userlist.txt"}
pool_mode = transaction
max_client_conn = 200
default_pool_size = 12
ignore_startup_parameters = extra_float_digits,options
admin_users = postgres
""")
    harness.give_to_service_user(root / "userlist.txt")
    harness.give_to_service_user(config)
    return config


def haproxy_config(root: Path, port: int, app_ports: list[int]) -> Path:
    servers = "\n".join(
        f"    server app{n} 127.0.0.1:{p} check inter 1s fall 2 rise 2" for n, p in enumerate(app_ports, 1)
    )
    config = root / "haproxy.cfg"
    config.write_text(f"""global
    maxconn 256

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # A sync worker answers the probe after the request it is busy with: be patient with a
    # live host (a dead one refuses the connection at once and is down after two probes).
    timeout check 10s
    retries 2
    option redispatch
    retry-on conn-failure

frontend web
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    http-response set-header X-Served-By %[srv_name]
{servers}
""")
    return config


@dataclass
class Cluster:
    services: harness.Services
    pair: harness.PostgresPair
    app_env: dict
    haproxy_port: int = 0
    app_names: list[str] = field(default_factory=list)


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def start_cluster(root: Path, services: harness.Services, *, workers: int) -> Cluster:
    pair = harness.PostgresPair(services)
    step("PostgreSQL primary (initdb)")
    pair.start_primary()
    with pair.connect(pair.primary_port, "postgres") as admin:
        admin.execute("CREATE DATABASE portal")
        # Django wants UTC sessions; the database's default saves a SET on every new connection.
        admin.execute("ALTER DATABASE portal SET timezone TO 'UTC'")
    base_env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "S3_", "DJANGO_SETTINGS"))
    }
    setup_env = {**base_env, "DEBUG": "true", "DATABASE_URL": pair.url(pair.primary_port, "portal"),
                 "STATIC_ROOT": str(root / "static"), "LOG_LEVEL": "WARNING"}
    # The hashed static files (DEBUG off) are collected meanwhile; they need no database.
    collect_env = {**setup_env, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "127.0.0.1"}
    collect = subprocess.Popen([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=REPO,
                               env=collect_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    step("migrate and load the demo area")
    manage(setup_env, "migrate", "--no-input", "-v", "0")
    manage(setup_env, "load_demo")
    step("streaming replica (pg_basebackup)")
    pair.start_replica()

    redis_port = harness.free_port()
    services.start("redis", [which("redis-server"), "--port", str(redis_port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--protected-mode", "yes"], port=redis_port)
    bouncer_port = harness.free_port()
    services.start("pgbouncer", [which("pgbouncer"), str(pgbouncer_config(root, bouncer_port, pair.primary_port))],
                   port=bouncer_port, as_service_user=True)

    haproxy_port = harness.free_port()
    app_env = {
        **base_env,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{haproxy_port}",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{bouncer_port}/portal",
        "PGBOUNCER_TRANSACTION_MODE": "true",
        "DATABASE_LOCK_URL": pair.url(pair.primary_port, "portal"),
        "DATABASE_REPLICA_URLS": pair.url(pair.replica_port, "portal"),
        "DATABASE_REPLICA_HEADER": "true",
        "DATABASE_REPLICA_CHECK_SECONDS": "1",
        "DATABASE_REPLICA_STICKY_SECONDS": "3",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        # The load generator plays the outer TLS terminator, HAProxy the inner proxy.
        "TRUSTED_PROXY_COUNT": "2",
        "TRUSTED_PROXIES": "127.0.0.1",
        "MEDIA_ROOT": str(root / "media"),
        "STATIC_ROOT": str(root / "static"),
        "LOG_LEVEL": "WARNING",
    }
    _out, collect_errors = collect.communicate(timeout=300)
    if collect.returncode != 0:
        raise RuntimeError(f"collectstatic failed:\n{collect_errors[-3000:]}")
    step(f"two app hosts (gunicorn, {workers} workers each), HAProxy")
    cluster = Cluster(services, pair, app_env, haproxy_port)
    app_ports = []
    for number in (1, 2):
        port = harness.free_port()
        name = f"app{number}"
        services.start(name, [str(Path(sys.executable).with_name("gunicorn")), "governance.wsgi", "--workers",
                              str(workers), "--bind", f"127.0.0.1:{port}", "--timeout", "60",
                              "--access-logfile", "-",
                              "--access-logformat", '%(h)s "%(r)s" %(s)s %(M)sms'],
                       port=port, env=app_env, cwd=str(REPO), timeout=60)
        app_ports.append(port)
        cluster.app_names.append(name)
    services.start("haproxy", [which("haproxy"), "-db", "-f", str(haproxy_config(root, haproxy_port, app_ports))],
                   port=haproxy_port)
    return cluster


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Hit:
    kind: str
    start: float
    end: float
    status: int  # 0: no HTTP answer (connection refused or reset)
    database: str = ""
    server: str = ""


@dataclass
class Record:
    hits: list[Hit] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)
    limited: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)


class Browser:
    """One browser: its own cookies (sent over plain HTTP although the app marks them Secure)."""

    def __init__(self, origin: str, record: Record, address: str):
        import requests

        self.http = requests.Session()
        self.http.trust_env = False
        self.origin = origin
        self.record = record
        self.cookies: dict[str, str] = {}
        self.address = address

    def request(self, kind: str, method: str, path: str, data: dict | None = None):
        headers = {"X-Forwarded-For": self.address, "Origin": self.origin}
        start = time.monotonic()
        try:
            response = self.http.request(method, self.origin + path, data=data, headers=headers,
                                         cookies=self.cookies, allow_redirects=False, timeout=30)
        except Exception:  # noqa: BLE001 - refused, reset, timed out: no HTTP answer
            self.record.add(Hit(kind, start, time.monotonic(), 0))
            return None
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value
        self.record.add(Hit(kind, start, time.monotonic(), response.status_code,
                            response.headers.get("X-Portal-Database", ""), response.headers.get("X-Served-By", "")))
        return response

    def token(self, page: str) -> str | None:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        return match.group(1) if match else None

    def login(self, username: str) -> bool:
        page = self.request("login", "GET", "/accounts/login/")
        if page is None or page.status_code != 200:
            return False
        response = self.request("login", "POST", "/accounts/login/",
                                {"csrfmiddlewaretoken": self.token(page.text), "username": username,
                                 "password": PASSWORD})
        if response is None or response.status_code != 302:
            return False
        # The demo's administrators sign in with the published second factor (the verify page
        # sends everyone else on). A code is accepted once, within one step either side, so two
        # actors signing in together take neighbouring steps.
        key = bytes.fromhex(demo_totp_key())
        for drift in (-1, 0, 1):
            page = self.request("login", "GET", VERIFY_PATH)
            if page is None:
                return False
            if page.status_code == 302:
                return True
            code = f"{totp(key, drift=drift):06d}"
            response = self.request("login", "POST", VERIFY_PATH,
                                    {"csrfmiddlewaretoken": self.token(page.text), "code": code})
            if response is not None and response.status_code == 302 and VERIFY_PATH not in response.headers.get(
                "Location", ""
            ):
                return True
        return False


def resident(origin: str, record: Record, stop: threading.Event, go: threading.Event, places: dict,
             number: int) -> None:
    sent = 0
    browser = None
    go.wait()
    while not stop.is_set():
        if browser is None or sent % 4 == 0:  # the form allows 5 accepted posts per address in 10 min
            browser = Browser(origin, record, f"10.{number}.{random.randint(0, 255)}.{random.randint(1, 254)}")
        sent += 1
        page = browser.request("form", "GET", f"/report/?unit={places['community_code']}")
        if page is None or page.status_code != 200:
            time.sleep(0.2)
            continue
        data = {
            "csrfmiddlewaretoken": browser.token(page.text), "category": places["category"],
            "street": places["street"], "community": places["community"], "building": "", "unit": "",
            "address": "3号楼", "description": f"楼道灯坏了，请维修（负载测试 {uuid.uuid4().hex[:8]}）",
            "resident_name": "杨女士", "resident_phone": f"139{random.randint(0, 99999999):08d}",
            "consent": "on", "website": "", "submission": uuid.uuid4().hex,
        }
        response = browser.request("post", "POST", "/report/", data)
        if response is None:
            continue
        match = re.search(r"/report/done/([^/]+)/", response.headers.get("Location", ""))
        if response.status_code == 302 and match:
            with record.lock:
                record.accepted.append(match.group(1))
        elif response.status_code == 429:
            with record.lock:
                record.limited += 1


def reader(origin: str, record: Record, stop: threading.Event, go: threading.Event, username: str, unit: str,
           number: int) -> None:
    browser = Browser(origin, record, f"10.200.0.{number}")
    while not stop.is_set() and not browser.login(username):
        time.sleep(0.5)
    go.wait()
    while not stop.is_set():
        browser.request("dashboard", "GET", f"/dashboards/{unit}/")
        browser.request("queue", "GET", "/cases/")


def actor(origin: str, record: Record, stop: threading.Event, go: threading.Event, cases: list[str],
          number: int) -> None:
    browser = Browser(origin, record, f"10.201.0.{number}")
    while not stop.is_set() and not browser.login(ACTOR):
        time.sleep(0.5)
    go.wait()
    while not stop.is_set():
        code = random.choice(cases)
        page = browser.request("case", "GET", f"/cases/{code}/")
        if page is None or page.status_code != 200:
            continue
        note = f"负载测试进展 {uuid.uuid4().hex}"
        response = browser.request("action", "POST", f"/cases/{code}/progress/",
                                   {"csrfmiddlewaretoken": browser.token(page.text), "progress-note": note})
        if response is not None and response.status_code == 302 and f"/cases/{code}/" in response.headers.get(
            "Location", ""
        ):
            with record.lock:
                record.actions.append((code, note))


def load_places(pair: harness.PostgresPair) -> dict:
    with pair.connect(pair.primary_port, "portal") as db:
        category = db.execute(
            "SELECT id FROM cases_category c WHERE active AND NOT EXISTS "
            "(SELECT 1 FROM cases_category d WHERE d.parent_id = c.id) ORDER BY sort_order, id LIMIT 1"
        ).fetchone()[0]
        community, street, code = db.execute(
            "SELECT id, parent_id, code FROM communities_unit WHERE level = 'community' ORDER BY id LIMIT 1"
        ).fetchone()
        area = db.execute("SELECT code FROM communities_unit WHERE level = 'area' ORDER BY id LIMIT 1").fetchone()[0]
        street_code = db.execute("SELECT code FROM communities_unit WHERE id = %s", [street]).fetchone()[0]
        cases = [row[0] for row in db.execute(
            "SELECT code FROM cases_case WHERE status IN ('accepted', 'contacted', 'in_progress') ORDER BY id"
        )]
    return {"category": category, "community": community, "street": street, "community_code": code,
            "area": area, "street_code": street_code, "cases": cases}


def replica_transactions(pair: harness.PostgresPair) -> int:
    with pair.connect(pair.replica_port, "postgres") as db:
        row = db.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'portal'").fetchone()
    return row[0]


# --- the run -----------------------------------------------------------------------------------


STARTED = time.monotonic()


def step(message: str) -> None:
    print(f"· {time.monotonic() - STARTED:5.1f} s  {message}", flush=True)


def run(seconds: int, workers: int, keep: bool) -> int:
    ensure_packages()
    root = harness.make_temp_root("portal-cluster-")
    services = harness.Services(root)
    failed = True

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)  # so the finally below stops everything on the way out
    try:
        cluster = start_cluster(root, services, workers=workers)
        pair = cluster.pair
        places = load_places(pair)
        if not places["cases"]:
            raise RuntimeError("the demo area has no case being handled to act on")
        origin = f"http://127.0.0.1:{cluster.haproxy_port}"
        record = Record()
        stop, go = threading.Event(), threading.Event()
        threads = [threading.Thread(target=resident, args=(origin, record, stop, go, places, n)) for n in (1, 2, 3)]
        threads += [
            threading.Thread(target=reader, args=(origin, record, stop, go, READERS[0], places["area"], 1)),
            threading.Thread(target=reader, args=(origin, record, stop, go, READERS[1], places["street_code"], 2)),
        ]
        threads += [threading.Thread(target=actor, args=(origin, record, stop, go, places["cases"], n)) for n in (1, 2)]
        for thread in threads:
            thread.daemon = True  # never keeps the check alive if it fails half-way
            thread.start()
        # Staff log in first; a login is a write, which keeps that browser on the primary for
        # DATABASE_REPLICA_STICKY_SECONDS (read-your-writes), so the load starts after that.
        deadline = time.monotonic() + 60
        while sum(1 for h in list(record.hits) if h.kind == "login" and h.status == 302) < 4:
            if time.monotonic() > deadline:
                raise RuntimeError("the staff could not log in")
            time.sleep(0.2)
        time.sleep(float(cluster.app_env["DATABASE_REPLICA_STICKY_SECONDS"]) + 0.5)
        step(f"load through HAProxy for {seconds} s ({len(threads)} clients)")
        replica_before = replica_transactions(pair)
        began = time.monotonic()
        go.set()
        time.sleep(seconds / 2)
        killed_at = time.monotonic()
        services.kill("app1")
        step(f"app1 killed (SIGKILL) at {killed_at - began:.1f} s")
        time.sleep(seconds / 4)
        replica_reads_db = replica_transactions(pair) - replica_before
        replica_stopped_at = time.monotonic()
        pair.stop_replica()
        step(f"replica stopped at {replica_stopped_at - began:.1f} s")
        time.sleep(seconds / 4)
        stop.set()
        go.set()
        for thread in threads:
            thread.join(timeout=60)
        ended = time.monotonic()
        lock_ok = check_job_lock(cluster)
        failed = not report(record, pair, began=began, killed_at=killed_at, replica_stopped_at=replica_stopped_at,
                            ended=ended, replica_reads_db=replica_reads_db, lock_ok=lock_ok)
    except Exception as error:  # noqa: BLE001 - say what broke, then stop everything
        print(f"cluster: the check could not run: {error}", file=sys.stderr)
        for service in services.running:
            print(f"--- {service.name} log:\n{services.tail(service.name)}", file=sys.stderr)
    finally:
        services.stop_all()
        if keep or failed:
            print(f"logs and data kept in {root}")
        else:
            harness.remove_root(root)
    return 1 if failed else 0


def check_job_lock(cluster: Cluster) -> bool:
    """One host's job holds the lock: another host's run exits 0 saying so; then it runs."""
    from cases.locks import lock_key

    with cluster.pair.connect(cluster.pair.primary_port, "portal") as other_host:
        other_host.execute("SELECT pg_advisory_lock(%s)", [lock_key("send_reminders")])
        refused = manage(cluster.app_env, "send_reminders")
        other_host.execute("SELECT pg_advisory_unlock(%s)", [lock_key("send_reminders")])
    ran = manage(cluster.app_env, "send_reminders")
    ok = "already running on another host" in refused and "contact and" in ran
    print(f"periodic job lock: while held elsewhere -> {refused.strip()!r}; then -> {ran.strip()!r}")
    return ok


def report(record: Record, pair: harness.PostgresPair, *, began: float, killed_at: float, replica_stopped_at: float,
           ended: float, replica_reads_db: int, lock_ok: bool) -> bool:
    with pair.connect(pair.primary_port, "portal") as db:
        stored = db.execute("SELECT count(*) FROM cases_case WHERE code = ANY(%s)", [record.accepted]).fetchone()[0]
        notes = [note for _code, note in record.actions]
        recorded_pairs = set(db.execute(
            "SELECT c.code, e.note FROM cases_timelineevent e JOIN cases_case c ON c.id = e.case_id "
            "WHERE e.action = 'progress' AND e.note = ANY(%s)", [notes]
        ).fetchall())
    recorded = sum(1 for pair_ in record.actions if pair_ in recorded_pairs)
    hits = record.hits
    errors = [h for h in hits if h.status == 0 or h.status >= 500]
    fivexx = sum(1 for h in errors if h.status >= 500)
    stray = [h for h in errors if not (h.start <= killed_at + 0.2 and h.end >= killed_at - 0.2)]
    dashboards_up = [h for h in hits if h.kind == "dashboard" and h.status == 200 and h.end < replica_stopped_at]
    dashboards_down = [h for h in hits if h.kind == "dashboard" and h.status == 200 and h.start > replica_stopped_at]
    replica_reads = sum(1 for h in dashboards_up if h.database == "replica")
    after_on_primary = sum(1 for h in dashboards_down if h.database == "primary")

    def rate(start: float, end: float) -> float:
        return sum(1 for h in hits if start <= h.end < end and h.status and h.kind != "login") / max(end - start, 0.001)

    two_hosts = rate(began + 3, killed_at)
    one_host = rate(killed_at + 2, replica_stopped_at)
    one_host_primary_only = rate(replica_stopped_at + 2, ended)
    served_by = {}
    for h in hits:
        if h.end < killed_at and h.server:
            served_by[h.server] = served_by.get(h.server, 0) + 1

    print(f"cluster: accepted {len(record.accepted)}, stored {stored}, actions {len(record.actions)}, "
          f"recorded {recorded}, 5xx {fivexx}, replica reads {replica_reads}")
    print(f"requests/s: two hosts {two_hosts:.1f}, one host {one_host:.1f} (replica up), "
          f"{one_host_primary_only:.1f} (replica down); ratio {two_hosts / max(one_host, 0.001):.2f} "
          f"(noisy: all services and the load share this machine's cores)")
    print(f"before the kill: {served_by}; errors {len(errors)} ({fivexx} 5xx, {len(errors) - fivexx} without answer), "
          f"{len(stray)} not in flight at the kill; rate-limited posts {record.limited}")
    print(f"dashboards: {replica_reads}/{len(dashboards_up)} from the replica while it ran "
          f"({replica_reads_db} transactions counted on it), {after_on_primary}/{len(dashboards_down)} from the "
          f"primary after it stopped")
    problems = []
    if stored != len(record.accepted):
        problems.append(f"{len(record.accepted) - stored} accepted reports are missing")
    if recorded != len(record.actions):
        problems.append(f"{len(record.actions) - recorded} successful actions are not on their timelines")
    if not record.accepted or not record.actions:
        problems.append("no report or no action went through")
    if stray:
        problems.append(f"{len(stray)} errors outside the kill, e.g. {stray[0]}")
    if not dashboards_up or replica_reads < 0.9 * len(dashboards_up) or replica_reads_db <= 0:
        problems.append("dashboards were not read from the replica while it ran")
    if not dashboards_down or after_on_primary != len(dashboards_down):
        problems.append("dashboards were not read from the primary after the replica stopped")
    if not lock_ok:
        problems.append("the periodic jobs' advisory lock did not keep the second run out")
    for problem in problems:
        print(f"cluster: FAILED: {problem}", file=sys.stderr)
    return not problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of the load (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app host (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    args = parser.parse_args()
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    sys.exit(run(args.seconds, args.workers, args.keep))


if __name__ == "__main__":
    main()
