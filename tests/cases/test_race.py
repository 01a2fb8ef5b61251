"""Two workers racing on one case: exactly one wins, the other gets a clear refusal.

On PostgreSQL the row lock makes the loser wait and then see the new state; on SQLite
(which ignores SELECT … FOR UPDATE) the compare-and-set on the old status refuses the
loser. The first tests simulate the interleaving with stale reads so they run on both.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import translation

from cases import services
from cases.models import Case, TimelineEvent
from cases.services import IllegalTransition
from communities.models import Role
from tests.cases.factories import new_case, walk
from tests.factories import staff

S = Case.Status


@pytest.fixture(autouse=True)
def english():
    """Refusals are compared with their message ids (the UI default is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def stale_reads(monkeypatch):
    """Both workers read the row before either writes: the lock returns the object as given."""
    monkeypatch.setattr(services.common, "lock", lambda case: case)


def _events(case: Case, action: str) -> int:
    return TimelineEvent.objects.filter(case=case, action=action).count()


@pytest.mark.django_db
def test_compare_and_set_refuses_the_second_of_two_stale_accepts(stale_reads, street, grid):
    dispatcher = staff(street, Role.DISPATCHER)
    first, second = staff(grid, Role.GRID_WORKER), staff(grid, Role.GRID_WORKER)
    first.first_name = "张三"
    first.save()
    case = services.dispatch(case=new_case(place=grid), to_unit=grid, by=dispatcher)
    seen_by_first, seen_by_second = (Case.objects.get(pk=case.pk) for _i in range(2))

    services.accept(case=seen_by_first, by=first)
    with pytest.raises(IllegalTransition) as error:
        services.accept(case=seen_by_second, by=second)

    assert error.value.message == "This case has already been accepted by 张三."
    case.refresh_from_db()
    assert (case.status, case.handler) == (S.ACCEPTED, first)
    assert _events(case, "accepted") == 1


@pytest.mark.django_db
def test_compare_and_set_refuses_a_stale_resolve_after_a_return(stale_reads, street, grid):
    dispatcher, worker = staff(street, Role.DISPATCHER), staff(grid, Role.GRID_WORKER)
    case = walk(new_case(place=grid), to="contacted", dispatcher=dispatcher, handler=worker)
    stale = Case.objects.select_related("handler", "dispatching_unit").get(pk=case.pk)
    services.return_case(case=Case.objects.get(pk=case.pk), by=worker, reason="不归我们管")

    with pytest.raises(IllegalTransition) as error:
        services.resolve(case=stale, by=worker, result="好了", nature="reasonable")

    assert "Someone else changed this case just now" in str(error.value.message)
    case.refresh_from_db()
    assert case.status == S.RETURNED and _events(case, "resolved") == 0


@pytest.mark.django_db
def test_compare_and_set_refuses_a_second_stale_dispatch(stale_reads, street, grid, sibling_grid):
    dispatcher = staff(street, Role.DISPATCHER)
    case = new_case(place=grid)
    a, b = (Case.objects.select_related("dispatching_unit").get(pk=case.pk) for _i in range(2))
    services.dispatch(case=a, to_unit=grid, by=dispatcher)
    with pytest.raises(IllegalTransition):
        services.dispatch(case=b, to_unit=sibling_grid, by=dispatcher)
    case.refresh_from_db()
    assert case.unit == grid and _events(case, "dispatched") == 1


# --- real concurrency: two threads, two connections (PostgreSQL) ------------------------
#
# The threads must see committed rows, so these tests commit for real. They do it outside
# pytest-django's transactional_db, which would flush every table afterwards (the role
# groups and categories the migrations seeded included) under the tests that follow; they
# delete exactly what they made instead.


def _ensure_role_groups() -> None:
    """The role groups as the migrations made them (a test before may have flushed them)."""
    from tests.migrated_data import replay_data_migrations

    replay_data_migrations()


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """A tree (area → street → community → grid) committed for real, removed afterwards."""
    from django.contrib.auth import get_user_model

    from cases.models import Category
    from communities.models import Post, Unit
    from tests.factories import AreaFactory, CommunityFactory, GridFactory, StreetFactory

    with django_db_blocker.unblock():
        _ensure_role_groups()
        area = AreaFactory()
        street = StreetFactory(parent=area)
        community = CommunityFactory(parent=street)
        tree = {"area": area, "street": street, "community": community, "grid": GridFactory(parent=community)}
        categories_before = set(Category.objects.values_list("pk", flat=True))
        try:
            yield tree
        finally:
            Case.objects.filter(unit_path__startswith=area.path).delete()
            users = Post.objects.filter(unit__path__startswith=area.path).values_list("user_id", flat=True)
            get_user_model().objects.filter(pk__in=list(users)).delete()
            for unit in Unit.objects.filter(path__startswith=area.path).order_by("-depth"):
                unit.delete()
            Category.objects.exclude(pk__in=categories_before).delete()


def _race(*calls):
    """Run the calls at the same moment, each in its own thread (and database connection)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            with translation.override("en"):  # the active language is per thread
                results[index] = call()
        except Exception as error:  # noqa: BLE001 - the loser's refusal is the result
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
def test_two_workers_accepting_at_once_get_one_accept_and_one_refusal(committed):
    street, grid = committed["street"], committed["grid"]
    dispatcher = staff(street, Role.DISPATCHER)
    workers = [staff(grid, Role.GRID_WORKER) for _i in range(2)]
    case = services.dispatch(case=new_case(place=grid), to_unit=grid, by=dispatcher)
    assert connection.vendor == "postgresql"

    results = _race(*[
        (lambda w=w: services.accept(case=Case.objects.get(pk=case.pk), by=type(w).objects.get(pk=w.pk)))
        for w in workers
    ])

    wins = [r for r in results if isinstance(r, Case)]
    refusals = [r for r in results if isinstance(r, IllegalTransition)]
    assert len(wins) == 1 and len(refusals) == 1, results
    assert "has already been accepted by" in str(refusals[0].message)
    case.refresh_from_db()
    assert case.status == S.ACCEPTED and case.handler_id == wins[0].handler_id
    assert _events(case, "accepted") == 1


@pytest.mark.postgres
def test_the_same_hotline_order_imported_twice_at_once_makes_one_case(committed):
    community = committed["community"]
    make = lambda: new_case(place=community, source=Case.Source.HOTLINE, hotline_order_no="2411230099")  # noqa: E731

    results = _race(make, make)

    assert all(isinstance(r, Case) for r in results), results
    assert results[0].pk == results[1].pk
    assert Case.objects.filter(hotline_order_no="2411230099").count() == 1
    assert TimelineEvent.objects.filter(case=results[0], action="submitted").count() == 1


@pytest.mark.postgres
def test_cases_written_at_once_into_one_tally_are_all_counted(committed):
    """Six residents report at the same moment in one grid: the day's tally says six (the row lock orders the recounts)."""
    from cases import tallies
    from cases.models import DayTally
    from tests.cases.factories import CategoryFactory

    grid = committed["grid"]
    category = CategoryFactory()
    make = lambda: new_case(place=grid, category=category)  # noqa: E731

    results = _race(*[make] * 6)

    assert all(isinstance(r, Case) for r in results), results
    street = results[0].unit  # new cases wait at the street's dispatch desk
    day = tallies.day_of(results[0].received_at)
    assert DayTally.objects.get(unit=street, day=day).received == 6
    assert not [line for line in tallies.differences() if f", {street.pk}, " in line]
