"""A NUL character (``%00``) in a query string is a 400, never a server error (PostgreSQL refuses it)."""

import pytest
from django.test import Client

from communities.models import Role
from tests.api.conftest import client_for
from tests.factories import staff

pytestmark = pytest.mark.django_db

PAGES = [
    "/report/?unit=a%00",  # a poster's link
    "/report/places/?street=%00&community=1",
    "/track/?code=%00",
    "/volunteers/join/?street=%00",
]
STAFF_PAGES = ["/projects/?unit=%00", "/cases/?q=%00", "/volunteers/?unit=%00", "/meetings/new/?unit=%00"]
API = ["/api/v1/cases/?unit=a%00", "/api/v1/volunteers/?unit=%00", "/api/v1/units/?within=%00"]


@pytest.mark.parametrize("url", PAGES)
def test_public_pages_answer_400(url):
    assert Client().get(url).status_code == 400


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_answer_400(client, community, url):
    client.force_login(staff(community, Role.DIRECTOR))
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("url", API)
def test_the_api_answers_in_its_own_format(community, url):
    response = client_for(staff(community, Role.DIRECTOR)).get(url)
    assert response.status_code in (200, 400) and response["Content-Type"] == "application/json"


def test_an_ordinary_query_string_passes(client):
    assert client.get("/report/?unit=xc-3").status_code == 200
