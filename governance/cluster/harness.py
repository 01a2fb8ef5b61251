"""Start and stop loopback services for the cluster check and the replica tests.

Everything runs in the foreground as a child process whose id is kept, on 127.0.0.1, on a port
found free, with its data and log under one temporary directory. ``Services.stop_all`` stops
them in reverse order by process id; nothing is found or killed by name. PostgreSQL and
PgBouncer refuse to run as root: as root they run as the ``postgres`` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.pid} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def service_user() -> str | None:
    """The user PostgreSQL and PgBouncer run as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as error:
        raise RuntimeError("running as root needs a 'postgres' user (apt-get install postgresql-15)") from error
    return "postgres"


def give_to_service_user(path: Path) -> None:
    user = service_user()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    port: int | None = None
    stop_signal: int = signal.SIGTERM


@dataclass
class Services:
    root: Path
    running: list[Service] = field(default_factory=list)

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def start(self, name: str, argv: list[str], *, port: int | None = None, env: dict | None = None,
              as_service_user: bool = False, stop_signal: int = signal.SIGTERM, cwd: str | None = None,
              timeout: float = 30.0) -> Service:
        log = open(self.log(name), "ab")
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
            user=service_user() if as_service_user else None, start_new_session=True,
        )
        log.close()
        service = Service(name, process, port, stop_signal)
        self.running.append(service)
        if port is not None:
            try:
                wait_for_port(port, timeout=timeout, process=process)
            except RuntimeError as error:
                raise RuntimeError(f"{name}: {error}; see {self.log(name)}:\n{self.tail(name)}") from None
        return service

    def tail(self, name: str, lines: int = 15) -> str:
        try:
            return "\n".join(self.log(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def get(self, name: str) -> Service:
        return next(s for s in self.running if s.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL, as a host that dies: no clean shutdown."""
        service = self.get(name)
        # The whole process group at once (gunicorn's master and its workers): a host that dies.
        self._kill_group(service)
        service.process.wait(timeout=10)
        self.running.remove(service)

    def stop(self, name: str, timeout: float = 20.0) -> None:
        service = self.get(name)
        self._stop(service, timeout)
        self.running.remove(service)

    def stop_all(self) -> None:
        for service in reversed(list(self.running)):
            self._stop(service, 20.0)
        self.running.clear()

    def _stop(self, service: Service, timeout: float) -> None:
        process = service.process
        if process.poll() is None:
            try:
                os.kill(process.pid, service.stop_signal)
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._kill_group(service)

    @staticmethod
    def _kill_group(service: Service) -> None:
        # Children left in the process group we created for this service (by its id, which is
        # the group's id since start_new_session): e.g. gunicorn workers after a SIGKILL.
        try:
            os.killpg(service.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def pg_tool(name: str) -> str:
    path = PG_BIN / name
    if not path.exists():
        raise RuntimeError(f"{path} is missing: apt-get install postgresql-15 (or set PG_BIN)")
    return str(path)


def run_as_service_user(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, user=service_user(), check=True, capture_output=True, text=True, **kwargs)


POSTGRES_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    # A throwaway cluster: no crash of the machine to survive, so no flushing to disk.
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "60",
    # As deploy/README.md asks of production: the tally tables' dead rows reclaimed within seconds.
    "autovacuum_naptime": "10s",
    "logging_collector": "off",
    "log_min_messages": "warning",
}


@dataclass
class PostgresPair:
    """A primary and a streaming replica on loopback (initdb, pg_basebackup, postgres)."""

    services: Services
    primary_port: int = 0
    replica_port: int = 0

    @property
    def socket_dir(self) -> Path:
        return self.services.root / "sockets"

    def _argv(self, data: Path, port: int) -> list[str]:
        argv = [pg_tool("postgres"), "-D", str(data), "-p", str(port), "-k", str(self.socket_dir)]
        for key, value in POSTGRES_SETTINGS.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def start_primary(self) -> None:
        root = self.services.root
        self.socket_dir.mkdir(exist_ok=True)
        give_to_service_user(self.socket_dir)
        data = root / "primary"
        data.mkdir(mode=0o700)
        give_to_service_user(data)
        run_as_service_user([pg_tool("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        self.primary_port = free_port()
        # Fast shutdown on SIGINT: sessions are ended, nothing waits for clients.
        self.services.start("postgres-primary", self._argv(data, self.primary_port), port=self.primary_port,
                            as_service_user=True, stop_signal=signal.SIGINT)
        self.wait_ready(self.primary_port)

    def start_replica(self) -> None:
        data = self.services.root / "replica"
        data.mkdir(mode=0o700)
        give_to_service_user(data)
        run_as_service_user([pg_tool("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port),
                             "-U", "postgres", "-D", str(data), "-R", "-X", "stream", "-c", "fast", "--no-sync"])
        self.replica_port = free_port()
        self.services.start("postgres-replica", self._argv(data, self.replica_port), port=self.replica_port,
                            as_service_user=True, stop_signal=signal.SIGINT)
        self.wait_ready(self.replica_port)

    def stop_replica(self) -> None:
        self.services.stop("postgres-replica")

    @staticmethod
    def wait_ready(port: int, timeout: float = 60.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                                connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def url(self, port: int, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{dbname}"

    def connect(self, port: int, dbname: str, **kwargs):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname,
                               connect_timeout=5, autocommit=True, **kwargs)

    def wait_replayed(self, dbname: str = "postgres", timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with self.connect(self.primary_port, dbname) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with self.connect(self.replica_port, dbname) as replica:
            while True:
                done = replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]
                if done:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError("the replica did not catch up with the primary")
                time.sleep(0.1)


def make_temp_root(prefix: str) -> Path:
    import tempfile

    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(root, 0o755)  # the service user must reach its data directories inside
    return root


def remove_root(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
