"""Tier dashboards: rankings, frozen months, scoping by tier, links, exports, the report, query counts."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases import rates, services
from cases.models import Case
from cases.rates import RATE_TZ
from communities.models import Role, Unit
from governance.dashboards import selectors
from tests.cases.factories import CaseFactory, CategoryFactory
from tests.factories import CommunityFactory, GridFactory, staff

pytestmark = pytest.mark.django_db

PAST = rates.previous_month(rates.current_month())
IN_PAST = datetime(PAST.year, PAST.month, 10, 9, 0, tzinfo=RATE_TZ)


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # assertions read English labels


def make_case(unit: Unit, *, received=IN_PAST, on_time=True, rated=None, **fields) -> Case:
    """A bare case row handled by ``unit``; ``rated`` = (resolved, satisfaction)."""
    values = {
        "location_unit": unit, "unit": unit, "received_at": received,
        "contact_due_at": received + timedelta(hours=24), "resolve_due_at": received + timedelta(days=7),
        "contacted_at": received + timedelta(hours=2 if on_time else 30),
        "status": Case.Status.CLOSED if rated else Case.Status.IN_PROGRESS,
    }
    if rated:
        values.update(rated_at=received + timedelta(days=3), rated_resolved=rated[0], satisfaction=rated[1])
    values.update(fields)
    return CaseFactory(**values)


def dashboard(client, unit: Unit, month=None, *, raw_month: str = ""):
    url = reverse("dashboards:unit", kwargs={"code": unit.code})
    params = {"month": month.strftime("%Y-%m")} if month else {}
    if raw_month:
        params["month"] = raw_month
    return client.get(url, params)


@pytest.fixture
def third_community(street):
    return CommunityFactory(parent=street, name="星城第一社区", code="xc-1")


@pytest.fixture
def ranked_month(community, sibling_community, third_community):
    """Last month: 第三社区 perfect, 第七社区 middling, 第一社区 worst."""
    for _ in range(4):
        make_case(community, rated=(True, "satisfied"))
    make_case(sibling_community, rated=(True, "satisfied"))
    make_case(sibling_community, rated=(True, "basic"))
    make_case(sibling_community, on_time=False, rated=(False, "unsatisfied"))
    make_case(third_community, on_time=False, rated=(False, "unsatisfied"))
    make_case(third_community, rated=(True, "basic"))
    return PAST


# ------------------------------------------------------------------ ranking


def test_street_ranks_its_communities_and_flags_the_lowest(client, street, ranked_month,
                                                           community, sibling_community, third_community):
    client.force_login(staff(street, Role.SECRETARY))
    response = dashboard(client, street, ranked_month)

    assert response.status_code == 200
    rows = response.context["ranking"]
    assert [row.unit.pk for row in rows] == [community.pk, sibling_community.pk, third_community.pk]
    assert [row.rank for row in rows] == ["1", "2", "3"]
    assert [row.score.lowest for row in rows] == [False, False, True]
    expected = {s.unit.pk: s.composite for s in rates.unit_month_scores(street, ranked_month)[1:]}
    assert {row.unit.pk: row.score.composite for row in rows} == expected
    lowest_row = re.search(r'<tr class="lowest">.*?</tr>', response.content.decode(), re.DOTALL).group(0)
    assert third_community.name in lowest_row and "Lowest" in lowest_row


@pytest.mark.parametrize("frozen", [False, True])
def test_dashboard_ranking_follows_the_rates_ranking_ties_included(street, community, sibling_community,
                                                                   third_community, frozen):
    make_case(community, rated=(True, "basic"))
    make_case(sibling_community, rated=(True, "basic"))  # ties with 第三社区 for last place
    make_case(third_community, rated=(True, "satisfied"))
    CommunityFactory(parent=street, name="星城第九社区")  # nothing at all: unranked, last
    if frozen:
        rates.freeze_month(month=PAST)
    user = staff(street, Role.SECRETARY)

    board = selectors.dashboard(user, street, PAST)

    def key(scores):
        return [(s.unit.pk, s.rank, s.lowest, s.composite, s.frozen) for s in scores]

    assert key(board.ranking) == key(rates.ranking(street, PAST))
    assert [s.rank for s in board.ranking] == [1, 2, 2, None] and [s.lowest for s in board.ranking][1:3] == [True, True]


def test_units_with_nothing_rated_are_listed_last_unranked(client, street, community, sibling_community):
    make_case(community, rated=(True, "satisfied"))
    make_case(sibling_community)  # dispatched, never rated: no composite
    client.force_login(staff(street, Role.SECRETARY))

    rows = dashboard(client, street, PAST).context["ranking"]

    assert [row.unit.pk for row in rows] == [community.pk, sibling_community.pk]
    assert rows[1].rank == "" and rows[1].composite == "—"
    assert not any(row.score.lowest for row in rows)  # a single ranked unit is nobody's last


def test_own_score_is_the_whole_subtree(client, street, ranked_month):
    client.force_login(staff(street, Role.SECRETARY))
    own = dashboard(client, street, ranked_month).context["own"]

    total = rates.unit_month_scores(street, ranked_month)[0]
    assert (own.score.dispatched, own.score.composite) == (9, total.composite)


# ------------------------------------------------------------------ frozen months


def test_frozen_month_is_unaffected_by_a_late_rating(client, street, community, sibling_community):
    make_case(community, rated=(True, "satisfied"))
    make_case(sibling_community, rated=(True, "satisfied"))
    late = make_case(sibling_community, status=Case.Status.RESOLVED)
    rates.freeze_month(month=PAST)
    client.force_login(staff(street, Role.SECRETARY))
    before = dashboard(client, street, PAST).context

    services.rate(case=late, resolved=False, satisfaction="unsatisfied", channel="web")
    after = dashboard(client, street, PAST).context

    assert after["board"].frozen
    assert [(r.unit.pk, r.score.composite, r.score.rated) for r in after["ranking"]] == [
        (r.unit.pk, r.score.composite, r.score.rated) for r in before["ranking"]
    ]
    assert after["own"].score.composite == before["own"].score.composite == rates.score(
        street, PAST, rates.Counts(dispatched=3, contacted_on_time=3, rated=2, rated_resolved=2, satisfied=2)
    ).composite
    assert after["trend_rows"][-1].frozen and after["trend_rows"][-1].composite == before["trend_rows"][-1].composite
    # The same rating does move a month that is not frozen.
    assert rates.unit_month_scores(street, PAST)[0].composite == after["own"].score.composite
    assert rates.score(street, PAST, _live_counts(street)).composite != after["own"].score.composite


def _live_counts(unit):
    row = rates.counted_cases(PAST).filter(unit_path__startswith=unit.path).aggregate(**rates.COUNTS)
    return rates.Counts.from_row(row)


# ------------------------------------------------------------------ scoping


def test_each_tier_sees_only_its_subtree(client, area, street, sibling_street, community, sibling_community):
    overdue = {"status": Case.Status.DISPATCHED, "received": timezone.now() - timedelta(days=9),
               "resolve_due_at": timezone.now() - timedelta(days=1)}
    mine = make_case(community, **overdue)
    sibling = make_case(sibling_community, **overdue)
    other_street = make_case(CommunityFactory(parent=sibling_street), **overdue)

    client.force_login(staff(area, Role.SECRETARY))
    page = dashboard(client, area)
    assert _open(page) == 3 and _overdue_codes(page) == {mine.code, sibling.code, other_street.code}
    assert {row.unit.pk for row in page.context["ranking"]} == {street.pk, sibling_street.pk}

    client.force_login(staff(street, Role.SECRETARY))
    page = dashboard(client, street)
    assert _open(page) == 2 and _overdue_codes(page) == {mine.code, sibling.code}
    assert {row.unit.pk for row in page.context["ranking"]} == {community.pk, sibling_community.pk}

    client.force_login(staff(community, Role.SECRETARY))
    page = dashboard(client, community)
    assert _open(page) == 1 and _overdue_codes(page) == {mine.code}
    assert sibling.code not in page.content.decode()


def _overdue_codes(response) -> set[str]:
    return {case.code for case in response.context["board"].oldest_overdue}


def _open(response) -> int:
    return next(tile.count for tile in response.context["tiles"] if tile.key == "open")


def test_community_user_cannot_open_the_area_the_street_or_a_sibling(client, area, street, community,
                                                                     sibling_community, grid):
    client.force_login(staff(community, Role.SECRETARY))

    assert dashboard(client, community).status_code == 200
    assert dashboard(client, grid).status_code == 200
    for unit in (area, street, sibling_community):
        assert dashboard(client, unit).status_code == 404
        assert client.get(reverse("dashboards:report", kwargs={"code": unit.code})).status_code == 404
        assert client.get(reverse("dashboards:export", kwargs={"code": unit.code})).status_code == 404


def test_dashboards_address_opens_the_users_highest_unit(client, street, community):
    user = staff(community, Role.CASEWORKER)
    client.force_login(user)
    assert client.get(reverse("dashboards:index"))["Location"] == reverse("dashboards:unit", kwargs={"code": "xc-3"})


def test_a_department_liaison_has_no_dashboard(client, area):
    client.force_login(staff(area, Role.DEPARTMENT_LIAISON))
    assert client.get(reverse("dashboards:index")).status_code == 404
    assert dashboard(client, area).status_code == 404


def test_logged_out_visitors_are_sent_to_the_login(client, area):
    response = dashboard(client, area)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# ------------------------------------------------------------------ numbers link to the queue


def test_each_work_number_opens_a_queue_of_that_length(client, street, community, sibling_community):
    now = timezone.now()
    make_case(community, status=Case.Status.DISPATCHED, received=now - timedelta(days=9),
              resolve_due_at=now - timedelta(days=2), contacted_at=None)
    make_case(community, status=Case.Status.IN_PROGRESS, received=now, is_supervised=True)
    make_case(sibling_community, status=Case.Status.RESOLVED, received=now)
    make_case(sibling_community, status=Case.Status.SUBMITTED, received=now, contacted_at=None)
    client.force_login(staff(street, Role.SECRETARY))

    page = dashboard(client, street)
    tiles = {tile.key: tile for tile in page.context["tiles"]}
    assert {key: tile.count for key, tile in tiles.items()} == {
        "open": 3, "overdue": 1, "supervised": 1, "to_dispatch": 1, "waiting_acceptance": 1,
        "awaiting_return_visit": 1,
    }
    for tile in tiles.values():
        assert client.get(tile.url).context["page"].paginator.count == tile.count, tile.key
    for row in page.context["ranking"]:
        assert client.get(row.work_urls["open"]).context["page"].paginator.count == row.work.open


def test_category_and_day_numbers_link_to_filtered_queues(client, community):
    category = CategoryFactory(name="楼道照明")
    make_case(community, category=category, received=timezone.now(), status=Case.Status.DISPATCHED)
    client.force_login(staff(community, Role.SECRETARY))

    page = dashboard(client, community)

    (row,) = page.context["categories"]
    assert row.label == "楼道照明" and row.count == 1
    assert f"category={category.pk}" in row.url and f"handled_in={community.pk}" in row.url
    assert client.get(row.url).context["page"].paginator.count == 1
    day = next(item for item in page.context["days"] if item.count)
    assert client.get(day.url).context["page"].paginator.count == 1


# ------------------------------------------------------------------ month picker


def test_a_future_month_is_refused_with_a_message(client, community):
    client.force_login(staff(community, Role.SECRETARY))
    future = rates.next_month(rates.current_month()).strftime("%Y-%m")

    response = dashboard(client, community, raw_month=future)

    assert response.status_code == 200
    assert response.context["board"].month == rates.current_month()
    assert response.context["form"].errors["month"]
    assert f'value="{future}"' in response.content.decode()  # what was typed is kept


def test_an_unreadable_month_is_refused_with_a_message(client, community):
    client.force_login(staff(community, Role.SECRETARY))
    response = dashboard(client, community, raw_month="last spring")
    assert response.context["form"].errors["month"] and response.context["board"].month == rates.current_month()


# ------------------------------------------------------------------ worker view


@pytest.mark.usefixtures("still_clock")  # "today" is the same day for the case and the page
def test_community_page_shows_my_queue_due_today_and_busiest_buildings(client, community, grid, building):
    worker = staff(community, Role.CASEWORKER)
    now = timezone.now()
    # Due before midnight in Beijing, even at 23:59 (half-way between now and midnight).
    due = now + (selectors.end_of_day(now) - now) / 2
    mine = make_case(grid, handler=worker, status=Case.Status.IN_PROGRESS, building=building, received=now,
                     resolve_due_at=due)
    make_case(grid, building=building, received=now)
    client.force_login(worker)

    page = dashboard(client, community)

    assert [case.pk for case in page.context["board"].worker.my_queue] == [mine.pk]
    assert mine.pk in [case.pk for case in page.context["board"].worker.due_today]
    (busiest,) = page.context["buildings"]
    assert (busiest.label, busiest.count) == (building.name, 2)


def test_street_page_has_no_worker_view(client, street):
    client.force_login(staff(street, Role.SECRETARY))
    assert dashboard(client, street).context["board"].worker is None


def test_recurring_problem_at_one_place_is_a_hotspot(client, community, grid, building):
    category = CategoryFactory(name="飞线充电")
    for _ in range(3):
        make_case(grid, building=building, category=category, received=timezone.now())
    make_case(grid, received=timezone.now())
    client.force_login(staff(community, Role.SECRETARY))

    (spot,) = dashboard(client, community).context["hotspots"]

    assert (spot.place, spot.building, spot.category, spot.count) == (grid.name, building.name, "飞线充电", 3)


def test_a_hotspot_opens_a_queue_of_its_length_while_the_street_desk_still_holds_the_cases(
    client, street, community, grid, building
):
    """The place is where the cases happened; the street's dispatch desk may hold them still."""
    category = CategoryFactory(name="飞线充电")
    for _ in range(3):
        make_case(street, location_unit=grid, building=building, category=category, received=timezone.now())
    client.force_login(staff(street, Role.SECRETARY))

    (spot,) = dashboard(client, street).context["hotspots"]

    assert spot.count == 3
    assert client.get(spot.url).context["page"].paginator.count == 3


# ------------------------------------------------------------------ export and report


def test_export_contains_the_page_tables_with_masked_phones(client, street, ranked_month, community):
    make_case(community, status=Case.Status.DISPATCHED, received=timezone.now() - timedelta(days=10),
              resolve_due_at=timezone.now() - timedelta(days=3), resident_phone="13912345678", resident_name="杨秀英")
    client.force_login(staff(street, Role.SECRETARY))
    page = dashboard(client, street, ranked_month).context

    response = client.get(reverse("dashboards:export", kwargs={"code": street.code}), {"month": ranked_month.strftime("%Y-%m")})

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assessment = [row for row in book["Assessment"].iter_rows(values_only=True)]
    exported = {row[1]: row for row in assessment[2:]}
    for row in [page["own"], *page["ranking"]]:
        line = exported[row.unit.name]
        assert line[2] == row.score.dispatched
        assert (line[6] if line[6] != "—" else None) == (float(row.score.composite) if row.score.composite else None)
        assert (line[8] == "yes") == row.score.lowest
    overdue = list(book["Oldest overdue"].iter_rows(values_only=True))
    assert overdue[1][-2:] == ("杨**", "139****5678")
    everything = " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
    assert "13912345678" not in everything and "杨秀英" not in everything
    trend = list(book["Trend"].iter_rows(values_only=True))
    assert [line[0] for line in trend[1:]] == [row.month for row in page["trend_rows"]]


def test_export_needs_the_export_permission(client, grid):
    client.force_login(staff(grid, Role.GRID_WORKER))
    assert client.get(reverse("dashboards:export", kwargs={"code": grid.code})).status_code == 403


def test_printable_report_has_the_ranking_and_trend_but_no_navigation(client, street, ranked_month, third_community):
    client.force_login(staff(street, Role.SECRETARY))
    response = client.get(reverse("dashboards:report", kwargs={"code": street.code}),
                          {"month": ranked_month.strftime("%Y-%m")})

    html = response.content.decode()
    assert response.status_code == 200
    assert "site-header" not in html and 'aria-label="Main"' not in html
    assert third_community.name in html and "Lowest" in html
    assert len(response.context["trend_rows"]) == 12
    assert 'id="dashboard-data" type="application/json"' in html


def test_pages_carry_no_inline_script_or_style(client, street, ranked_month):
    client.force_login(staff(street, Role.SECRETARY))
    for name in ("dashboards:unit", "dashboards:report"):
        html = client.get(reverse(name, kwargs={"code": street.code})).content.decode()
        scripts = re.findall(r"<script(?P<attrs>[^>]*)>", html)
        assert scripts and all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
        assert " style=" not in html and not re.search(r"\son[a-z]+=", html)


# ------------------------------------------------------------------ query counts


def _queries(client, unit) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert dashboard(client, unit).status_code == 200
    return len(captured)


def _load(community, grid, n: int) -> None:
    category = CategoryFactory()
    now = timezone.now()
    for index in range(n):
        make_case(grid if index % 2 else community, category=category, received=now - timedelta(days=index % 40),
                  status=[Case.Status.DISPATCHED, Case.Status.IN_PROGRESS, Case.Status.CLOSED][index % 3],
                  resolve_due_at=now + timedelta(days=index % 5 - 2))


@pytest.mark.parametrize("tier", ["area", "street", "community", "grid"])
def test_query_count_does_not_grow_with_the_data(client, request, tier, area, street, community, grid):
    rates.freeze_month(month=rates.previous_month(rates.current_month()))
    unit = request.getfixturevalue(tier)
    client.force_login(staff(unit, Role.SUPERVISOR))
    _load(community, grid, 5)
    small = _queries(client, unit)
    _load(community, grid, 50)
    GridFactory(parent=community)  # more units change nothing either
    assert _queries(client, unit) == small


# ------------------------------------------------------------------ the month's figures are live


def test_the_months_figures_follow_every_change_made_through_the_services(client, community, grid):
    """The month's volume and rates come from tallies the services keep: a new case and
    its routing to a grid show at once, on the community's figures and on the grid's row."""
    from cases import services, tallies
    from tests.cases.factories import new_case

    client.force_login(staff(community, Role.SECRETARY))
    before = dashboard(client, community).context
    case = new_case(place=grid)
    services.dispatch(case=case, to_unit=grid, by=staff(case.unit, Role.DISPATCHER))

    after = dashboard(client, community).context
    assert after["board"].volume.total == before["board"].volume.total + 1
    assert after["own"].score.dispatched == before["own"].score.dispatched + 1
    assert {row.unit.pk: row.score.dispatched for row in after["ranking"]}[grid.pk] == 1
    assert tallies.differences() == []


# ------------------------------------------------------------------ 办结率


@time_machine.travel(datetime(2026, 10, 15, 10, 0, tzinfo=RATE_TZ), tick=False)
def test_completion_rate_counts_the_cases_received_in_the_month_now_resolved_or_closed(client, street, community,
                                                                                      sibling_community, grid):
    """办结率 = resolved or closed / counted, per unit, live from the tallies the services keep
    (a resolve, a reopening), shown on the page, the .xlsx and the printed report."""
    from cases import tallies
    from tests.cases.factories import new_case, walk

    dispatcher, handler = staff(street, Role.DISPATCHER), staff(grid, Role.CASEWORKER)
    cases = [new_case(place=grid) for _ in range(4)]
    walk(cases[0], to="closed", dispatcher=dispatcher, handler=handler)
    walk(cases[1], to="resolved", dispatcher=dispatcher, handler=handler)
    walk(cases[2], to="in_progress", dispatcher=dispatcher, handler=handler)
    services.merge(case=cases[3], into=cases[2], by=dispatcher, note="同一件事")
    make_case(sibling_community, received=timezone.now(), status=Case.Status.DISPATCHED)
    client.force_login(staff(street, Role.SECRETARY))
    month = rates.current_month()

    page = dashboard(client, street, month).context
    by_unit = {row.unit.pk: row for row in page["ranking"]}
    assert by_unit[community.pk].score.done == 2
    assert by_unit[community.pk].completion == "66.7%"  # 2 of the 3 counted (the merged one is not)
    assert by_unit[sibling_community.pk].completion == "0.0%"
    assert page["own"].completion == "50.0%"
    html = dashboard(client, street, month).content.decode()
    assert "Completion rate" in html and "resolved or closed" in html
    assert page["trend_rows"][-1].completion == "50.0%"

    book = load_workbook(io.BytesIO(client.get(
        reverse("dashboards:export", kwargs={"code": street.code}), {"month": month.strftime("%Y-%m")}
    ).content))
    assessment = list(book["Assessment"].iter_rows(values_only=True))
    assert assessment[1][7] == "Completion rate"
    assert {row[1]: row[7] for row in assessment[2:] if row and len(row) > 7}[community.name] == 0.6667
    assert list(book["Trend"].iter_rows(values_only=True))[-1][-1] == pytest.approx(0.5)
    report = client.get(reverse("dashboards:report", kwargs={"code": street.code}), {"month": month.strftime("%Y-%m")})
    assert "66.7%" in report.content.decode()

    services.rate(case=cases[1], resolved=False, satisfaction="unsatisfied", channel="web")  # reopened: not done
    page = dashboard(client, street, month).context
    assert {row.unit.pk: row.completion for row in page["ranking"]}[community.pk] == "50.0%"
    assert page["own"].completion == "25.0%"
    assert tallies.differences() == []


def test_a_frozen_month_keeps_its_completion_rate(client, street, community):
    make_case(community, rated=(True, "satisfied"))  # closed
    make_case(community)  # in progress
    rates.freeze_month(month=PAST)
    Case.objects.filter(status=Case.Status.IN_PROGRESS).update(status=Case.Status.CLOSED)  # after the freeze
    client.force_login(staff(street, Role.SECRETARY))

    own = dashboard(client, street, PAST).context["own"]

    assert own.score.frozen and (own.score.done, own.score.dispatched) == (1, 2)
    assert own.completion == "50.0%"


def test_a_unit_made_after_a_freeze_shows_that_month_frozen_and_empty(client, street, community):
    """A freeze writes a row for every unit there is: a newer unit has none, yet the month stays frozen
    for it (nothing provisional is counted from cases moved to it since)."""
    make_case(community, rated=(True, "satisfied"))
    rates.freeze_month(month=PAST)
    newer = CommunityFactory(parent=street, name="星城新社区")
    moved = make_case(community, rated=(True, "satisfied"))
    Case.objects.filter(pk=moved.pk).update(unit=newer, unit_path=newer.path)  # moved there after the freeze
    client.force_login(staff(street, Role.SECRETARY))

    trend = dashboard(client, newer).context["board"].trend

    assert PAST in trend.frozen and rates.current_month() not in trend.frozen
    past = trend.unit[trend.months.index(PAST)]
    assert past.frozen and past.dispatched == 0
    # The street's own trend reads its frozen row, the newer unit's is empty.
    assert dashboard(client, street).context["board"].trend.unit[-2].dispatched == 1
