"""Monthly themes through the API: read-only, scoped like the pages, one theme with its effect."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import rates
from communities.models import Role
from governance.themes import services
from tests.api.conftest import client_for
from tests.cases.factories import CategoryFactory
from tests.factories import staff
from tests.governance.proactive_factories import cases_in

pytestmark = pytest.mark.django_db


def adopt(unit, by, title="电动自行车充电难", **fields):
    fields.setdefault("category", CategoryFactory())
    month = rates.current_month()
    return services.adopt_theme(unit=unit, month=month, title=title, problems=["没有充电桩"], by=by, **fields)


def test_themes_are_scoped_and_one_theme_carries_its_effect(community, sibling_community, grid):
    director = staff(community, Role.DIRECTOR)
    mine = adopt(community, director)
    theirs = adopt(sibling_community, staff(sibling_community, Role.DIRECTOR), title="楼道堆物")
    cases_in(rates.current_month(), 2, place=grid, category=mine.category, handled_by=community)
    client = client_for(director)
    rows = client.get("/api/v1/themes/").json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    assert rows[0]["problems"] == ["没有充电桩"] and rows[0]["unit"] == community.code
    assert client.get(f"/api/v1/themes/{theirs.pk}/").status_code == 404
    detail = client.get(f"/api/v1/themes/{mine.pk}/").json()
    assert detail["effect"]["counts"][-1] == 2


def test_themes_need_the_view_permission(community):
    adopt(community, staff(community, Role.DIRECTOR))
    liaison = staff(community.parent.parent, Role.DEPARTMENT_LIAISON)
    assert client_for(liaison).get("/api/v1/themes/").status_code == 403


def test_theme_list_runs_the_same_queries_for_5_and_50_rows(street, django_assert_max_num_queries):
    director = staff(street, Role.DIRECTOR)

    def make(n):
        for _i in range(n):
            adopt(street, director)

    client = client_for(director)
    make(5)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/themes/?page_size=200").json()["results"]) == 5
    make(45)
    with django_assert_max_num_queries(len(few)):
        assert len(client.get("/api/v1/themes/?page_size=200").json()["results"]) == 50
