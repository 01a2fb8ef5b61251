"""Run by tests/cluster/test_replica_routing.py in a process of its own, against a real primary and
streaming replica on loopback (DATABASE_URL, DATABASE_REPLICA_URLS). Prints one JSON object of what
it saw; the test asserts on it. Replication is paused and resumed on the replica to make the
replica's copy visibly older than the primary's: a unit created on the primary while replay is
paused is on the primary only, so a list that lacks it was read from the replica.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings_test")

import django  # noqa: E402

django.setup()

from django.test.utils import setup_test_environment  # noqa: E402

setup_test_environment()  # the test client's host, as under pytest

import psycopg  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from communities.models import Role  # noqa: E402
from governance.coordination import services as coordination  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.cases.factories import CaseFactory  # noqa: E402

REPLICA_PORT = int(os.environ["SCENARIO_REPLICA_PORT"])
PRIMARY_PORT = int(os.environ["SCENARIO_PRIMARY_PORT"])
FLAGS = Path(os.environ["SCENARIO_FLAGS"])
DBNAME = os.environ["SCENARIO_DBNAME"]


def replica():
    return psycopg.connect(host="127.0.0.1", port=REPLICA_PORT, user="postgres", dbname=DBNAME, autocommit=True)


def caught_up():
    with psycopg.connect(host="127.0.0.1", port=PRIMARY_PORT, user="postgres", dbname=DBNAME, autocommit=True) as p:
        target = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    with replica() as r:
        for _ in range(300):
            if r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
                return
            time.sleep(0.1)
    raise RuntimeError("replica did not catch up")


def units(client: Client) -> tuple[set[str], str, int]:
    response = client.get("/api/v1/units/")
    codes = {row["code"] for row in response.json()["results"]} if response.status_code == 200 else set()
    return codes, response.get("X-Portal-Database", ""), response.status_code


def main() -> None:
    seen: dict[str, object] = {}
    area = f.AreaFactory(code="rep-area", name="复制区")
    boss = f.UserFactory(username="boss", is_superuser=True, is_staff=True)
    other = f.UserFactory(username="other", is_superuser=True, is_staff=True)
    community = f.CommunityFactory(parent=f.StreetFactory(parent=area, code="rep-street"), code="rep-community")
    director, department = f.staff(community, Role.DIRECTOR), f.DepartmentFactory(unit=area)
    case = CaseFactory(location_unit=community, status="dispatched")
    caught_up()
    writer, reader = Client(), Client()
    writer.force_login(boss)
    reader.force_login(other)

    seen["plain"] = units(writer)[1:]
    seen["dashboard"] = (lambda r: (r.get("X-Portal-Database", ""), r.status_code))(
        writer.get(f"/dashboards/{area.code}/")
    )
    seen["case_page_header"] = writer.get("/cases/").get("X-Portal-Database", "")

    # Replay paused: a unit created now exists on the primary only.
    with replica() as r:
        r.execute("SELECT pg_wal_replay_pause()")
    f.StreetFactory(parent=area, code="only-on-primary")
    coordination.blow_whistle(case=case, unit=community, reason="joint_enforcement", description="联合执法",
                              departments=[department], partners=[], by=director)
    time.sleep(1.5)
    codes, header, status = units(reader)
    seen["paused_within_lag"] = ("only-on-primary" in codes, header, status)
    # The dashboard's whistles come from a statement of its own SQL: it too reads the replica.
    response = reader.get(f"/dashboards/{area.code}/")
    seen["dashboard_paused"] = ([s.key for s in response.context["sections"]].count("whistles"),
                                response.get("X-Portal-Database", ""), response.status_code)
    with override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=0.5):
        codes, header, status = units(reader)
        seen["paused_past_lag"] = ("only-on-primary" in codes, header, status)

    # Read-your-writes: after its own write the writer reads the primary; the other user does not,
    # and once DATABASE_REPLICA_STICKY_SECONDS have passed neither does the writer.
    write = writer.post("/cases/notifications/read/")
    seen["write_status"] = write.status_code
    f.StreetFactory(parent=area, code="second-on-primary")
    codes, header, _ = units(writer)
    seen["writer_after_write"] = ("second-on-primary" in codes, header)
    codes, header, _ = units(reader)
    seen["reader_after_write"] = ("second-on-primary" in codes, header)
    time.sleep(django.conf.settings.DATABASE_REPLICA_STICKY_SECONDS + 0.5)
    codes, header, _ = units(writer)
    seen["writer_later"] = ("second-on-primary" in codes, header)

    with replica() as r:
        r.execute("SELECT pg_wal_replay_resume()")
    caught_up()
    codes, header, _ = units(reader)
    seen["resumed"] = ("only-on-primary" in codes, header)

    # The replica stops while this process holds a connection to it: the same GET is answered again
    # from the primary instead of failing.
    with override_settings(DATABASE_REPLICA_CHECK_SECONDS=3600):
        units(reader)  # opens (and keeps) the connection to the replica
        (FLAGS / "stop-replica").touch()
        for _ in range(600):
            if (FLAGS / "replica-stopped").exists():
                break
            time.sleep(0.1)
        codes, header, status = units(reader)
        seen["replica_stopped_mid_flight"] = ("only-on-primary" in codes, header, status)
    codes, header, status = units(reader)
    seen["replica_down"] = ("only-on-primary" in codes, header, status)
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
