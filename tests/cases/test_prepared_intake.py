"""The public form's one statement is prepared on the server (PostgreSQL): parsed and planned once per connection."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from cases import rows, tallies
from cases.models import Case

REPORT = "/report/"
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]  # a prepared intake runs on its own


@pytest.fixture(autouse=True)
def no_limits(settings, monkeypatch):
    settings.RATELIMIT_ENABLE = False
    monkeypatch.setattr(rows, "_refused", False)


def prepared_intakes() -> int:
    """How often this connection ran a prepared statement that writes a case."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(generic_plans + custom_plans), 0) FROM pg_prepared_statements "
                       "WHERE statement LIKE %s", ["%INSERT INTO \"cases_case\"%"])
        return cursor.fetchone()[0]


def report(client, data, n: int) -> Case:
    response = client.post(REPORT, {**data, "resident_phone": f"1381234{n:04d}"})
    assert response.status_code == 302, response.content[:2000]
    return Case.objects.get(code=response.url.rstrip("/").rsplit("/", 1)[1])


def test_reports_reuse_one_prepared_statement_and_keep_the_tallies_exact(client, report_form_data):
    cases = [report(client, report_form_data, n) for n in range(7)]
    assert prepared_intakes() == 7  # one statement on the server, executed seven times
    assert len({case.code for case in cases}) == 7
    assert [event.action for event in cases[-1].events.all()] == ["submitted"]
    assert not list(tallies.differences())


def test_a_server_that_lost_the_statement_still_takes_the_report(client, report_form_data, caplog):
    """A pooler handing over another server connection: the report is kept, the process stops preparing."""
    report(client, report_form_data, 1)
    connection.connection.pgconn.exec_(b"DEALLOCATE ALL")  # behind psycopg's back, as another server connection
    with caplog.at_level(logging.WARNING, logger="cases.rows"):
        case = report(client, report_form_data, 2)
    assert Case.objects.filter(pk=case.pk).exists()
    assert "refused a prepared statement" in caplog.text and "PGBOUNCER_TRANSACTION_MODE" in caplog.text
    report(client, report_form_data, 3)
    assert prepared_intakes() == 0  # not asked again
    assert not list(tallies.differences())


def test_the_setting_turns_preparing_off_and_on(client, report_form_data, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    report(client, report_form_data, 1)
    assert prepared_intakes() == 0 and Case.objects.count() == 1
    settings.DATABASE_PREPARED_STATEMENTS = True
    report(client, report_form_data, 2)
    assert prepared_intakes() == 1 and Case.objects.count() == 2
