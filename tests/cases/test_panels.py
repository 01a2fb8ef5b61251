"""Later apps add sections to the case page through communities.panels, never by import."""

import pytest

from communities import panels
from communities.models import Role
from tests import factories as f
from tests.cases.factories import CaseFactory


@pytest.fixture
def temporary_panel():
    def panel(request, case):
        return f"<section id='extra'>{case.code} for {request.user.username}</section>"

    panels.register("case_detail")(panel)
    yield panel
    panels._registry["case_detail"] = [p for p in panels._registry["case_detail"] if p[1] is not panel]


def test_a_registered_panel_shows_on_the_case_page(client, community, temporary_panel):
    worker = f.staff(community, Role.CASEWORKER)
    case = CaseFactory(location_unit=community)
    client.force_login(worker)

    page = client.get(case.get_absolute_url()).content.decode()

    assert f"<section id='extra'>{case.code} for {worker.username}</section>" in page


def test_a_panel_that_returns_nothing_leaves_no_trace(rf, community):
    panels.register("empty_slot")(lambda request, obj: None)
    assert panels.render("empty_slot", rf.get("/"), object()) == []
