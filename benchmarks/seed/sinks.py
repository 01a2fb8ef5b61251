"""Writing generated rows fast: binary COPY on PostgreSQL, ``bulk_create`` elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.core.management.color import no_style
from django.db import connection, models, transaction


class Table:
    """A model's columns in order, with what a row leaves out filled from the field defaults."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = model._meta.concrete_fields
        self.columns = [f.column for f in self.fields]
        self.names = [f.attname for f in self.fields]
        self.factories = {f.attname: f.default for f in self.fields if f.has_default() and callable(f.default)}
        self.defaults = {f.attname: f.get_default() for f in self.fields if f.attname not in self.factories}

    def row(self, values: dict) -> tuple:
        full = {**self.defaults, **values}
        for name, factory in self.factories.items():
            if name not in values:
                full[name] = factory()
        return tuple(map(full.__getitem__, self.names))


class CopySink:
    """PostgreSQL: one binary COPY … FROM STDIN per table and chunk, rows streamed as they come."""

    def __init__(self) -> None:
        self.types: dict[str, list[int]] = {}

    def column_types(self, cursor, table: Table) -> list[int]:
        name = table.model._meta.db_table
        if name not in self.types:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", [name]
            )
            oids = dict(cursor.fetchall())
            self.types[name] = [oids[column] for column in table.columns]
        return self.types[name]

    def write(self, table: Table, rows: Iterable[tuple]) -> int:
        count = 0
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in table.columns)
        sql = f"COPY {quote(table.model._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        with connection.cursor() as cursor:
            types = self.column_types(cursor, table)
            with cursor.cursor.copy(sql) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count


class BulkSink:
    """Other databases (SQLite): bulk_create in batches."""

    BATCH = 1000

    def write(self, table: Table, rows: Iterable[tuple]) -> int:
        count, batch = 0, []
        for row in rows:
            batch.append(table.model(**dict(zip(table.names, row))))
            if len(batch) == self.BATCH:
                count += len(table.model.objects.bulk_create(batch))
                batch = []
        if batch:
            count += len(table.model.objects.bulk_create(batch))
        return count


def sink() -> CopySink | BulkSink:
    return CopySink() if connection.vendor == "postgresql" else BulkSink()


@contextmanager
def bulk_mode(model_list: list[type[models.Model]], out: Callable[[str], None]) -> Iterator[None]:
    """PostgreSQL: load without the tables' secondary indexes (rebuilt after: much faster than
    row by row), without waiting for each commit to reach the disk and, for a superuser,
    without the foreign-key triggers (the generator writes consistent rows). Elsewhere:
    nothing changes.

    All of it happens in one transaction, so an interrupted load rolls back whole, the
    dropped indexes included; the rows still stream (chunks are savepoints).
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in model_list]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:  # checked row by row, not queued to the commit for millions of rows
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)", [tables],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        yield
        out(f"  rebuilding {len(indexes)} indexes …")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)


def next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1


def reset_sequences(*model_list: type[models.Model]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)

