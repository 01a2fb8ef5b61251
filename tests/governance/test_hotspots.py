"""Hotspots: the arithmetic (month-over-month change, streaks, ranking, repeats), the page, the case panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import rates
from communities.models import Role
from governance.hotspots import selectors
from tests.cases.factories import CategoryFactory
from tests.factories import BuildingFactory, GridFactory, staff
from tests.governance.proactive_factories import cases_in, months_back, query_count

pytestmark = pytest.mark.django_db

MONTH = rates.previous_month(rates.current_month())


@pytest.fixture
def charging():
    return CategoryFactory(code="ebike", name="电动自行车充电")


@pytest.fixture
def leaks():
    return CategoryFactory(code="roof", name="房屋漏雨")


@pytest.fixture
def history(community, grid, sibling_grid, sibling_community, charging, leaks):
    """Six months of cases handled by 星城第三社区, in its two grids (see each line)."""
    def add(place, category, counts, **fields):
        for back, count in counts.items():
            cases_in(months_back(MONTH, back), count, place=place, category=category, handled_by=community, **fields)

    add(grid, charging, {3: 2, 2: 2, 1: 2, 0: 3})          # rising +1 … and four months in a row
    cases_in(MONTH, 2, place=grid, category=charging, handled_by=community, phone="13811112222")  # one repeat caller
    add(grid, leaks, {1: 1, 0: 3})                          # rising +2
    add(sibling_grid, charging, {1: 4, 0: 1})               # falling
    add(sibling_grid, leaks, {2: 3, 1: 3, 0: 3})            # flat, three months in a row
    # Handled by the sibling community: never counted under 星城第三社区.
    cases_in(MONTH, 9, place=sibling_community, category=charging)


def _by_key(found):
    return {(c.place, c.category): c for c in found}


def test_month_over_month_change_streak_and_baseline(history, community, grid, sibling_grid):
    months, found = selectors.clusters(community, MONTH, level="grid")
    clusters = _by_key(found)
    charging = clusters[(grid.name, "电动自行车充电")]
    assert months[-1] == MONTH and len(months) == selectors.WINDOW_MONTHS
    assert charging.counts[-4:] == [2, 2, 2, 5]
    assert (charging.current, charging.previous, charging.change) == (5, 2, 3)
    assert charging.baseline == 2 and charging.streak == 4
    assert charging.repeat_callers == 1
    falling = clusters[(sibling_grid.name, "电动自行车充电")]
    assert falling.change == -3 and falling.streak == 0
    assert len(found) == 4  # the sibling community's nine cases are not here


def test_ranking_rising_and_persistent(history, community, grid, sibling_grid):
    top = selectors.top_clusters(community, MONTH, level="grid")
    assert [(c.place, c.category, c.change) for c in top.rising] == [
        (grid.name, "电动自行车充电", 3), (grid.name, "房屋漏雨", 2),
    ]
    assert [(c.place, c.category, c.streak) for c in top.persistent] == [
        (grid.name, "电动自行车充电", 4), (sibling_grid.name, "房屋漏雨", 3),
    ]


def test_clusters_fold_onto_the_community_at_street_level(history, street, community):
    found = _by_key(selectors.clusters(street, MONTH, level="community")[1])
    charging = found[(community.name, "电动自行车充电")]
    assert charging.counts[-4:] == [2, 2, 6, 6]
    assert charging.change == 0


def test_building_clusters_name_their_building(community, grid, charging):
    building = BuildingFactory(unit=grid, name="星城二里41号楼")
    cases_in(months_back(MONTH, 1), 1, place=grid, category=charging, building=building)
    cases_in(MONTH, 3, place=grid, category=charging, building=building)
    top = selectors.top_clusters(grid, MONTH)
    assert top.level == "building"
    assert [(c.building, c.current, c.change) for c in top.rising] == [("星城二里41号楼", 3, 2)]


def test_repeat_addresses_count_buildings_and_addresses(community, grid, charging):
    building = BuildingFactory(unit=grid)
    cases_in(MONTH, 2, place=grid, category=charging, handled_by=community, building=building)
    cases_in(MONTH, 2, place=grid, category=charging, handled_by=community, address="星城二里东门车棚")
    cases_in(MONTH, 1, place=grid, category=charging, handled_by=community, address="星城二里西门")
    cluster = selectors.top_clusters(community, MONTH, level="grid").rising[0]
    assert cluster.repeat_addresses == 2


# ------------------------------------------------------------------ the page


def test_page_lists_rising_clusters_with_links_to_their_cases(client, history, community, grid):
    client.force_login(staff(community, Role.DIRECTOR))
    url = reverse("proactive:hotspots_unit", kwargs={"code": community.code})
    response = client.get(url, {"month": MONTH.strftime("%Y-%m"), "level": "grid"})
    assert response.status_code == 200
    rising = response.context["rising"]
    assert rising[0].cluster.category == "电动自行车充电"
    assert f"place={grid.pk}" in rising[0].month_url and "category=" in rising[0].month_url
    assert "Adopt as a theme" in response.content.decode()


def test_unknown_level_falls_back_with_a_message(client, community):
    client.force_login(staff(community, Role.DIRECTOR))
    url = reverse("proactive:hotspots_unit", kwargs={"code": community.code})
    response = client.get(url, {"level": "street"})
    assert response.context["level"] == "grid"
    assert "That grouping does not exist here" in response.content.decode()


def test_sibling_community_page_is_404(client, community, sibling_community):
    client.force_login(staff(community, Role.DIRECTOR))
    url = reverse("proactive:hotspots_unit", kwargs={"code": sibling_community.code})
    assert client.get(url).status_code == 404


def test_upper_tier_page_is_404(client, street, community):
    client.force_login(staff(community, Role.DIRECTOR))
    assert client.get(reverse("proactive:hotspots_unit", kwargs={"code": street.code})).status_code == 404


@pytest.mark.usefixtures("still_clock")  # both requests in the same month, however long the load takes
@pytest.mark.parametrize("level", ["community", "grid", "building"])
def test_page_query_count_does_not_grow(client, street, community, grid, charging, leaks, level):
    client.force_login(staff(street, Role.SUPERVISOR))
    url = reverse("proactive:hotspots_unit", kwargs={"code": street.code}) + f"?level={level}&month={MONTH:%Y-%m}"

    def load(n):
        for i in range(n):
            place = GridFactory(parent=community)
            building = BuildingFactory(unit=place)
            for back in range(4):
                cases_in(months_back(MONTH, back), 2 + i % 3, place=place, category=charging if i % 2 else leaks,
                         handled_by=community, building=building, phone="13700000000")

    load(5)
    small = query_count(client, url)
    load(45)
    assert query_count(client, url) == small


# ------------------------------------------------------------------ the case panel


def test_case_page_shows_siblings_in_the_same_building(client, community, grid, charging, leaks):
    building = BuildingFactory(unit=grid)
    case = cases_in(MONTH, 1, place=grid, category=charging, building=building)[0]
    cases_in(MONTH, 2, place=grid, category=charging, building=building)
    cases_in(MONTH, 1, place=grid, category=leaks, building=building)  # another category
    cases_in(MONTH, 1, place=grid, category=charging, building=BuildingFactory(unit=grid))  # another building
    client.force_login(staff(community, Role.CASEWORKER))
    response = client.get(case.get_absolute_url())
    html = response.content.decode()
    assert "The same problem nearby" in html
    assert "2 other cases of this category in this building" in html


def test_case_panel_keeps_sibling_communities_cases_out(client, community, sibling_community, charging):
    case = cases_in(MONTH, 1, place=community, category=charging)[0]
    hidden = cases_in(MONTH, 1, place=community, category=charging, handled_by=sibling_community)[0]
    client.force_login(staff(community, Role.CASEWORKER))
    html = client.get(case.get_absolute_url()).content.decode()
    assert hidden.code not in html


@pytest.mark.usefixtures("still_clock")
def test_case_panel_query_count_does_not_grow(client, community, grid, charging):
    building = BuildingFactory(unit=grid)
    case = cases_in(MONTH, 1, place=grid, category=charging, building=building)[0]
    client.force_login(staff(community, Role.CASEWORKER))
    cases_in(MONTH, 5, place=grid, category=charging, building=building)
    small = query_count(client, case.get_absolute_url())
    cases_in(MONTH, 50, place=grid, category=charging, building=building)
    assert query_count(client, case.get_absolute_url()) == small


def test_a_caller_naming_two_buildings_is_still_one_repeat_caller(community, grid, charging):
    for building in (BuildingFactory(unit=grid), BuildingFactory(unit=grid)):
        cases_in(MONTH, 1, place=grid, category=charging, handled_by=community, building=building, phone="13800001111")
    cases_in(MONTH, 1, place=grid, category=charging, handled_by=community)
    cluster = selectors.top_clusters(community, MONTH, level="grid").rising[0]
    assert (cluster.current, cluster.repeat_callers, cluster.repeat_addresses) == (3, 1, 0)


def test_hotspots_may_be_kept_in_the_cache(settings, community, grid, charging):
    from django.core.cache import cache

    settings.HOTSPOT_CACHE_SECONDS = 60
    cache.clear()
    cases_in(MONTH, 2, place=grid, category=charging, handled_by=community)
    assert selectors.top_clusters(community, MONTH, level="grid").rising[0].current == 2
    cases_in(MONTH, 2, place=grid, category=charging, handled_by=community)
    assert selectors.top_clusters(community, MONTH, level="grid").rising[0].current == 2  # kept
    settings.HOTSPOT_CACHE_SECONDS = 0
    assert selectors.top_clusters(community, MONTH, level="grid").rising[0].current == 4
    cache.clear()
