"""One host at a time for periodic jobs: a PostgreSQL advisory lock.

Cron (or a systemd timer) may run ``send_reminders`` and ``freeze_scores`` on every app host at
once. The first to take the lock does the work; the others find it taken and exit 0 saying so. The
lock is session-level and held on a connection of its own, so it covers every transaction the job
commits and is released by PostgreSQL if the job's process dies. Behind PgBouncer in transaction
mode a session-level lock would stay on whichever server connection took it: set
``DATABASE_LOCK_URL`` to the primary itself (or a session-mode pool). On SQLite (one host by
definition) the job just runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are per database)."""
    return int.from_bytes(hashlib.blake2b(f"portal-job:{name}".encode(), digest_size=8).digest(), "big", signed=True)


def _connect():
    import environ
    import psycopg

    url = getattr(settings, "DATABASE_LOCK_URL", "")
    params = environ.Env.db_url_config(url) if url else connection.settings_dict
    return psycopg.connect(
        dbname=params["NAME"], user=params.get("USER") or None, password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None, port=params.get("PORT") or None, autocommit=True,
        connect_timeout=10, application_name="portal-job-lock",
    )


@contextmanager
def run_alone(name: str) -> Iterator[bool]:
    """Yield True when this process holds the job's lock (and must do the work), else False."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = lock_key(name)
    with _connect() as lock_connection:
        got = lock_connection.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
        try:
            yield bool(got)
        finally:
            if got:
                lock_connection.execute("SELECT pg_advisory_unlock(%s)", [key])
