"""Throughput of the public form under concurrent load, beside a bare Django view, in one run.

The portal runs under gunicorn (the production server, see README) with the loadtest
settings (``benchmarks.loadtest.settings``: the bare view added, rate limits off, DEBUG off
as in production). The load comes from ``wrk`` (Debian package ``wrk``): a C event loop that
keeps many connections busy from one thread, so on a small machine the load generator
takes little of the CPU the server needs; its Lua hook gives each POST a fresh
submission token (the form refuses a token twice) and the CSRF cookie and field a browser
would send. A Python load generator (locust) would need a process per core and more CPU
than the server it measures.

After two seconds of warm-up on each, the bare view, the form and the accept-only view (the
same form checked and stored as one row: the floor of any design of the form, see
``loadtest.views``) are loaded in turn, ``rounds`` times each, against the same workers; the
ratio of the form's mean rate to the bare view's is the figure, the accept-only view's ratio
tells how much of the gap any design could close. Each worker's peak resident memory (VmHWM)
is read from /proc before the server is stopped.

With a ``helpdesk.Helpdesk``, django-helpdesk's public submit runs under its own gunicorn beside
the portal's (same workers) and is loaded in the same rounds, so both meet the same noise; the
form's rate over its rate is the issue's figure. Then the form is offered a fixed rate, open loop
(``openloop``), for its latency percentiles.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from cases.models import Case, Category
from communities.models import Unit

from . import helpdesk, openloop
from .views import FLOOR_TABLE

LUA = """
-- POST {path} with the CSRF cookie and token, fresh fields per request ({fresh}).
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "csrftoken={cookie}"
wrk.headers["Referer"] = "{referer}"
local body = "{body}"
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  counter = counter + 1
  local token = string.format("%08x%08x%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff),
                              math.random(0, 0x7fffffff), counter)
  return wrk.format(nil, "{path}", nil, body .. {fresh})
end
"""
# The portal's form refuses a submission token twice; the phone varies as residents' do.
PORTAL_FRESH = '"&submission=" .. token .. "&resident_phone=" .. string.format("139%08d", counter % 100000000)'
REPORT_FIELDS = (
    "&building=&unit=&website=&consent=on&resident_name=%E6%9D%A8%E5%A5%B3%E5%A3%AB&address=3%E5%8F%B7%E6%A5%BC"
    "&description=%E6%A5%BC%E9%81%93%E7%81%AF%E5%9D%8F%E4%BA%86%EF%BC%8C%E8%AF%B7%E7%BB%B4%E4%BF%AE"
)


@dataclass
class Post:
    """One form's submission as a browser sends it: the CSRF cookie and token from GET, the fields, fresh ones per request."""

    origin: str
    path: str
    referer: str
    cookie: str
    body: str  # url-encoded, the CSRF token included
    fresh_lua: str

    def lua(self) -> str:
        return LUA.format(path=self.path, cookie=self.cookie, referer=self.referer, body=self.body,
                          fresh=self.fresh_lua)

    def http(self, extra: str) -> bytes:
        """The whole HTTP/1.1 request with ``extra`` (url-encoded fields) appended to the body."""
        body = (self.body + extra).encode()
        host = self.origin.removeprefix("http://")
        return (f"POST {self.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Cookie: csrftoken={self.cookie}\r\nReferer: {self.referer}\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n").encode() + body


def portal_fresh(number: int) -> str:
    """What the Lua hook appends for request ``number`` of the portal's form, for the open-loop generator."""
    return f"&submission={secrets.token_hex(16)}&resident_phone=139{number % 100_000_000:08d}"


def csrf(url: str) -> tuple[str, str]:
    """The CSRF cookie and the form's token, as a browser gets them from GET ``url``."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url, timeout=30) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return next(c.value for c in jar if c.name == "csrftoken"), token


@dataclass
class Run:
    name: str
    rates: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)  # wrk's median latency per round
    cpu_ms: list[float] = field(default_factory=list)  # the gunicorn workers' CPU per answered request, per round
    errors: int = 0  # non-2xx/3xx responses and socket errors

    @property
    def rate(self) -> float:
        return sum(self.rates) / len(self.rates)

    @property
    def cpu(self) -> float:
        return sum(self.cpu_ms) / len(self.cpu_ms) if self.cpu_ms else 0.0


@dataclass
class Figures:
    workers: int
    connections: int
    seconds: int
    bare: Run
    form: Run
    floor: Run
    cases_created: int
    worker_peak_mb: list[float]
    helpdesk: Run | None = None  # django-helpdesk's public submit, same conditions
    helpdesk_tickets: int = 0
    latency: openloop.Latency | None = None  # the form at a fixed offered rate, open loop

    HELPDESK_BAR = 3.0  # issue 20: the public form at least three times django-helpdesk's submit
    P99_BAR_MS = 50.0  # issue 20: p99 at 100 requests/s offered

    @property
    def ratio(self) -> float:
        return self.form.rate / self.bare.rate if self.bare.rate else 0.0

    @property
    def floor_ratio(self) -> float:
        return self.floor.rate / self.bare.rate if self.bare.rate else 0.0

    @property
    def helpdesk_ratio(self) -> float | None:
        if self.helpdesk is None:
            return None
        return self.form.rate / self.helpdesk.rate if self.helpdesk.rate else 0.0

    def as_dict(self) -> dict:
        figures = {
            "workers": self.workers, "connections": self.connections, "seconds_per_round": self.seconds,
            "bare_requests_per_s": round(self.bare.rate, 1), "form_requests_per_s": round(self.form.rate, 1),
            "ratio": round(self.ratio, 3), "bare_errors": self.bare.errors, "form_errors": self.form.errors,
            "bare_median_latency_ms": self.bare.latency_ms, "form_median_latency_ms": self.form.latency_ms,
            "accept_only_requests_per_s": round(self.floor.rate, 1), "accept_only_ratio": round(self.floor_ratio, 3),
            "accept_only_errors": self.floor.errors, "accept_only_median_latency_ms": self.floor.latency_ms,
            "cases_created": self.cases_created, "worker_peak_rss_mb": self.worker_peak_mb,
            "worker_cpu_ms_per_request": {"bare": self.bare.cpu_ms, "form": self.form.cpu_ms,
                                          "accept_only": self.floor.cpu_ms},
        }
        if self.helpdesk is not None:
            figures["helpdesk"] = {
                "version": helpdesk.VERSION, "requests_per_s": round(self.helpdesk.rate, 1),
                "rates": [round(rate, 1) for rate in self.helpdesk.rates], "errors": self.helpdesk.errors,
                "median_latency_ms": self.helpdesk.latency_ms, "tickets_created": self.helpdesk_tickets,
                "worker_cpu_ms_per_request": self.helpdesk.cpu_ms,
                "form_to_helpdesk": round(self.helpdesk_ratio, 2), "bar": self.HELPDESK_BAR,
                "holds": self.helpdesk_ratio >= self.HELPDESK_BAR,
            }
        if self.latency is not None:
            figures["fixed_rate"] = {**self.latency.as_dict(), "p99_bar_ms": self.P99_BAR_MS,
                                     "holds": self.latency.errors == 0 and self.latency.ms(0.99) <= self.P99_BAR_MS}
        return figures


class LoadError(RuntimeError):
    pass


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise LoadError("wrk is not installed: apt-get install wrk (Debian), then run again.")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(static_root: str) -> dict[str, str]:
    """Production-like settings for the server, on the same database as this process."""
    database = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.loadtest.settings", "DEBUG": "False",
           "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
           "SECURE_SSL_REDIRECT": "False", "LOG_LEVEL": "WARNING", "LOADTEST_STATIC_ROOT": static_root}
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = f"sqlite:///{database['NAME']}"
    return env


class Server:
    """The portal under gunicorn, started for the run and stopped after it, whatever happens."""

    health_path = "/healthz"

    def __init__(self, *, workers: int, port: int) -> None:
        self.workers, self.port = workers, port
        self.origin = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> subprocess.Popen:
        self.static = tempfile.TemporaryDirectory(prefix="loadtest-static-")
        env = server_environment(self.static.name)
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], env=env,
                       cwd=settings.BASE_DIR, check=True)
        command = [sys.executable, "-m", "gunicorn", "governance.wsgi", "--workers", str(self.workers),
                   "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--backlog", "2048"]
        return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)

    def stop(self) -> None:
        self.static.cleanup()

    def __enter__(self) -> Server:
        self.process = self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LoadError(f"gunicorn exited with {self.process.returncode} before answering.")
            try:
                with urllib.request.urlopen(f"{self.origin}{self.health_path}", timeout=2) as response:
                    if response.status == 200 and len(self.worker_pids()) == self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise LoadError(f"gunicorn did not answer {self.health_path} within a minute.")

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def worker_cpu_seconds(self) -> float:
        """User and system CPU the workers have used: per request, a cost that other load on the machine hardly moves."""
        total = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
        return total / os.sysconf("SC_CLK_TCK")

    def worker_peak_mb(self) -> list[float]:
        """VmHWM of each worker: the most resident memory it has held."""
        peaks = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(round(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024, 1))
        return peaks

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stop()


class HelpdeskServer(Server):
    """django-helpdesk's generated project under gunicorn from its own virtualenv, same workers."""

    health_path = helpdesk.SUBMIT_PATH

    def __init__(self, desk: helpdesk.Helpdesk, *, workers: int, port: int) -> None:
        super().__init__(workers=workers, port=port)
        self.desk = desk

    def start(self) -> subprocess.Popen:
        return subprocess.Popen(self.desk.server_command(workers=self.workers, port=self.port),
                                env=self.desk.environment(), cwd=self.desk.project)

    def stop(self) -> None:
        pass


def prepare_helpdesk(root: Path, out=print) -> helpdesk.Helpdesk:
    """django-helpdesk installed (once), its project written, its database created and migrated, its queue made."""
    desk = helpdesk.Helpdesk(root)
    desk.install(out=out)
    database = helpdesk.database_for(settings.DATABASES["default"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{database["NAME"]}"')
    connection.close()
    desk.write_project(database=database, redis_url=settings.REDIS_URL)
    desk.prepare()
    return desk


@contextmanager
def floor_table():
    """The accept-only view's table, for the run only: an ordinary (logged, durable) table, as a queue's would be."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (code varchar(16) PRIMARY KEY, "
                       "received_at timestamp with time zone NOT NULL, fields text NOT NULL)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")


def form_post(origin: str, community: Unit, path: str = "/report/") -> Post:
    """The public form's submission (or the accept-only view's, same fields), CSRF as from GET /report/."""
    cookie, token = csrf(f"{origin}/report/?unit={community.code}")
    category = Category.objects.filter(active=True, children__isnull=True).order_by("sort_order", "pk").first()
    return Post(origin, path, f"{origin}/report/", cookie, report_body(token, category, community), PORTAL_FRESH)


def report_body(token: str, category: Category, community: Unit) -> str:
    """The fixed fields of a resident's report (url-encoded), the fresh ones left to ``PORTAL_FRESH``."""
    return (f"csrfmiddlewaretoken={token}&category={category.pk}&street={community.parent_id}"
            f"&community={community.pk}{REPORT_FIELDS}")


def helpdesk_post(origin: str, queue_id: int) -> Post:
    """django-helpdesk's anonymous ticket submission, CSRF as from GET of its public form."""
    url = f"{origin}{helpdesk.SUBMIT_PATH}"
    cookie, token = csrf(url)
    return Post(origin, helpdesk.SUBMIT_PATH, url, cookie, helpdesk.ticket_body(token, queue_id), helpdesk.fresh_lua())


def wrk(url: str, *, connections: int, seconds: int, script: str | None = None) -> tuple[float, float, int, int]:
    """Requests per second, median latency (ms), errors and requests answered of one wrk run."""
    command = [wrk_path(), "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s", "--latency",
               url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command[1:1] = ["-s", lua.name]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> tuple[float, float, int, int]:
    """Requests per second, median latency (ms), errors and requests answered from wrk's --latency report."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    median = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[median.group(2)]
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout)[: ]+(\d+)",
                                            output))
    return rate, float(median.group(1)) * scale, errors, int(re.search(r"(\d+) requests in", output).group(1))


TALLY_TABLES = ("cases_daytally", "cases_categorytally", "cases_worktally")


def autovacuum_is_off() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        off = cursor.fetchone()[0] == "off"
    connection.close()  # the workers hold their own; this process only asks between runs
    return off


def vacuum_tallies() -> None:
    """The tally rows every report rewrites, vacuumed (what autovacuum does on a production server):
    without it their old versions pile up run after run and slow every later report."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(TALLY_TABLES)}")
    connection.close()


def run(*, community: Unit, workers: int, connections: int, seconds: int, rounds: int,
        desk: helpdesk.Helpdesk | None = None, latency_rate: float = 100, latency_seconds: float = 30,
        out=print) -> Figures:
    """The rounds of wrk (the helpdesk's submit in each when ``desk``), then the fixed-rate latency of the form."""
    wrk_path()
    bare, form, floor = Run("bare view"), Run("public form POST"), Run("accept-only POST")
    other = Run("django-helpdesk") if desk else None
    before, tickets_before = Case.objects.count(), desk.ticket_count() if desk else 0
    latency = None
    with floor_table(), ExitStack() as servers:
        connection.close()  # the server's workers open their own
        server = servers.enter_context(Server(workers=workers, port=free_port()))
        runs = [
            (bare, server, f"{server.origin}/bench/bare/", None),
            (form, server, f"{server.origin}/report/", form_post(server.origin, community).lua()),
            (floor, server, f"{server.origin}/bench/accept-only/",
             form_post(server.origin, community, "/bench/accept-only/").lua()),
        ]
        if desk:  # started beside the portal: its idle workers cost nothing while the others are loaded
            helpdesk_server = servers.enter_context(HelpdeskServer(desk, workers=workers, port=free_port()))
            runs.append((other, helpdesk_server, f"{helpdesk_server.origin}{helpdesk.SUBMIT_PATH}",
                         helpdesk_post(helpdesk_server.origin, desk.queue_id).lua()))
        tidy = vacuum_tallies if autovacuum_is_off() else None
        if tidy:
            out("  autovacuum is off on this server: the tally tables are vacuumed before each run, as autovacuum "
                "does every 1 000 dead rows on a production server (cases migration 0016).")
        _load(runs, connections=connections, seconds=seconds, rounds=rounds, out=out, tidy=tidy)
        if latency_seconds > 0:
            time.sleep(2)  # the last wrk run's backlog drained
            if tidy:
                tidy()
            post = form_post(server.origin, community)
            out(f"  {latency_rate:g} POST /report/ per second for {latency_seconds:g} s, open loop …")
            latency = openloop.run("127.0.0.1", server.port, lambda n: post.http(portal_fresh(n)),
                                   rate=latency_rate, seconds=latency_seconds)
        peaks = server.worker_peak_mb()
    tickets = desk.ticket_count() - tickets_before if desk else 0
    return Figures(workers, connections, seconds, bare, form, floor, Case.objects.count() - before, peaks,
                   helpdesk=other, helpdesk_tickets=tickets, latency=latency)


def _load(runs: list[tuple[Run, Server, str, str | None]], *, connections: int, seconds: int, rounds: int,
          out, tidy: Callable[[], None] | None = None) -> None:
    for _result, _server, url, lua in runs:  # warm-up: every worker has imported and compiled what the page needs
        wrk(url, connections=connections, seconds=2, script=lua)
    for round_ in range(1, rounds + 1):
        for result, server, url, lua in runs:
            if tidy:
                tidy()
            cpu = server.worker_cpu_seconds()
            rate, median, errors, answered = wrk(url, connections=connections, seconds=seconds, script=lua)
            cpu_ms = (server.worker_cpu_seconds() - cpu) * 1000 / max(answered, 1)
            result.rates.append(rate)
            result.latency_ms.append(round(median, 1))
            result.cpu_ms.append(round(cpu_ms, 2))
            result.errors += errors
            out(f"  round {round_}: {result.name:<17} {rate:8.1f} requests/s, median {median:.1f} ms, "
                f"workers' CPU {cpu_ms:.2f} ms/request, {errors} errors")
