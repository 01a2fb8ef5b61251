"""Rates per scope: reads and writes counted apart, per account, in the shared cache."""

from __future__ import annotations

import pytest
from rest_framework.settings import api_settings

from communities.models import Role
from tests.api.conftest import client_for
from tests.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**scoped):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**api_settings.DEFAULT_THROTTLE_RATES, **scoped},
        }
    return set_rates


def test_reads_over_the_rate_get_429_with_retry_after(rates, street):
    rates(**{"api.read": "3/min"})
    client = client_for(staff(street, Role.DISPATCHER))
    assert [client.get("/api/v1/units/").status_code for _i in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/units/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "throttled"


def test_each_account_has_its_own_count_and_writes_count_apart(rates, street, grid):
    rates(**{"api.read": "1/min", "api.write": "1/min"})
    first, second = client_for(staff(street, Role.DISPATCHER)), client_for(staff(street, Role.DISPATCHER))
    assert first.get("/api/v1/units/").status_code == 200
    assert first.get("/api/v1/units/").status_code == 429
    assert second.get("/api/v1/units/").status_code == 200
    # A write is counted in its own scope: the exhausted read rate does not block it.
    assert first.post("/api/v1/cases/", {}, format="json").status_code == 400
    assert first.post("/api/v1/cases/", {}, format="json").status_code == 429
