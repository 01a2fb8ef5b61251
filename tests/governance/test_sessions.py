"""Sessions live in the shared cache and in the database (``governance.sessions``)."""

from __future__ import annotations

from http.cookies import SimpleCookie
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.models import Role
from tests.factories import staff

pytestmark = pytest.mark.django_db


def session_reads(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("cases:queue")).status_code == 200
    return sum('"django_session"' in query["sql"] for query in captured.captured_queries)


def test_a_page_reads_its_session_from_the_cache_and_a_lost_cache_loses_no_session(client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    assert Session.objects.filter(session_key=client.session.session_key).exists()  # written through
    assert session_reads(client) == 0
    cache.clear()  # Redis restarted
    assert session_reads(client) == 1  # still signed in, from the row, and cached again
    assert session_reads(client) == 0


def test_pages_keep_working_from_the_database_while_the_cache_is_away(client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    cache.clear()
    with mock.patch.object(cache, "get", side_effect=ConnectionError), \
            mock.patch.object(cache, "set", side_effect=ConnectionError):
        assert session_reads(client) == 1


def test_a_session_ended_in_one_tab_is_ended_in_the_other(client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    other_tab = Client()
    other_tab.cookies = SimpleCookie(client.cookies)
    assert other_tab.get(reverse("cases:queue")).status_code == 200
    client.post(reverse("logout"))
    assert other_tab.get(reverse("cases:queue")).status_code == 302
    assert not Session.objects.exists()
