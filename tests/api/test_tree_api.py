"""Units, buildings, categories and scores through the API: scoped like the pages."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from cases import rates
from communities.models import Role
from tests.api.conftest import client_for
from tests.cases.factories import CaseFactory, CategoryFactory, new_case, walk
from tests.factories import BuildingFactory, staff

pytestmark = pytest.mark.django_db


def results(response, key: str = "code") -> list:
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


# --- units ---------------------------------------------------------------------------------


def test_units_are_the_users_subtree(community, grid, sibling_grid, sibling_community, street):
    client = client_for(staff(community, Role.CASEWORKER))
    assert results(client.get("/api/v1/units/")) == [community.code, grid.code, sibling_grid.code]


def test_a_sibling_unit_is_404(community, sibling_community):
    client = client_for(staff(community, Role.CASEWORKER))
    assert client.get(f"/api/v1/units/{sibling_community.code}/").status_code == 404
    assert client.get(f"/api/v1/units/{community.code}/").json()["parent"] == "xingcheng"


def test_units_filter_by_level_parent_and_subtree(street, community, grid, sibling_community):
    client = client_for(staff(street, Role.DISPATCHER))
    assert results(client.get("/api/v1/units/?level=community")) == [community.code, sibling_community.code]
    assert results(client.get(f"/api/v1/units/?parent={community.code}")) == [grid.code]
    assert results(client.get(f"/api/v1/units/?within={community.code}")) == [community.code, grid.code]
    assert client.get("/api/v1/units/?level=planet").status_code == 400


def test_units_need_the_view_permission(db, community):
    from tests.factories import UserFactory

    assert client_for(UserFactory()).get("/api/v1/units/").status_code == 403


# --- buildings -----------------------------------------------------------------------------


def test_buildings_are_scoped_and_filtered_by_subtree(community, building, sibling_building, grid, sibling_grid):
    other = BuildingFactory(unit=sibling_grid)
    client = client_for(staff(community, Role.CASEWORKER))
    assert sorted(results(client.get("/api/v1/buildings/"), "id")) == sorted([building.pk, other.pk])
    assert results(client.get(f"/api/v1/buildings/?unit={grid.code}"), "id") == [building.pk]
    assert client.get(f"/api/v1/buildings/{sibling_building.pk}/").status_code == 404
    assert client.get(f"/api/v1/buildings/{building.pk}/").json()["unit"] == grid.code


# --- categories ----------------------------------------------------------------------------


def test_categories_are_the_same_everywhere_and_filter_by_activity(community):
    parent = CategoryFactory(code="zz-housing")
    CategoryFactory(code="zz-leak", parent=parent)
    CategoryFactory(code="zz-old", active=False)
    client = client_for(staff(community, Role.CASEWORKER))
    assert "zz-old" not in results(client.get("/api/v1/categories/?active=true&page_size=200"))
    assert results(client.get("/api/v1/categories/?parent=zz-housing")) == ["zz-leak"]
    assert client.get("/api/v1/categories/zz-leak/").json()["parent"] == "zz-housing"


# --- scores --------------------------------------------------------------------------------


def test_unit_scores_rank_the_children_for_the_month(street, community, sibling_community, grid):
    from django.utils import timezone

    from cases import services

    dispatcher, worker = staff(street, Role.DISPATCHER), staff(grid, Role.GRID_WORKER)
    good = walk(new_case(place=grid), to="resolved", dispatcher=dispatcher, handler=worker)
    services.rate(case=good, resolved=True, satisfaction="satisfied", channel="web")
    CaseFactory(location_unit=sibling_community, status="closed", rated_at=timezone.now(),
                rated_resolved=False, satisfaction="unsatisfied")
    month = rates.current_month().strftime("%Y-%m")

    data = client_for(dispatcher).get(f"/api/v1/units/{street.code}/scores/?month={month}").json()

    assert data["month"] == month and data["frozen"] is False
    assert (data["unit"]["unit"], data["unit"]["dispatched"], data["unit"]["rated"]) == (street.code, 2, 2)
    ranked = [(row["unit"], row["rank"], row["lowest"], row["composite"]) for row in data["children"]]
    assert ranked == [(community.code, 1, False, "100.00"), (sibling_community.code, 2, True, "0.00")]


def test_scores_of_a_sibling_unit_are_404_and_bad_months_400(community, sibling_community):
    client = client_for(staff(community, Role.DIRECTOR))
    assert client.get(f"/api/v1/units/{sibling_community.code}/scores/").status_code == 404
    response = client.get(f"/api/v1/units/{community.code}/scores/?month=13-2026")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["month"]


def test_frozen_months_are_listed_for_the_users_subtree(area, street, community, sibling_street):
    CaseFactory(location_unit=community, received_at=rates.month_bounds(date(2026, 1, 1))[0])
    rates.freeze_month(month=date(2026, 1, 1))
    client = client_for(staff(street, Role.SECRETARY))

    rows = client.get("/api/v1/monthly-scores/?month=2026-01&page_size=200").json()["results"]

    assert {row["unit"] for row in rows} == {street.code, community.code}
    assert next(row for row in rows if row["unit"] == community.code)["dispatched"] == 1
    assert results(client.get(f"/api/v1/monthly-scores/?within={community.code}"), "unit") == [community.code]
    assert results(client.get("/api/v1/monthly-scores/?month=2025-12"), "unit") == []
    assert client.get("/api/v1/monthly-scores/?month=January").status_code == 400


def test_api_root_lists_the_endpoints(community):
    body = client_for(staff(community, Role.CASEWORKER)).get("/api/v1/").json()
    assert set(body) == {
        "cases", "categories", "units", "buildings", "monthly-scores", "volunteers", "activities", "meetings", "polls",
        "projects",
        "themes",
    }
    assert APIClient().get("/api/v1/").status_code == 401

