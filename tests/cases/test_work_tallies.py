"""The work in hand (open, supervised, waiting, awaiting a visit) is kept in tallies by the services;
what moves with the clock (overdue, due today) is counted at read time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection

from cases import services, tallies
from cases.models import Case, WorkTally
from cases.rates import RATE_TZ
from communities.models import Role
from governance.dashboards import selectors
from tests.cases.factories import new_case, walk
from tests.factories import GridFactory, staff

pytestmark = pytest.mark.django_db
S = Case.Status


def figures(unit, now=None) -> selectors.WorkCounts:
    where = selectors.tree(unit)
    return selectors.work_counts(where, now=now or datetime.now(RATE_TZ))[unit.pk]


def live(unit, now) -> selectors.WorkCounts:
    """The same figures counted from the cases themselves (what the tallies must equal)."""
    cases = Case.objects.filter(unit_path__startswith=unit.path)
    in_hand = cases.filter(status__in=Case.NOT_CLOSED)
    open_ = in_hand.filter(status__in=Case.OPEN)
    end_of_today = selectors.end_of_day(now)
    return selectors.WorkCounts(
        open=open_.count(),
        overdue=open_.filter(resolve_due_at__lt=now).count(),
        supervised=in_hand.filter(is_supervised=True).count(),
        waiting_acceptance=in_hand.filter(status=S.DISPATCHED).count(),
        to_dispatch=in_hand.filter(status__in=Case.TO_DISPATCH).count(),
        awaiting_return_visit=in_hand.filter(status=S.RESOLVED).count()
        + cases.filter(status=S.MERGED, awaits_visit=True).count(),
        due_today=open_.filter(resolve_due_at__gte=now, resolve_due_at__lt=end_of_today).count(),
    )


def test_every_service_keeps_the_work_tallies_exact(street, community, grid):
    """A day of a street's work through the real services: intake, dispatch, supervision,
    a merge, the lead resolved (the merged caller now waits for a visit), a reroute, a rating
    that reopens, closing. After every step the tallies equal a recount of the cases."""
    other_grid = GridFactory(parent=community)
    dispatcher, handler = staff(street, Role.DISPATCHER), staff(grid, Role.CASEWORKER)
    secretary = staff(street, Role.SECRETARY)

    def check():
        assert tallies.differences() == []
        now = datetime.now(RATE_TZ)
        assert figures(street, now) == live(street, now)

    lead, caller, third = (new_case(place=grid) for _ in range(3))
    check()
    lead = walk(lead, to="accepted", dispatcher=dispatcher, handler=handler)
    check()
    services.supervise(case=lead, by=secretary, unit=street, comment="三天内答复",
                       due_at=datetime.now(RATE_TZ) + timedelta(days=3))
    check()
    services.merge(case=caller, into=lead, by=dispatcher, note="同一部电梯")
    check()
    lead = services.record_contact(case=Case.objects.get(pk=lead.pk), by=handler, method="phone", summary="已联系")
    lead = services.resolve(case=lead, by=handler, result="已修好", nature="reasonable")
    assert Case.objects.get(pk=caller.pk).awaits_visit
    check()
    services.dispatch(case=third, to_unit=grid, by=dispatcher)
    services.reassign(case=Case.objects.get(pk=third.pk), to_unit=other_grid, by=dispatcher)
    check()
    services.rate(case=lead, resolved=False, satisfaction="unsatisfied", channel="phone")  # reopened
    assert not Case.objects.get(pk=caller.pk).awaits_visit
    check()
    lead = walk(Case.objects.get(pk=lead.pk), to="resolved", dispatcher=dispatcher, handler=handler)
    services.rate(case=lead, resolved=True, satisfaction="satisfied", channel="phone")  # closed
    services.rate(case=Case.objects.get(pk=caller.pk), resolved=True, satisfaction="satisfied", channel="phone")
    check()
    assert figures(street).open == 1  # only the rerouted one is left


def test_a_unit_keeps_one_row_per_state_however_many_cases(street, community, grid):
    """The top tier reads units × states rows, not cases: 30 new cases at one desk are one row."""
    for _ in range(30):
        new_case(place=grid)
    rows = WorkTally.objects.filter(unit_path__startswith=street.path, cases__gt=0)
    assert list(rows.values_list("status", "cases")) == [(S.SUBMITTED, 30)]
    assert figures(street).to_dispatch == 30


def test_rebuild_recounts_rows_written_past_the_services(street, grid):
    case = new_case(place=grid)
    Case.objects.filter(pk=case.pk).update(status=S.DISPATCHED)  # SQL by hand: the tally is now stale
    assert tallies.differences()

    tallies.rebuild_work()

    assert tallies.differences() == []
    assert (figures(street).to_dispatch, figures(street).waiting_acceptance) == (0, 1)


@pytest.mark.parametrize("now", [
    datetime(2026, 12, 31, 23, 30, tzinfo=RATE_TZ),  # the year's last half hour
    datetime(2027, 3, 1, 0, 10, tzinfo=RATE_TZ),  # just after a month turns
])
def test_overdue_and_due_today_follow_the_clock_without_a_write(street, grid, now):
    """Overdue and due today are not tallied: the same cases count differently an hour later."""
    dispatcher = staff(street, Role.DISPATCHER)
    with time_machine.travel(now - timedelta(days=2), tick=False):
        late = services.dispatch(case=new_case(place=grid), to_unit=grid, by=dispatcher)
        soon = services.dispatch(case=new_case(place=grid), to_unit=grid, by=dispatcher)
    Case.objects.filter(pk=late.pk).update(resolve_due_at=now - timedelta(minutes=1))
    Case.objects.filter(pk=soon.pk).update(resolve_due_at=now + timedelta(minutes=20))

    before = figures(street, now)
    after = figures(street, now + timedelta(hours=1))  # past midnight: a new day

    assert (before.open, before.overdue, before.due_today) == (2, 1, 1)
    assert (after.open, after.overdue, after.due_today) == (2, 2, 0)
    assert before == live(street, now) and after == live(street, now + timedelta(hours=1))


@pytest.mark.postgres
def test_the_tally_tables_are_vacuumed_after_a_thousand_dead_rows_not_a_fifth_of_the_table():
    """Every web report rewrites the same three tally rows; PostgreSQL's default would let tens of
    thousands of their old versions pile up (and slow every report) before vacuuming them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('cases_daytally', 'cases_categorytally', 'cases_worktally')"
        )
        options = dict(cursor.fetchall())
    assert set(options) == {"cases_daytally", "cases_categorytally", "cases_worktally"}
    for table, settings in options.items():
        assert {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=1000"} <= set(settings or ()), table
