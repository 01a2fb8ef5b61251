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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from cases.models import Case, Category
from communities.models import Unit

from .views import FLOOR_TABLE

LUA = """
-- POST {path} with the CSRF cookie and token, a fresh submission token per request.
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "csrftoken={cookie}"
wrk.headers["Referer"] = "{origin}/report/"
local body = "csrfmiddlewaretoken={token}&category={category}&street={street}&community={community}"
  .. "&building=&unit=&website=&consent=on&resident_name=%E6%9D%A8%E5%A5%B3%E5%A3%AB"
  .. "&address=3%E5%8F%B7%E6%A5%BC"
  .. "&description=%E6%A5%BC%E9%81%93%E7%81%AF%E5%9D%8F%E4%BA%86%EF%BC%8C%E8%AF%B7%E7%BB%B4%E4%BF%AE"
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  counter = counter + 1
  local token = string.format("%08x%08x%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff),
                              math.random(0, 0x7fffffff), counter)
  local phone = string.format("139%08d", counter % 100000000)
  return wrk.format(nil, "{path}", nil, body .. "&submission=" .. token .. "&resident_phone=" .. phone)
end
"""


@dataclass
class Run:
    name: str
    rates: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)  # wrk's median latency per round
    errors: int = 0  # non-2xx/3xx responses and socket errors

    @property
    def rate(self) -> float:
        return sum(self.rates) / len(self.rates)


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

    @property
    def ratio(self) -> float:
        return self.form.rate / self.bare.rate if self.bare.rate else 0.0

    @property
    def floor_ratio(self) -> float:
        return self.floor.rate / self.bare.rate if self.bare.rate else 0.0

    def as_dict(self) -> dict:
        return {
            "workers": self.workers, "connections": self.connections, "seconds_per_round": self.seconds,
            "bare_requests_per_s": round(self.bare.rate, 1), "form_requests_per_s": round(self.form.rate, 1),
            "ratio": round(self.ratio, 3), "bare_errors": self.bare.errors, "form_errors": self.form.errors,
            "bare_median_latency_ms": self.bare.latency_ms, "form_median_latency_ms": self.form.latency_ms,
            "accept_only_requests_per_s": round(self.floor.rate, 1), "accept_only_ratio": round(self.floor_ratio, 3),
            "accept_only_errors": self.floor.errors, "accept_only_median_latency_ms": self.floor.latency_ms,
            "cases_created": self.cases_created, "worker_peak_rss_mb": self.worker_peak_mb,
        }


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
    """gunicorn started for the run and stopped after it, whatever happens."""

    def __init__(self, *, workers: int, port: int) -> None:
        self.workers, self.port = workers, port
        self.origin = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.static = tempfile.TemporaryDirectory(prefix="loadtest-static-")
        env = server_environment(self.static.name)
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], env=env,
                       cwd=settings.BASE_DIR, check=True)
        command = [sys.executable, "-m", "gunicorn", "governance.wsgi", "--workers", str(self.workers),
                   "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--backlog", "2048"]
        self.process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
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
                with urllib.request.urlopen(f"{self.origin}/healthz", timeout=2) as response:
                    if response.status == 200 and len(self.worker_pids()) == self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise LoadError("gunicorn did not answer /healthz within a minute.")

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

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
        self.static.cleanup()


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


def form_script(origin: str, community: Unit, path: str = "/report/") -> str:
    """The Lua hook, with a CSRF cookie and token as a browser gets them from GET /report/."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{origin}/report/?unit={community.code}", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    category = Category.objects.filter(active=True, children__isnull=True).order_by("sort_order", "pk").first()
    return LUA.format(cookie=cookie, origin=origin, token=token, category=category.pk,
                      street=community.parent_id, community=community.pk, path=path)


def wrk(url: str, *, connections: int, seconds: int, script: str | None = None) -> tuple[float, float, int]:
    """Requests per second, median latency (ms) and errors of one wrk run."""
    command = [wrk_path(), "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s", "--latency",
               url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command[1:1] = ["-s", lua.name]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    median = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[median.group(2)]
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout)[: ]+(\d+)",
                                            output))
    return rate, float(median.group(1)) * scale, errors


def run(*, community: Unit, workers: int, connections: int, seconds: int, rounds: int,
        out=print) -> Figures:
    wrk_path()
    bare, form, floor = Run("bare view"), Run("public form POST"), Run("accept-only POST")
    before = Case.objects.count()
    with floor_table():
        connection.close()  # the server's workers open their own
        with Server(workers=workers, port=free_port()) as server:
            runs = [
                (bare, f"{server.origin}/bench/bare/", None),
                (form, f"{server.origin}/report/", form_script(server.origin, community)),
                (floor, f"{server.origin}/bench/accept-only/",
                 form_script(server.origin, community, "/bench/accept-only/")),
            ]
            _load(runs, connections=connections, seconds=seconds, rounds=rounds, out=out)
            peaks = server.worker_peak_mb()
    return Figures(workers, connections, seconds, bare, form, floor, Case.objects.count() - before, peaks)


def _load(runs: list[tuple[Run, str, str | None]], *, connections: int, seconds: int, rounds: int, out) -> None:
    for _result, url, lua in runs:  # warm-up: every worker has imported and compiled what the page needs
        wrk(url, connections=connections, seconds=2, script=lua)
    for round_ in range(1, rounds + 1):
        for result, url, lua in runs:
            rate, median, errors = wrk(url, connections=connections, seconds=seconds, script=lua)
            result.rates.append(rate)
            result.latency_ms.append(round(median, 1))
            result.errors += errors
            out(f"  round {round_}: {result.name:<17} {rate:8.1f} requests/s, median {median:.1f} ms, "
                f"{errors} errors")
