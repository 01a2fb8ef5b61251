"""The append-only security log: what is written, that it cannot be changed, who may read it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token

from cases import services as case_services
from communities.models import Role, SecurityEvent
from communities.security import client_ip, log_event
from tests import factories as f
from tests.cases.factories import CaseFactory, walk

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind


@pytest.fixture
def worker(community):
    return f.staff(community, Role.CASEWORKER)


def test_client_ip_reads_the_trusted_hop_from_the_right(settings):
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.1.1.7, 10.9.9.9", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXIES = ["10.0.0.1", "10.9.9.9"]
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "10.1.1.7"
    settings.TRUSTED_PROXY_COUNT = 5  # fewer entries than proxies: nothing trustworthy in the header
    assert client_ip(request) == "10.0.0.1"


def test_an_entry_cannot_be_changed_or_deleted_through_the_orm(worker):
    event = log_event(Kind.DENIED, user=worker)
    event.username = "someone else"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        SecurityEvent.objects.filter(pk=event.pk).update(username="x")
    with pytest.raises(PermissionError):
        SecurityEvent.objects.all().delete()
    assert SecurityEvent.objects.get(pk=event.pk).username == worker.username


@pytest.mark.postgres
def test_postgresql_refuses_update_and_delete_in_sql(worker):
    event = log_event(Kind.DENIED, user=worker)
    for sql in ("UPDATE communities_securityevent SET username = 'x' WHERE id = %s",
                "DELETE FROM communities_securityevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert SecurityEvent.objects.filter(pk=event.pk, username=worker.username).exists()


def test_a_sibling_case_is_a_logged_404_on_a_staff_page(client, worker, sibling_community):
    sibling_case = CaseFactory(location_unit=sibling_community)
    client.force_login(worker)
    url = reverse("cases:detail", kwargs={"code": sibling_case.code})
    assert client.get(url).status_code == 404
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user, event.path, event.detail) == (Kind.NOT_FOUND, worker, url, {"status": 404})
    assert event.unit_path == worker.posts.get().unit.path


def test_an_address_that_matches_no_page_is_not_logged(client, worker):
    client.force_login(worker)
    assert client.get("/no-such-page/").status_code == 404
    assert not SecurityEvent.objects.exists()


def test_anonymous_404s_on_public_pages_are_not_logged(client):
    assert client.get(reverse("cases_public:poster", kwargs={"code": "nowhere"})).status_code == 404
    assert not SecurityEvent.objects.exists()


def test_a_forbidden_action_is_logged(client, community, street):
    supervisor = f.staff(community, Role.SUPERVISOR)
    case = CaseFactory(location_unit=community)
    client.force_login(supervisor)
    response = client.post(reverse("cases:accept", kwargs={"code": case.code}))
    assert response.status_code == 403
    assert SecurityEvent.objects.get().kind == Kind.DENIED


def test_a_wrong_api_token_is_an_authentication_failure(client):
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user, event.path) == (Kind.AUTH_FAILED, None, "/api/v1/cases/")


def test_an_api_404_outside_the_scope_names_the_token_user(client, worker, sibling_community):
    sibling_case = CaseFactory(location_unit=sibling_community)
    token = Token.objects.create(user=worker)
    response = client.get(f"/api/v1/cases/{sibling_case.code}/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 404
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user) == (Kind.NOT_FOUND, worker)


def test_revealing_a_phone_number_is_logged(community, street):
    dispatcher = f.staff(street, Role.DISPATCHER)
    handler = f.staff(community, Role.CASEWORKER)
    case = walk(CaseFactory(location_unit=community), to="accepted", dispatcher=dispatcher, handler=handler)
    case_services.reveal_phone(case=case, by=handler)
    event = SecurityEvent.objects.get(kind=Kind.PII_REVEALED)
    assert event.user == handler and event.detail == {"case": case.code, "field": "resident_phone"}


def test_a_failed_login_under_an_unknown_name_is_logged_without_a_unit(client):
    client.post(reverse("login"), {"username": "nobody", "password": "guess"})
    event = SecurityEvent.objects.get()
    assert (event.kind, event.username, event.user, event.unit_path) == (Kind.LOGIN_FAILED, "nobody", None, "")


# --- reading the log in the admin ----------------------------------------------------------


@pytest.fixture
def events(community, sibling_community, street):
    return {
        "own": log_event(Kind.DENIED, user=f.staff(community, Role.CASEWORKER)),
        "sibling": log_event(Kind.DENIED, user=f.staff(sibling_community, Role.CASEWORKER)),
        "unplaced": log_event(Kind.LOGIN_FAILED, username="nobody"),
    }


def changelist(client, user) -> set[int]:
    client.force_login(user)
    response = client.get(reverse("admin:communities_securityevent_changelist"))
    assert response.status_code == 200
    return {event.pk for event in response.context["cl"].result_list}


def test_a_community_administrator_reads_only_their_communitys_entries(client, community, events):
    assert changelist(client, f.staff(community, Role.ADMINISTRATOR)) == {events["own"].pk}


def test_the_area_administrator_reads_everything_in_the_area(client, area, events):
    assert changelist(client, f.staff(area, Role.ADMINISTRATOR)) == {event.pk for event in events.values()}


def test_a_sibling_entry_is_404_and_nothing_is_editable(client, community, events):
    client.force_login(f.staff(community, Role.ADMINISTRATOR))
    sibling = reverse("admin:communities_securityevent_change", args=[events["sibling"].pk])
    assert client.get(sibling).status_code == 404
    own = reverse("admin:communities_securityevent_change", args=[events["own"].pk])
    page = client.get(own)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(own, {"username": "x"}).status_code == 403
    assert client.get(reverse("admin:communities_securityevent_delete", args=[events["own"].pk])).status_code == 403
    assert client.get(reverse("admin:communities_securityevent_add")).status_code == 403


def test_a_caseworker_cannot_open_the_log(client, community, events):
    client.force_login(f.staff(community, Role.CASEWORKER))
    assert client.get(reverse("admin:communities_securityevent_changelist")).status_code in (302, 403)


def test_forwarded_for_is_read_only_from_a_trusted_proxy(settings):
    """A client that reaches gunicorn directly cannot choose its address with X-Forwarded-For
    (issue 17, item 10): the header counts only when REMOTE_ADDR is in TRUSTED_PROXIES."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    direct = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="203.0.113.50")
    assert client_ip(direct) == "203.0.113.50"
    proxied = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4", REMOTE_ADDR="10.0.0.2")
    assert client_ip(proxied) == "198.51.100.4"
    settings.TRUSTED_PROXIES = []
    assert client_ip(proxied) == "10.0.0.2"


def test_each_hop_is_passed_only_while_its_writer_is_trusted(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    settings.TRUSTED_PROXIES = ["10.0.0.1", "10.9.9.9"]
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.1.1.7, 10.9.9.9", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "10.1.1.7"
    settings.TRUSTED_PROXIES = ["10.0.0.1"]  # the second proxy is not ours: what it says is not believed
    assert client_ip(request) == "10.9.9.9"
