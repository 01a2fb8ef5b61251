"""Heavy reads on a PostgreSQL streaming replica, everything else on the primary.

``ReplicaReadMiddleware`` (governance.cluster.middleware) marks a GET of one of the views named
in ``DATABASE_REPLICA_VIEWS`` as replica-eligible for the duration of that request; this router
then sends the request's reads to a healthy replica. Every write goes to the primary, and once a
request has written (or asked for a row lock), its later reads go to the primary too. Outside a
marked request the router has no opinion (``None``), so the portal behaves exactly as with one
database.

A replica is healthy when it answers and its replay is at most ``DATABASE_REPLICA_MAX_LAG_SECONDS``
behind what it has received from the primary. The verdict is kept per process for
``DATABASE_REPLICA_CHECK_SECONDS``: one cheap query every few seconds, not one per request.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger("portal.cluster")

# Lag as PostgreSQL itself defines it on a standby: nothing is waiting to be replayed, or the age
# of the last replayed transaction. NULL functions (a promoted or non-standby server) mean "no lag".
LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


@dataclass
class RequestDatabases:
    """Where one request's queries go."""

    replica: str | None = None  # the alias reads go to while nothing was written
    wrote: bool = False
    read_replica: bool = False  # a query was actually answered by the replica
    eligible: bool = False  # the view is a heavy read the replica may serve


_current: contextvars.ContextVar[RequestDatabases | None] = contextvars.ContextVar("portal_databases", default=None)
_health: dict[str, tuple[float, bool]] = {}


def current() -> RequestDatabases | None:
    return _current.get()


def begin() -> contextvars.Token:
    return _current.set(RequestDatabases())


def end(token: contextvars.Token) -> None:
    _current.reset(token)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def healthy(alias: str) -> bool:
    now = time.monotonic()
    checked = _health.get(alias)
    if checked and now - checked[0] < settings.DATABASE_REPLICA_CHECK_SECONDS:
        return checked[1]
    ok = probe(alias)
    _health[alias] = (now, ok)
    return ok


def probe(alias: str) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            lag = float(cursor.fetchone()[0] or 0)
    except DatabaseError as error:
        logger.warning("replica %s unreachable, reading from the primary: %s", alias, error)
        close_quietly(alias)
        return False
    if lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
        logger.warning("replica %s is %.1f s behind, reading from the primary", alias, lag)
        return False
    return True


def mark_down(alias: str) -> None:
    """Keep reads off this replica until the next check is due."""
    _health[alias] = (time.monotonic(), False)
    close_quietly(alias)


def close_quietly(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass


def choose_replica() -> str | None:
    candidates = [alias for alias in replica_aliases() if healthy(alias)]
    return random.choice(candidates) if candidates else None


# Who is asking, and with which rights, is always read from the primary: a token, a password
# change or a lockout must count at once, not after the replica has replayed it.
PRIMARY_APPS = frozenset({"auth", "authtoken", "sessions", "axes", "contenttypes"})


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        state = _current.get()
        if state is None or state.replica is None or state.wrote or model._meta.app_label in PRIMARY_APPS:
            return None
        state.read_replica = True
        return state.replica

    def db_for_write(self, model, **hints):
        state = _current.get()
        if state is not None:
            state.wrote = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # A row read from a replica is the same row as on the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db in replica_aliases():
            return False
        return None
