"""List endpoints run a fixed number of queries, whatever the number of rows (5 vs 50)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases import rates
from communities.models import Role
from tests.api.conftest import client_for
from tests.cases.factories import CaseFactory, CategoryFactory
from tests.factories import BuildingFactory, GridFactory, staff

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def _cases(grid, n: int) -> None:
    handler = staff(grid, Role.GRID_WORKER)
    for _i in range(n):
        category = CategoryFactory()
        CaseFactory(location_unit=grid, category=category, handler=handler, building=BuildingFactory(unit=grid))


def _units(community, n: int) -> None:
    for _i in range(n):
        BuildingFactory(unit=GridFactory(parent=community))


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/cases/?page_size=200", lambda grid, community, n: _cases(grid, n)),
        ("/api/v1/units/?page_size=200", lambda grid, community, n: _units(community, n)),
        ("/api/v1/buildings/?page_size=200", lambda grid, community, n: _units(community, n)),
        ("/api/v1/categories/?page_size=200", lambda grid, community, n: CategoryFactory.create_batch(n)),
    ],
)
def test_list_endpoints_run_the_same_queries_for_5_and_50_rows(street, community, grid, url, make,
                                                               django_assert_max_num_queries):
    client = client_for(staff(street, Role.DISPATCHER))
    make(grid, community, 5)
    few = queries(client, url)
    make(grid, community, 45)
    with django_assert_max_num_queries(few):
        assert len(client.get(url).json()["results"]) >= 50
    assert few <= 8


def test_monthly_scores_run_the_same_queries_for_few_and_many_units(street, community, django_assert_max_num_queries):
    client = client_for(staff(street, Role.DISPATCHER))
    _units(community, 5)
    rates.freeze_month(month=date(2026, 1, 1))
    few = queries(client, "/api/v1/monthly-scores/?month=2026-01&page_size=200")
    _units(community, 45)
    rates.freeze_month(month=date(2026, 2, 1))
    with django_assert_max_num_queries(few):
        assert len(client.get("/api/v1/monthly-scores/?month=2026-02&page_size=200").json()["results"]) >= 50


def test_open311_lists_run_the_same_queries_for_5_and_50_requests(grid, django_assert_max_num_queries):
    _cases(grid, 5)
    few = queries(Client(), "/open311/v2/requests.json")
    services = queries(Client(), "/open311/v2/services.json")
    _cases(grid, 45)
    with django_assert_max_num_queries(few):
        assert len(Client().get("/open311/v2/requests.xml").content) > 0
    with django_assert_max_num_queries(services):
        assert len(Client().get("/open311/v2/services.json").json()) >= 50



def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("url", "client_of", "joins"),
    [
        ("/api/v1/cases/", client_for, 5),  # category, handling unit, place, building, handler
        ("/cases/?queue=all", _signed_in, 4),  # a queue row shows no handler
    ],
)
def test_case_lists_join_only_the_tables_their_rows_show(street, grid, url, client_of, joins):
    """Each further join multiplies the join orders PostgreSQL weighs before it runs the list: at
    1 M cases the API list with seven joins (the case joined to itself for ``merged_into``, the
    dispatching unit) took 60-130 ms to plan and 5 ms to run."""
    _cases(grid, 3)
    with CaptureQueriesContext(connection) as captured:
        assert client_of(staff(street, Role.DISPATCHER)).get(url).status_code == 200
    [statement] = [q["sql"] for q in captured if q["sql"].startswith('SELECT "cases_case"."id"')]
    assert statement.count(" JOIN ") == joins
    assert 'JOIN "cases_case"' not in statement
