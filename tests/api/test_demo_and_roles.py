"""The demo's 12345 system account, and what each role may do through the API."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from cases.models import Case
from communities.models import Role
from governance.api import demo
from tests.api.conftest import client_for
from tests.cases.factories import new_case
from tests.factories import staff

pytestmark = pytest.mark.django_db


def test_the_demo_system_account_pushes_and_reads_with_its_token(area, street, grid, category):
    first, again = demo.load(), demo.load()
    assert first == again and Token.objects.filter(user__username=demo.USERNAME).count() == 1

    client = Client(HTTP_AUTHORIZATION=f"Token {demo.TOKEN}")
    pushed = client.post("/api/v1/cases/", {
        "source": "hotline", "hotline_order_no": "2411230001", "category": category.code, "title": "楼道灯坏了",
        "description": "41号楼楼道灯坏了", "location_unit": grid.code,
    }, content_type="application/json")
    assert pushed.status_code == 201
    assert [row["code"] for row in client.get("/api/v1/cases/").json()["results"]] == [pushed.json()["code"]]
    created = Client().post("/open311/v2/requests.json", urlencode({
        "api_key": demo.TOKEN, "service_code": category.code, "address_id": grid.code, "description": "路灯不亮了",
    }), content_type="application/x-www-form-urlencoded")
    assert created.status_code == 201
    assert not Client().login(username=demo.USERNAME, password="")  # the token is its only way in


# Who may register a request and who may accept one (the pages' rules, through the API).
MAY_TAKE_IN = {Role.DISPATCHER, Role.CASEWORKER, Role.GRID_WORKER}
MAY_NOT_TAKE_IN = {Role.SECRETARY, Role.DIRECTOR, Role.DEPUTY_DIRECTOR, Role.SUPERVISOR, Role.ADMINISTRATOR}


@pytest.mark.parametrize("role", sorted(MAY_TAKE_IN | MAY_NOT_TAKE_IN))
def test_registering_a_request_by_role(community, grid, category, role):
    unit = grid if role == Role.GRID_WORKER else community
    response = client_for(staff(unit, role)).post("/api/v1/cases/", {
        "source": "walk_in", "category": category.code, "title": "楼道灯坏了", "description": "41号楼楼道灯坏了",
        "location_unit": unit.code,
    }, format="json")
    assert response.status_code == (201 if role in MAY_TAKE_IN else 403)
    assert Case.objects.count() == (1 if role in MAY_TAKE_IN else 0)
    if role in MAY_TAKE_IN:  # it waits at the street's desk, out of a community post's sight, but its author gets it back
        assert response.json()["unit"] == community.parent.code


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.GRID_WORKER, Role.SUPERVISOR, Role.DIRECTOR])
def test_accepting_a_case_dispatched_to_the_grid_by_role(street, grid, category, role):
    from cases import services

    case = services.dispatch(case=new_case(place=grid, category=category), to_unit=grid, by=staff(street, Role.DISPATCHER))
    unit = grid if role in (Role.CASEWORKER, Role.GRID_WORKER, Role.SUPERVISOR) else grid.parent
    response = client_for(staff(unit, role)).post(f"/api/v1/cases/{case.code}/accept/")
    allowed = role in (Role.CASEWORKER, Role.GRID_WORKER)
    assert response.status_code == (200 if allowed else 403)
    assert Case.objects.get(pk=case.pk).status == ("accepted" if allowed else "dispatched")
