"""The OpenAPI schema is valid, served with its docs page from local files, and true:
schemathesis generates requests from it and checks every answer against it."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from cases import rates
from communities.models import Role
from tests.cases.factories import CaseFactory, new_case, walk
from tests.factories import staff

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi_3(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {"/api/v1/cases/", "/api/v1/cases/{code}/", "/api/v1/cases/{code}/accept/",
            "/api/v1/units/{code}/scores/", "/api/v1/monthly-scores/"} <= paths
    assert not any(path.startswith("/open311/") for path in paths)


def test_every_operation_documents_its_errors(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401", "403", "404", "429"} <= set(operation["responses"]), (method, path)
            if method == "post":
                assert "409" in operation["responses"], path


def test_the_docs_page_loads_swagger_ui_from_local_files(client):
    page = client.get("/api/docs/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts and all(src.startswith("/") for src in scripts), scripts
    assert "<script>" not in page  # the init script is a separate file (a strict CSP can allow it)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in scripts
    init = client.get(scripts[-1])
    assert init.status_code == 200 and "/api/schema/" in init.content.decode()
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200


# --- schemathesis ---------------------------------------------------------------------------

# Bounded for the suite (about 20 s); API_FUZZ_EXAMPLES=200 API_FUZZ_COVERAGE=1 for a deep run.
FUZZ_CONFIG = {
    "generation": {"max-examples": int(os.environ.get("API_FUZZ_EXAMPLES", "5")), "deterministic": True,
                   "allow-x00": True},
    "phases": {"coverage": {"enabled": os.environ.get("API_FUZZ_COVERAGE") == "1"}, "stateful": {"enabled": False}},
    # A schema cannot say which codes exist: a well-formed body naming an unknown unit is a 400,
    # a well-formed code in the path of an object that does not exist a 404 …
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}},
    # … but a list is always there.
    "operations": [{
        "include-name-regex": r"^GET /api/v1/[a-z-]+/$",
        "checks": {"positive_data_acceptance": {"expected-statuses": ["200", "400"]}},
    }],
}


@pytest.fixture
def api_schema(db, street, community, grid, sibling_community, building, settings):
    """Real data to find (cases in several states, a frozen month) and a dispatcher's token."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}  # no 429 mid-run
    # Like Django's test client: the start and end of a request must not close the test's
    # connection (on PostgreSQL that would drop the test transaction and everything made in it).
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield _loaded_schema(street, community, grid, sibling_community, building)
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)


def _loaded_schema(street, community, grid, sibling_community, building):
    dispatcher, worker = staff(street, Role.DISPATCHER), staff(grid, Role.GRID_WORKER)
    walk(new_case(place=grid, building=building), to="contacted", dispatcher=dispatcher, handler=worker)
    walk(new_case(place=grid), to="dispatched", dispatcher=dispatcher, handler=worker)
    new_case(place=community)
    CaseFactory(location_unit=sibling_community, received_at=rates.month_bounds(date(2026, 1, 1))[0])
    rates.freeze_month(month=date(2026, 1, 1))
    _corps_and_coordination(street, grid, building)
    token = Token.objects.create(user=dispatcher)
    config = schemathesis.config.SchemathesisConfig.from_dict(FUZZ_CONFIG)
    loaded = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)
    loaded.config.headers = {**(loaded.config.headers or {}), "Authorization": f"Token {token.key}"}
    return loaded


def _corps_and_coordination(street, grid, building) -> None:
    from django.utils import timezone

    from governance.coordination import services as coordination
    from tests.governance.coordination_factories import households
    from tests.volunteers.factories import ActivityFactory, SkillFactory, VolunteerFactory

    VolunteerFactory(unit=grid, skills=[SkillFactory()])
    ActivityFactory(unit=grid)
    secretary = staff(street, Role.SECRETARY)
    coordination.create_meeting(title="议事会", format="bench", level="building", unit=grid, place="石桌",
                                starts_at=timezone.now(), by=secretary)
    from governance.projects import services as projects

    item = projects.create_project(title="充电桩", unit=grid, deadline=timezone.localdate(), source="hotspot",
                                   owner_unit=grid, budget=1000, by=secretary)
    projects.create_project(title="一号院", unit=grid, deadline=timezone.localdate(), source="hotspot",
                            owner_user=secretary, parent=item, by=secretary)
    households(building, units=1, floors=1, per_floor=2)
    coordination.open_poll(title="加装电梯", question="同意吗？", buildings=[building], by=secretary, rule="yanshan",
                           opens_on=timezone.localdate(), closes_on=timezone.localdate())
    from cases.models import Category
    from governance.themes import services as themes

    themes.adopt_theme(unit=street, month=timezone.localdate(), title="电动自行车充电难", by=secretary,
                       category=Category.objects.first(), problems=["没有充电桩"])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case):
    case.call_and_validate()
