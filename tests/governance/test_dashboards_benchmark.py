"""The benchmark commands: seeding a realistic area (COPY on PostgreSQL, bulk inserts elsewhere) and measuring."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Q
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve, reverse

from cases import rates
from cases.models import Case, ContactRecord, MonthlyScore, ReturnVisit, TimelineEvent
from communities.models import Post, Role, Unit
from benchmarks import seed as benchmark
from benchmarks.seed import volunteers as corps
from governance.models import ActionItem, AgendaItem, Meeting, Summons, Whistle
from volunteers.models import Activity, HoursEntry, SignUp, Team, Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def development(settings):
    settings.DEBUG = True  # the commands refuse production settings (test runs have DEBUG off)


def seed(cases: int, *extra: str) -> str:
    """A small area (2 streets of 2 communities, one building per grid) keeps the tests fast."""
    out = StringIO()
    call_command("seed_benchmark", "--cases", str(cases), "--months", "3", "--streets", "2", "--communities", "2",
                 "--buildings", "1", *extra, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("still_clock")  # the months seeded and frozen are this month's, however long it takes
def test_seeding_creates_an_area_whose_cases_have_their_whole_history():
    output = seed(400)

    area = Unit.objects.get(code=benchmark.AREA_CODE)
    cases = Case.objects.filter(unit_path__startswith=area.path)
    assert cases.count() == 400 and "Loaded 400 cases" in output
    assert Unit.objects.filter(path__startswith=area.path, level=Unit.Level.GRID).count() == 2 * 2 * 4
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
    # Closed months are frozen, as the monthly assessment does, with the counts of the cases loaded.
    frozen = set(MonthlyScore.objects.values_list("month", flat=True))
    # Three months of cases (91 days) reach back two to four whole months, depending on the day: each is frozen.
    previous = rates.previous_month(rates.current_month())
    first = rates.month_start(Case.objects.earliest("received_at").received_at.astimezone(rates.RATE_TZ))
    expected, month = set(), previous
    while month >= first:
        expected.add(month)
        month = rates.previous_month(month)
    assert expected <= frozen and 2 <= len(frozen) <= 4 and max(frozen) == previous
    assert f"{len(frozen)} closed months frozen" in output
    for unit in [area, *area.children.all()]:
        live = rates.counted_cases(previous).filter(unit_path__startswith=unit.path).aggregate(**rates.COUNTS)
        stored = MonthlyScore.objects.filter(unit=unit, month=previous).values(*rates.COUNTS).get()
        assert stored == live and stored["dispatched"] > 0


def test_seeding_adds_the_corps_meetings_and_whistles_as_the_services_would():
    output = seed(500)

    area = Unit.objects.get(code=benchmark.AREA_CODE)
    assert "volunteers" in output and "meetings" in output and "whistles" in output
    volunteers = Volunteer.objects.filter(unit_path__startswith=area.path)
    assert volunteers.count() >= 4 * corps.MIN_PER_COMMUNITY
    assert not Team.objects.filter(unit__path__startswith=area.path, leader__isnull=True).exists()
    # Seats taken are the sign-ups holding one; each completed sign-up earned one credit of its minutes.
    activities = Activity.objects.filter(unit_path__startswith=area.path).annotate(
        held=Count("signups", filter=Q(signups__status__in=SignUp.HOLDS_SEAT)))
    assert activities.exists() and not activities.exclude(seats_taken=F("held")).exists()
    completed = SignUp.objects.filter(status=SignUp.Status.COMPLETED)
    assert HoursEntry.objects.filter(kind=HoursEntry.Kind.ACTIVITY).count() == completed.count() > 0
    # Whistles and meeting agendas are on the cases' timelines, as blow_whistle and add_agenda_item write them.
    whistles = Whistle.objects.filter(unit_path__startswith=area.path)
    assert TimelineEvent.objects.filter(action="whistle_blown").count() == whistles.count() > 0
    assert not whistles.exclude(case__unit_path__startswith=F("unit_path")).exists()
    reported = Summons.objects.filter(reported_at__isnull=False).count()
    assert TimelineEvent.objects.filter(action="whistle_reported").count() == reported
    on_cases = AgendaItem.objects.filter(meeting__unit_path__startswith=area.path, case__isnull=False)
    assert TimelineEvent.objects.filter(action="meeting_agenda").count() == on_cases.count()
    # Every meeting held leaves at least one task to follow up (whatever the time of day the seed runs at).
    held = Meeting.objects.filter(unit_path__startswith=area.path, status=Meeting.Status.HELD)
    assert held.exists() and not held.exclude(pk__in=ActionItem.objects.values("meeting")).exists()


def test_the_same_seed_gives_the_same_data_and_a_second_area_needs_reset():
    seed(60)
    first = list(Case.objects.order_by("pk").values_list("code", "status", "category_id"))
    with pytest.raises(CommandError, match="--reset"):
        seed(60)
    seed(60, "--reset")
    again = list(Case.objects.order_by("pk").values_list("code", "status", "category_id"))
    assert first == again and Unit.objects.filter(code=benchmark.AREA_CODE).count() == 1


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


PAGES = ("工委 dashboard", "街道 dashboard", "社区 dashboard", "case queue", "case page", "public form POST",
         "API case list")


def test_measuring_reports_each_page_with_its_queries(tmp_path):
    seed(120)
    cases = Case.objects.count()
    out = StringIO()
    call_command("measure_benchmark", "--runs", "1", "--warmup", "0", "--json", str(tmp_path / "m.json"), stdout=out)

    lines = out.getvalue().splitlines()
    for page in PAGES:
        status, queries = next(line for line in lines if line.startswith(page)).split()[-5:-3]
        # A web report is one statement on PostgreSQL (the case, its line and its tallies).
        assert status in ("200", "302") and int(queries) >= (1 if page == "public form POST" else 3)
    figures = json.loads((tmp_path / "m.json").read_text())
    assert figures["cases"] == cases and [p["page"] for p in figures["pages"]][:3] == list(PAGES[:3])
    posted = next(p for p in figures["pages"] if p["page"] == "public form POST")
    assert posted["status"] == 302 and posted["runs"] == 1 and posted["median_cpu_ms"] > 0
    assert Case.objects.count() == cases + 2  # the form's submissions are real: one case per POST


def test_the_bare_view_exists_only_in_the_loadtest_configuration(client, settings):
    with pytest.raises(Resolver404):
        resolve("/bench/bare/")
    assert client.get("/bench/bare/").status_code == 404
    settings.ROOT_URLCONF = "benchmarks.loadtest.urls"
    assert client.get("/bench/bare/").content == b"ok"


@pytest.mark.django_db(transaction=True)
def test_the_accept_only_reference_checks_the_form_and_stores_one_row(client, settings, street, community):
    from benchmarks.loadtest import load
    from tests.cases.factories import CategoryFactory

    settings.ROOT_URLCONF = "benchmarks.loadtest.urls"
    category = CategoryFactory(code="t-light", name="路灯")
    data = {"category": category.pk, "street": street.pk, "community": community.pk, "building": "", "website": "",
            "description": "楼道灯坏了", "resident_name": "杨女士", "resident_phone": "13912345678", "consent": "on"}
    with load.floor_table():
        sent = client.post("/bench/accept-only/", data)
        refused = client.post("/bench/accept-only/", {**data, "resident_phone": "123"})
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT code, fields FROM {load.FLOOR_TABLE}")
            rows = cursor.fetchall()
    assert sent.status_code == 302 and sent.cookies["tracked"].value
    assert refused.status_code == 400
    assert [sent.url] == [reverse("cases_public:done", kwargs={"code": code}) for code, _fields in rows]
    assert json.loads(rows[0][1])["category"] == category.pk
    assert not Case.objects.exists()  # a reference only: no case
    assert load.FLOOR_TABLE not in connection.introspection.table_names()  # the table lives for the run only
    settings.ROOT_URLCONF = "governance.urls"
    with pytest.raises(Resolver404):
        resolve("/bench/accept-only/")


def test_seeded_dashboards_run_the_same_queries_at_two_sizes(client):
    seed(100)
    area = Unit.objects.get(code=benchmark.AREA_CODE)
    street = area.children.order_by("sort_order").first()
    pages = [(area, Role.SECRETARY), (street, Role.SECRETARY), (street.children.first(), Role.SECRETARY)]

    def counts() -> list[int]:
        result = []
        for unit, role in pages:
            cache.clear()  # each page reads who is asking (communities.identity would share it)
            client.force_login(Post.objects.get(unit=unit, role=role).user)
            with CaptureQueriesContext(connection) as captured:
                assert client.get(reverse("dashboards:unit", kwargs={"code": unit.code})).status_code == 200
            result.append(len(captured))
        return result

    small = counts()
    _add_cases(area, 300)  # more rows, the same tree
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
