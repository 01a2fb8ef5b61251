"""Backup and restore as README "Operations" says: dump, restore into an empty database, and
every table holds the same number of rows (PostgreSQL: pg_dump -Fc / pg_restore; SQLite: the
online backup API that the sqlite3 shell's .backup uses)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess

import psycopg
import pytest
from django.db import connection

from cases.models import Case
from communities.models import Role, SecurityEvent
from communities.security import log_event
from tests import factories as f
from tests.cases.factories import CaseFactory, walk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def some_of_everything(community, sibling_community, street):
    dispatcher = f.staff(street, Role.DISPATCHER)
    for unit in (community, sibling_community, community):
        handler = f.staff(unit, Role.CASEWORKER)
        walk(CaseFactory(location_unit=unit), to="contacted", dispatcher=dispatcher, handler=handler)
    log_event(SecurityEvent.Kind.LOGIN_FAILED, username="nobody")
    assert Case.objects.count() == 3


def row_counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def django_tables() -> list[str]:
    return sorted(connection.introspection.table_names())


@pytest.mark.postgres
def test_pg_dump_restores_into_an_empty_database_with_equal_counts(some_of_everything, tmp_path):
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump and pg_restore are needed (Debian: postgresql-client)")
    params = connection.get_connection_params()
    env = {**os.environ, "PGHOST": params.get("host") or "", "PGPORT": str(params.get("port") or 5432),
           "PGUSER": params.get("user") or "", "PGPASSWORD": params.get("password") or ""}
    source, target = params["dbname"], params["dbname"] + "_restore"
    dump = tmp_path / "portal.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), source], env=env, check=True)
    admin = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname=source, autocommit=True, **admin) as maintenance:
        maintenance.execute(f'DROP DATABASE IF EXISTS "{target}"')
        maintenance.execute(f'CREATE DATABASE "{target}"')
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)], env=env, check=True)
        tables = django_tables()
        with connection.cursor() as cursor:
            expected = row_counts(cursor, tables)
        with psycopg.connect(dbname=target, **admin) as restored, restored.cursor() as cursor:
            assert row_counts(cursor, tables) == expected
            # The append-only guard comes back with the data.
            with pytest.raises(psycopg.errors.RaiseException):
                cursor.execute("DELETE FROM communities_securityevent")
        assert expected["cases_case"] == 3 and expected["communities_securityevent"] >= 1
    finally:
        with psycopg.connect(dbname=source, autocommit=True, **admin) as maintenance:
            maintenance.execute(f'DROP DATABASE IF EXISTS "{target}"')


def test_sqlite_backup_restores_into_an_empty_database_with_equal_counts(some_of_everything, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant; PostgreSQL has its own test")
    connection.ensure_connection()
    backup_file, restored_file = tmp_path / "backup.sqlite3", tmp_path / "restored.sqlite3"
    with sqlite3.connect(backup_file) as backup:
        connection.connection.backup(backup)
    with sqlite3.connect(backup_file) as backup, sqlite3.connect(restored_file) as restored:
        backup.backup(restored)
    tables = django_tables()
    with connection.cursor() as cursor:
        expected = row_counts(cursor, tables)
    restored = sqlite3.connect(restored_file)
    try:
        assert row_counts(restored.cursor(), tables) == expected
        assert restored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        restored.close()
    assert expected["cases_case"] == 3
