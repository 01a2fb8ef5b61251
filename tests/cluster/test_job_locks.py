"""Periodic jobs run on one host at a time: the others find the advisory lock taken and exit 0."""

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from cases import rates
from cases.locks import lock_key, run_alone
from cases.models import MonthlyScore

pytestmark = pytest.mark.django_db


@pytest.fixture
def lock_held_elsewhere():
    """Another host's job: a session of its own holding the job's advisory lock."""
    params = connection.settings_dict
    held = []
    other = psycopg.connect(
        dbname=params["NAME"], user=params["USER"] or None, password=params["PASSWORD"] or None,
        host=params["HOST"] or None, port=params["PORT"] or None, autocommit=True,
    )

    def hold(name):
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(name)]).fetchone()[0]
        held.append(name)

    yield hold
    other.close()


@pytest.mark.postgres
def test_freeze_scores_exits_quietly_when_another_host_holds_the_lock(community, lock_held_elsewhere, capsys):
    last = rates.previous_month(rates.current_month())
    lock_held_elsewhere("freeze_scores")
    call_command("freeze_scores")  # no CommandError: exit status 0
    assert "already running on another host" in capsys.readouterr().out
    assert not MonthlyScore.objects.filter(month=last).exists()


@pytest.mark.postgres
def test_send_reminders_exits_quietly_when_another_host_holds_the_lock(lock_held_elsewhere, capsys):
    lock_held_elsewhere("send_reminders")
    call_command("send_reminders")
    out = capsys.readouterr().out
    assert "already running on another host" in out and "reminders" not in out.replace("send_reminders", "")


@pytest.mark.postgres
def test_the_lock_is_released_after_the_run(community, capsys):
    call_command("freeze_scores")
    with run_alone("freeze_scores") as mine:
        assert mine
    with run_alone("send_reminders") as first, run_alone("send_reminders") as second:
        assert (first, second) == (True, False)  # two sessions: the second finds it taken


def test_on_sqlite_or_postgres_a_lone_job_runs(community, capsys):
    call_command("send_reminders")
    assert "contact and" in capsys.readouterr().out
