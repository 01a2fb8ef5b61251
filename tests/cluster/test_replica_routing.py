"""The replica router on a real PostgreSQL streaming replica.

The fixture starts a primary (initdb) and a replica (pg_basebackup) of Debian's PostgreSQL 15 on
free loopback ports under a temporary directory, loads the migrated test database into the primary
(pg_dump | psql), and runs ``replica_scenario.py`` in a process of its own with DATABASE_URL and
DATABASE_REPLICA_URLS pointing at them. Marked ``postgres``: it runs on the PostgreSQL pass and
fails there (never skips) when the PostgreSQL binaries are missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from governance.cluster import harness

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SCENARIO = Path(__file__).with_name("replica_scenario.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def replica_run(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        source = dict(connection.settings_dict)
    root = harness.make_temp_root("portal-replica-test-")
    services = harness.Services(root)
    pair = harness.PostgresPair(services)
    try:
        pair.start_primary()
        with pair.connect(pair.primary_port, "postgres") as admin:
            admin.execute("CREATE DATABASE portal")
        dump = subprocess.run(
            [harness.pg_tool("pg_dump"), "--no-owner", "-h", source["HOST"] or "127.0.0.1",
             "-p", str(source["PORT"] or 5432), "-U", source["USER"] or "postgres", source["NAME"]],
            check=True, capture_output=True, env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
        ).stdout
        subprocess.run(
            [harness.pg_tool("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pair.primary_port),
             "-U", "postgres", "portal"], input=dump, check=True, capture_output=True,
        )
        pair.start_replica()
        flags = root / "flags"
        flags.mkdir()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "governance.settings_test",
            "DATABASE_URL": pair.url(pair.primary_port, "portal"),
            "DATABASE_REPLICA_URLS": pair.url(pair.replica_port, "portal"),
            "DATABASE_REPLICA_HEADER": "true",
            "DATABASE_REPLICA_CHECK_SECONDS": "0",
            "DATABASE_REPLICA_MAX_LAG_SECONDS": "60",
            "DATABASE_REPLICA_STICKY_SECONDS": "3",
            "SCENARIO_PRIMARY_PORT": str(pair.primary_port),
            "SCENARIO_REPLICA_PORT": str(pair.replica_port),
            "SCENARIO_FLAGS": str(flags),
            "SCENARIO_DBNAME": "portal",
        }
        env.pop("REDIS_URL", None)
        child = subprocess.Popen([sys.executable, str(SCENARIO)], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not (flags / "stop-replica").exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if child.poll() is None and (flags / "stop-replica").exists():
            pair.stop_replica()
            (flags / "replica-stopped").touch()
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err[-3000:]
        yield json.loads(out.strip().splitlines()[-1])
    finally:
        services.stop_all()
        harness.remove_root(root)


def test_heavy_reads_go_to_the_replica_and_other_pages_do_not(replica_run):
    assert replica_run["plain"] == ["replica", 200]
    assert replica_run["dashboard"] == ["replica", 200]
    assert replica_run["case_page_header"] == ""  # the case queue is not a replica page


def test_a_list_read_from_the_replica_lacks_what_it_has_not_replayed(replica_run):
    assert replica_run["paused_within_lag"] == [False, "replica", 200]


def test_a_dashboards_own_sql_reads_the_replica_too(replica_run):
    """A whistle blown while replay is paused is on the primary only: the section is not shown."""
    assert replica_run["dashboard_paused"] == [0, "replica", 200]


def test_a_replica_lagging_past_the_setting_is_left_for_the_primary(replica_run):
    assert replica_run["paused_past_lag"] == [True, "primary", 200]


def test_a_user_reads_the_primary_for_a_while_after_their_own_write(replica_run):
    assert replica_run["write_status"] == 302
    assert replica_run["writer_after_write"] == [True, "primary"]
    assert replica_run["reader_after_write"] == [False, "replica"]
    assert replica_run["writer_later"] == [False, "replica"]


def test_a_replica_that_caught_up_serves_again(replica_run):
    assert replica_run["resumed"] == [True, "replica"]


def test_a_replica_that_stops_is_replaced_by_the_primary_without_an_error(replica_run):
    assert replica_run["replica_stopped_mid_flight"] == [True, "primary", 200]
    assert replica_run["replica_down"] == [True, "primary", 200]
