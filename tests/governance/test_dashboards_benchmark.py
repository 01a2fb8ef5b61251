"""The benchmark commands: seeding a realistic area (COPY on PostgreSQL, bulk inserts elsewhere) and measuring."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import rates
from cases.models import Case, ContactRecord, MonthlyScore, ReturnVisit, TimelineEvent
from communities.models import Post, Role, Unit
from governance import benchmark

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def development(settings):
    settings.DEBUG = True  # the commands refuse production settings (test runs have DEBUG off)


def seed(cases: int, *extra: str) -> str:
    out = StringIO()
    call_command("seed_benchmark", "--cases", str(cases), "--months", "3", "--streets", "2", *extra, stdout=out)
    return out.getvalue()


def test_seeding_creates_an_area_whose_cases_have_their_whole_history():
    output = seed(400)

    area = Unit.objects.get(code=benchmark.AREA_CODE)
    cases = Case.objects.filter(unit_path__startswith=area.path)
    assert cases.count() == 400 and "Loaded 400 cases" in output
    assert Unit.objects.filter(path__startswith=area.path, level=Unit.Level.GRID).count() == 2 * 8 * 4
    assert Post.objects.filter(unit=area, role=Role.SECRETARY).exists()
    # Every case is where its handling unit is, with the clock and the timeline its state implies.
    assert not cases.exclude(unit_path=F("unit__path")).exists()
    assert not cases.filter(status=Case.Status.CLOSED, closed_at__isnull=True).exists()
    assert not cases.filter(contacted_at__lt=F("received_at")).exists()
    assert not cases.filter(rated_at__lt=F("resolved_at")).exists()
    closed = cases.filter(status=Case.Status.CLOSED).count()
    assert TimelineEvent.objects.filter(action="closed").count() == closed > 0
    assert TimelineEvent.objects.filter(action="submitted").count() == 400
    assert ContactRecord.objects.count() == cases.filter(contacted_at__isnull=False).count()
    assert ReturnVisit.objects.count() == cases.filter(rated_at__isnull=False).count() > 0
    assert not cases.filter(Q(status=Case.Status.MERGED) & Q(merged_into__isnull=True)).exists()
    # Closed months are frozen, as the monthly assessment does.
    frozen = set(MonthlyScore.objects.values_list("month", flat=True))
    assert rates.current_month() not in frozen and len(frozen) == 3
    assert MonthlyScore.objects.filter(unit=area).values_list("dispatched", flat=True)


def test_the_same_seed_gives_the_same_data():
    seed(60)
    first = list(Case.objects.order_by("pk").values_list("code", "status", "category_id"))
    seed(60, "--reset")
    again = list(Case.objects.order_by("pk").values_list("code", "status", "category_id"))
    assert first == again and Unit.objects.filter(code=benchmark.AREA_CODE).count() == 1


def test_a_second_area_needs_reset():
    seed(20)
    with pytest.raises(CommandError, match="--reset"):
        seed(20)


def test_reset_refuses_when_other_cases_exist(community):
    from tests.cases.factories import CaseFactory

    seed(20)
    CaseFactory(location_unit=community)
    with pytest.raises(CommandError, match="outside the benchmark area"):
        seed(20, "--reset")


def test_seeding_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed(10)


def test_measuring_reports_each_dashboard_with_its_queries():
    seed(120)
    out = StringIO()
    call_command("measure_dashboards", "--runs", "2", "--warmup", "0", stdout=out)

    lines = out.getvalue().splitlines()
    for page in ("工委 dashboard", "街道 dashboard", "社区 dashboard", "case queue", "case page"):
        status, queries = next(line for line in lines if line.startswith(page)).split()[-4:-2]
        assert status == "200" and int(queries) > 3


def test_seeded_dashboards_run_the_same_queries_at_two_sizes(client):
    seed(100)
    area = Unit.objects.get(code=benchmark.AREA_CODE)
    street = area.children.order_by("sort_order").first()
    pages = [(area, Role.SECRETARY), (street, Role.SECRETARY), (street.children.first(), Role.SECRETARY)]

    def counts() -> list[int]:
        result = []
        for unit, role in pages:
            client.force_login(Post.objects.get(unit=unit, role=role).user)
            with CaptureQueriesContext(connection) as captured:
                assert client.get(reverse("dashboards:unit", kwargs={"code": unit.code})).status_code == 200
            result.append(len(captured))
        return result

    small = counts()
    _add_cases(area, 700)  # more rows, the same tree
    assert counts() == small


def _add_cases(area: Unit, count: int) -> None:
    """More cases in the seeded area, through the same generator."""
    import random

    from django.utils import timezone

    rng = random.Random(7)
    units = list(Unit.objects.filter(path__startswith=area.path).select_related("parent__parent"))
    streets = [u for u in units if u.level == Unit.Level.STREET]
    communities = [u for u in units if u.level == Unit.Level.COMMUNITY]
    grids = [u for u in units if u.level == Unit.Level.GRID]
    staff = {(post.unit_id, post.role): post.user_id for post in Post.objects.filter(unit__in=units)}
    found = benchmark.Area(area, streets, communities, grids, {}, staff, {u.pk: 0.9 for u in units})
    gen = benchmark.Generator(found, cases=count, months=3, rng=rng, now=timezone.now())
    loaded = benchmark.Loaded()
    benchmark._load_cases(gen, count, loaded, lambda message: None)
    assert loaded.rows["case"] == count


def test_seeded_dashboard_scores_are_the_rates_of_the_current_and_frozen_months():
    from governance.dashboards import selectors

    seed(300)
    area = Unit.objects.get(code=benchmark.AREA_CODE)
    user = Post.objects.get(unit=area, role=Role.SECRETARY).user
    board = selectors.dashboard(user, area, rates.current_month())  # only this month is not frozen

    live = rates.unit_month_scores(area, rates.current_month())
    assert [(s.unit.pk, s.dispatched, s.composite) for s in [board.score, *board.ranking]] == [
        (s.unit.pk, s.dispatched, s.composite) for s in [live[0], *rates.ranking(area, rates.current_month())]
    ]
    previous = rates.previous_month(rates.current_month())
    assert board.trend.unit[-2].frozen and board.trend.unit[-2].composite == MonthlyScore.objects.get(
        unit=area, month=previous
    ).composite
