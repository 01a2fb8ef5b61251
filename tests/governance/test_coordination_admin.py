"""The coordination admin: read-only, every changelist in the administrator's subtree."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.models import Role
from governance.coordination import services
from governance.models import Meeting, Poll
from tests.factories import staff
from tests.governance.coordination_factories import households

pytestmark = pytest.mark.django_db


def meeting(by, unit) -> Meeting:
    return services.create_meeting(title="议事会", format="council_hall", level="community", unit=unit,
                                   place="议事厅", starts_at=timezone.now(), by=by)


def poll(by, building) -> Poll:
    households(building, units=1, floors=1)
    today = timezone.localdate()
    return services.open_poll(title="加装电梯", question="?", buildings=[building], rule="yanshan", by=by,
                              opens_on=today, closes_on=today + timedelta(days=3))


@pytest.fixture
def admin_here(client, community):
    user = staff(community, Role.ADMINISTRATOR)
    client.force_login(user)
    return user


def test_meeting_changelist_shows_only_the_subtree(client, admin_here, director, sibling_director,
                                                  community, sibling_community):
    mine, _there = meeting(director, community), meeting(sibling_director, sibling_community)
    response = client.get(reverse("admin:governance_meeting_changelist"))
    assert response.status_code == 200 and list(response.context["cl"].result_list) == [mine]


def test_a_sibling_communitys_poll_is_404_in_the_admin(client, admin_here, sibling_director, sibling_building):
    there = poll(sibling_director, sibling_building)
    assert client.get(reverse("admin:governance_poll_change", args=[there.pk])).status_code == 404


def test_the_coordination_admin_is_read_only(client, admin_here, director, community, building):
    own = poll(director, building)
    page = client.get(reverse("admin:governance_poll_change", args=[own.pk]))
    assert page.status_code == 200 and b'name="title"' not in page.content
    assert client.post(reverse("admin:governance_poll_change", args=[own.pk]), {"title": "x"}).status_code == 403
    assert client.get(reverse("admin:governance_meeting_add")).status_code == 403
    own.refresh_from_db()
    assert own.title == "加装电梯"


@pytest.mark.parametrize("model", ["whistle", "meeting", "actionitem", "poll"])
def test_each_changelist_opens(client, admin_here, model):
    assert client.get(reverse(f"admin:governance_{model}_changelist")).status_code == 200
