"""Later apps' sections appear on the building, unit and workspace pages."""

import pytest

from communities import panels
from communities.models import Role
from tests import factories as f


@pytest.fixture
def marker_panels():
    added = []
    for slot in ("building_detail", "unit_detail", "workspace"):
        def panel(request, obj, slot=slot):
            return f"<aside data-slot='{slot}'>{obj}</aside>"
        panels.register(slot)(panel)
        added.append((slot, panel))
    yield
    for slot, panel in added:
        panels._registry[slot] = [p for p in panels._registry[slot] if p[1] is not panel]


def test_building_unit_and_workspace_pages_render_registered_panels(client, community, building, marker_panels):
    worker = f.staff(community, Role.CASEWORKER)
    client.force_login(worker)

    assert f"<aside data-slot='building_detail'>{building}</aside>" in client.get(building.get_absolute_url()).content.decode()
    assert f"<aside data-slot='unit_detail'>{community}</aside>" in client.get(community.get_absolute_url()).content.decode()
    assert "<aside data-slot='workspace'>" in client.get("/workspace/").content.decode()
