"""Refused API tokens count like failed logins, per address (issue 17, item 10)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from communities.models import Role
from tests.api.conftest import client_for
from tests.factories import staff

pytestmark = pytest.mark.django_db


def guesser(key: str, address: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_guessed_tokens_lock_the_address_for_every_token(street, settings):
    settings.AUTH_FAILURES_PER_ADDRESS = 5
    statuses = [guesser(f"{n:040d}", "198.51.100.20").get("/api/v1/units/").status_code for n in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    real = client_for(staff(street, Role.DISPATCHER))
    real.defaults["REMOTE_ADDR"] = "198.51.100.20"
    refused = real.get("/api/v1/units/")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    real.defaults["REMOTE_ADDR"] = "198.51.100.21"
    assert real.get("/api/v1/units/").status_code == 200


def test_failed_logins_and_guessed_tokens_share_one_count(client, street, settings):
    settings.AUTH_FAILURES_PER_ADDRESS = 4
    for _ in range(3):
        client.post("/accounts/login/", {"username": "nobody", "password": "x"}, REMOTE_ADDR="198.51.100.30")
    assert guesser("0" * 40, "198.51.100.30").get("/api/v1/units/").status_code == 401
    assert guesser("1" * 40, "198.51.100.30").get("/api/v1/units/").status_code == 429


def test_a_forged_forwarded_for_from_outside_the_proxies_does_not_escape_the_count(street, settings):
    settings.AUTH_FAILURES_PER_ADDRESS = 3
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    statuses = []
    for n in range(5):
        client = guesser(f"{n:040d}", "203.0.113.9")  # reaches gunicorn directly
        statuses.append(client.get("/api/v1/units/", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code)
    assert statuses == [401] * 3 + [429] * 2
