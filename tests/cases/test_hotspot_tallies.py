"""Hotspot tallies: the area's and streets' hotspots read in index order, exact after every change."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import rates, tallies
from cases.models import HotspotTally
from cases.rates import RATE_TZ
from cases.services.common import compare_and_set
from governance.dashboards import selectors
from tests.cases.factories import CaseFactory, CategoryFactory
from tests.factories import BuildingFactory

pytestmark = pytest.mark.django_db

NOVEMBER = datetime(2026, 11, 1).date()
IN_NOVEMBER = datetime(2026, 11, 12, 9, 0, tzinfo=RATE_TZ)


def cases(count: int, *, unit, place=None, building=None, category, received=IN_NOVEMBER) -> list:
    return [
        CaseFactory(unit=unit, location_unit=place or unit, building=building, category=category, received_at=received)
        for _ in range(count)
    ]


def hotspots(unit, month=NOVEMBER) -> list[tuple]:
    where = selectors.tree(unit)
    return [
        (spot.place, spot.building, spot.category, spot.count)
        for spot in selectors.hotspots(where, month, categories=selectors.category_names())
    ]


@pytest.fixture
def wiring():
    return CategoryFactory(name="飞线充电")


@pytest.fixture
def lift():
    return CategoryFactory(name="电梯故障")


def test_the_area_and_street_read_the_tallies_and_list_what_the_cases_say(
    area, street, sibling_street, community, grid, building, wiring, lift
):
    other = BuildingFactory(unit=grid, name="星城二里42号楼")
    cases(4, unit=grid, building=building, category=wiring)
    cases(3, unit=community, place=grid, category=lift)  # no building: sorts before a building
    cases(2, unit=street, place=grid, building=other, category=wiring)  # still at the street's desk
    cases(1, unit=sibling_street, place=grid, building=other, category=wiring)  # handled by the other street
    cases(2, unit=grid, building=building, category=lift)

    with CaptureQueriesContext(connection) as read:
        top = hotspots(area)

    assert top == [
        (grid.name, building.name, "飞线充电", 4),
        (grid.name, "", "电梯故障", 3),
        (grid.name, other.name, "飞线充电", 3),
    ]
    assert hotspots(street) == top[:2]  # the other street's case is not the street's
    assert hotspots(community) == top[:2]  # counted from the cases: the same answer
    assert len([query for query in read.captured_queries if "hotspottally" in query["sql"]]) == 1
    assert not [query for query in read.captured_queries if "cases_case" in query["sql"]]
    assert tallies.differences() == []


def test_a_case_moved_to_another_street_place_or_category_moves_its_counts(
    area, street, sibling_street, community, grid, building, wiring, lift
):
    moving, *_rest = cases(3, unit=grid, building=building, category=wiring)
    assert hotspots(street) == [(grid.name, building.name, "飞线充电", 3)]

    compare_and_set(moving, expect=moving.status, unit=sibling_street)
    assert hotspots(street) == [] and hotspots(area) == [(grid.name, building.name, "飞线充电", 3)]
    compare_and_set(moving, expect=moving.status, building=None)
    assert hotspots(area) == []
    compare_and_set(moving, expect=moving.status, unit=grid, building=building, category=lift)
    assert hotspots(area) == []
    compare_and_set(moving, expect=moving.status, category=wiring)

    assert hotspots(street) == hotspots(area) == [(grid.name, building.name, "飞线充电", 3)]
    assert tallies.differences() == []


def test_a_change_within_the_street_rewrites_no_hotspot_row(street, community, grid, building, wiring):
    case, *_rest = cases(3, unit=street, place=grid, building=building, category=wiring)
    before = list(HotspotTally.objects.values_list("pk", "received"))

    with CaptureQueriesContext(connection) as dispatch:
        compare_and_set(case, expect=case.status, unit=community)

    assert not [query for query in dispatch.captured_queries if "hotspottally" in query["sql"]]
    assert list(HotspotTally.objects.values_list("pk", "received")) == before
    assert tallies.differences() == []


def test_a_community_moved_to_another_street_takes_its_hotspots_along(
    area, street, sibling_street, community, grid, building, wiring
):
    cases(3, unit=grid, building=building, category=wiring)
    assert hotspots(sibling_street) == []

    community.parent = sibling_street
    community.save()

    assert hotspots(street) == []
    assert hotspots(sibling_street) == hotspots(area) == [(grid.name, building.name, "飞线充电", 3)]
    assert tallies.differences() == []


def test_a_deleted_buildings_cases_count_as_having_no_building(area, grid, building, wiring):
    cases(2, unit=grid, building=building, category=wiring)
    cases(1, unit=grid, category=wiring)
    empty = BuildingFactory(unit=grid, name="星城二里43号楼")

    with CaptureQueriesContext(connection) as deleting_an_empty_building:
        empty.delete()
    building.delete()

    assert hotspots(area) == [(grid.name, "", "飞线充电", 3)]
    assert tallies.differences() == []
    # Nothing to move: the tally is not searched by building (no index leads with it).
    assert not [query for query in deleting_an_empty_building.captured_queries if "hotspottally" in query["sql"]]


@pytest.mark.parametrize("moment", [
    datetime(2026, 11, 30, 23, 59, 59, tzinfo=RATE_TZ),  # Beijing's last second of November (15:59 UTC)
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=RATE_TZ),  # and of the year
])
def test_a_case_of_a_months_last_second_counts_in_that_month(area, grid, building, wiring, moment):
    month = moment.date().replace(day=1)
    cases(3, unit=grid, building=building, category=wiring, received=moment)

    assert hotspots(area, month) == [(grid.name, building.name, "飞线充电", 3)]
    assert hotspots(area, rates.next_month(month)) == []
    assert tallies.differences() == []


def test_rebuild_recounts_lost_or_wrong_hotspot_rows(area, street, grid, building, wiring):
    cases(3, unit=grid, building=building, category=wiring)
    HotspotTally.objects.filter(unit_path=street.path).delete()
    HotspotTally.objects.filter(unit_path=area.path).update(received=1)
    assert [line for line in tallies.differences() if line.startswith("hotspot")]
    assert hotspots(area) == []

    tallies.rebuild()

    assert tallies.differences() == []
    assert hotspots(area) == hotspots(street) == [(grid.name, building.name, "飞线充电", 3)]


@pytest.mark.postgres
def test_postgresql_reads_an_areas_top_ten_from_the_index_whatever_the_month_holds(area, grid, building, wiring):
    cases(3, unit=grid, building=building, category=wiring)
    HotspotTally.objects.bulk_create(  # a busy month: 5 000 places listed
        HotspotTally(unit_path=area.path, month=NOVEMBER, place=grid.pk, building=0, category=10_000 + n,
                     received=3 + n % 7)
        for n in range(5_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_hotspottally")
    with CaptureQueriesContext(connection) as read:
        assert len(hotspots(area)) == selectors.LIST_LENGTH
    (statement,) = [query["sql"] for query in read.captured_queries if "hotspottally" in query["sql"]]

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}")
        plan = cursor.fetchone()[0][0]["Plan"]

    scans = list(_nodes(plan))
    (scan,) = [node for node in scans if node.get("Relation Name") == "cases_hotspottally"]
    assert scan["Index Name"] == "hotspot_tally_top"
    assert scan["Actual Rows"] <= selectors.LIST_LENGTH  # ten index entries, not the month's 5 000
    assert not [node for node in scans if node["Node Type"] == "Sort" and node.get("Actual Rows", 0) > 20]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)
