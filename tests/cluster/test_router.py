"""The replica router's decisions and the read-your-writes marker (no replica needed).

The routing itself on a real streaming replica is tests/cluster/test_replica_routing.py.
"""

import time

import pytest
from django.urls import reverse

from cases.models import Case
from communities.models import Role
from governance.cluster import middleware, routing
from tests.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def replicas(settings):
    settings.DATABASE_REPLICAS = ["replica1"]
    return settings


def test_outside_a_request_the_router_has_no_opinion(replicas):
    router = routing.ReplicaRouter()
    assert router.db_for_read(Case) is None
    assert router.db_for_write(Case) == "default"


def test_a_request_reads_its_replica_until_it_writes(replicas):
    router = routing.ReplicaRouter()
    token = routing.begin()
    try:
        routing.current().replica = "replica1"
        assert router.db_for_read(Case) == "replica1"
        assert router.db_for_write(Case) == "default"
        assert router.db_for_read(Case) is None  # read-your-writes inside the request
        assert routing.current().wrote and routing.current().read_replica
    finally:
        routing.end(token)
    assert routing.current() is None


def test_users_tokens_and_sessions_are_always_read_from_the_primary(replicas):
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session
    from rest_framework.authtoken.models import Token

    router = routing.ReplicaRouter()
    token = routing.begin()
    try:
        routing.current().replica = "replica1"
        for model in (get_user_model(), Session, Token):
            assert router.db_for_read(model) is None, model
        assert router.db_for_read(Case) == "replica1"
    finally:
        routing.end(token)


def test_nothing_is_migrated_on_a_replica(replicas):
    router = routing.ReplicaRouter()
    assert router.allow_migrate("replica1", "cases") is False
    assert router.allow_migrate("default", "cases") is None


def test_which_views_a_replica_may_serve(settings):
    assert middleware.eligible("dashboards:unit") and middleware.eligible("dashboards:report")
    assert middleware.eligible("projects_public:community") and middleware.eligible("api:case-list")
    assert middleware.eligible("proactive:hotspots_unit") and middleware.eligible("cases:export")
    for name in ("cases:detail", "cases:queue", "api:case-detail", "cases_public:report", "proactive:themes"):
        assert not middleware.eligible(name), name


def test_a_residents_submission_pins_that_browser_to_the_primary_for_a_while(replicas, client, report_form_data):
    response = client.post(reverse("cases_public:report"), report_form_data)
    assert response.status_code == 302 and Case.objects.count() == 1
    cookie = response.cookies[middleware.COOKIE_NAME]
    assert 0 < float(cookie.value) - time.time() <= replicas.DATABASE_REPLICA_STICKY_SECONDS
    assert cookie["max-age"] == replicas.DATABASE_REPLICA_STICKY_SECONDS and cookie["httponly"]
    assert replicas.SESSION_COOKIE_NAME not in response.cookies  # no session for a resident


def test_a_staff_write_marks_the_session(replicas, client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    client.get(reverse("cases:queue"))
    assert middleware.SESSION_KEY not in client.session
    client.post(reverse("cases:notifications_read_all"))
    assert client.session[middleware.SESSION_KEY] > time.time()


def test_without_replicas_nothing_is_marked(client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    client.post(reverse("cases:notifications_read_all"))
    assert middleware.SESSION_KEY not in client.session
