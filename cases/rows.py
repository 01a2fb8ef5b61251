"""A model row's INSERT as SQL text written once per process, for statements the ORM cannot make
(several inserts of one change in a single round trip, see ``services.intake``).

The values are prepared as the ORM prepares them (``pre_save``, ``get_db_prep_save``); only the
compilation of the statement, the same for every row, is skipped. On PostgreSQL such a statement
may also be prepared on the server (``fetch_one_prepared``), so it is parsed and planned once per
connection rather than once per request.
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import NOT_PROVIDED, Model


class NotPlain(Exception):
    """A value the ORM would compile as an expression (a database default, ``F()``): use the ORM."""


class RowInsert:
    def __init__(self, model: type[Model], *, leading: tuple[str, ...] = ()) -> None:
        """``leading``: attnames put first, whose values the caller writes itself (from a CTE)."""
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
        if any(hasattr(f, "get_placeholder") for f in fields):
            raise TypeError(f"{model.__name__} has a field with a placeholder of its own: use the ORM.")
        quote = connections["default"].ops.quote_name
        self.table = quote(meta.db_table)
        self.pk = meta.pk
        self.pk_column = quote(self.pk.column)
        self.leading = ", ".join(quote(f.column) for name in leading for f in fields if f.attname == name)
        # A NULL is left out (fewer parameters, a shorter statement) where the column has no default of its own.
        self.fields = [
            (f, quote(f.column), f.db_default is NOT_PROVIDED) for f in fields if f.attname not in leading
        ]

    def values(self, obj: Model, connection) -> tuple[str, list]:
        """The row's columns (the ``leading`` ones first) and values, as ``Model.save`` would send them."""
        columns, values = [self.leading] if self.leading else [], []
        for field, column, null_is_default in self.fields:
            value = field.pre_save(obj, True)
            if value is None and null_is_default:  # Django's fields store None as NULL
                continue
            if hasattr(value, "resolve_expression"):
                raise NotPlain(field.name)
            value = field.get_db_prep_save(value, connection)
            columns.append(column)
            values.append(value)
        return ", ".join(columns), values

    def saved(self, obj: Model, pk, using: str = "default") -> None:
        """Mark ``obj`` as the stored row ``pk``, as ``Model.save`` leaves it."""
        setattr(obj, self.pk.attname, pk)
        obj._state.adding = False
        obj._state.db = using


# --- a hot statement planned once per connection (PostgreSQL) ------------------------------

logger = logging.getLogger(__name__)
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1  # as psycopg's threshold: its automatic preparing never starts
_refused = False  # the server refused a prepared statement once: this process stops asking


@functools.cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor  # psycopg's, with Django's additions

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, **options):
            return super().execute(query, params, prepare=True)

    return PreparedCursor


def _prepared_cursor(database):
    """A Django cursor (with the connection's execute wrappers) whose statements psycopg prepares on the server."""
    database.close_if_health_check_failed()
    database.ensure_connection()
    if database.connection.prepare_threshold is None:  # Django's default: psycopg prepares nothing
        database.connection.prepare_threshold = PREPARE_ONLY_WHEN_ASKED
    return database.make_cursor(_prepared_cursor_class()(database.connection))


def fetch_one_prepared(database, sql: str, params: list) -> tuple:
    """The first row of ``sql``, run as a prepared statement where it may be (one parse and plan per connection).

    Only outside a transaction and with ``settings.DATABASE_PREPARED_STATEMENTS`` (off behind
    PgBouncer in transaction mode, where the next statement may meet another server connection),
    and not while statements are logged (DEBUG, a test counting them): psycopg does not keep a
    prepared statement's text, so the log would show none. Should the server not know the
    statement after all (a pooler the settings do not mention), it runs again unprepared and this
    process stops preparing: the caller never sees the refusal.
    """
    global _refused
    if (database.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS and not _refused
            and not database.in_atomic_block and not database.queries_logged):
        try:
            with _prepared_cursor(database) as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()
        except DatabaseError as error:
            if not _pooled_away(error):
                raise
            _refused = True
            logger.warning("The database refused a prepared statement (%s): set PGBOUNCER_TRANSACTION_MODE=true "
                           "or DATABASE_PREPARED_STATEMENTS=false.", error.__cause__)
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _pooled_away(error: DatabaseError) -> bool:
    """The server connection is not the one the statement was prepared on (or already has one of its name)."""
    from psycopg import errors

    return isinstance(error.__cause__, errors.InvalidSqlStatementName | errors.DuplicatePreparedStatement)
