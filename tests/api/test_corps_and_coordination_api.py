"""Volunteers, activities, meetings and polls through the API: read-only, scoped like the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.utils import timezone

from communities.models import Role
from governance.coordination import services as coordination
from tests.api.conftest import client_for
from tests.factories import GridFactory, UserFactory, staff
from tests.governance.coordination_factories import households
from tests.volunteers.factories import ActivityFactory, SkillFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- volunteers ----------------------------------------------------------------------------


def test_volunteers_are_the_users_subtree_with_masked_phones(community, sibling_community, grid):
    mine = VolunteerFactory(unit=grid, phone="13912345678", skills=[SkillFactory(code="patrol")])
    other = VolunteerFactory(unit=sibling_community)
    client = client_for(staff(community, Role.CASEWORKER))

    rows = client.get("/api/v1/volunteers/").json()["results"]

    assert [row["id"] for row in rows] == [mine.pk]
    assert (rows[0]["phone"], rows[0]["skills"], rows[0]["unit"]) == ("139****5678", ["patrol"], grid.code)
    assert "13912345678" not in str(rows)
    assert client.get(f"/api/v1/volunteers/{other.pk}/").status_code == 404


def test_volunteers_filter_by_status_party_membership_and_place(street, community, grid, sibling_community):
    active = VolunteerFactory(unit=grid, party_member=True)
    applied = VolunteerFactory(unit=community, status="applied")
    elsewhere = VolunteerFactory(unit=sibling_community, party_member=True)
    client = client_for(staff(street, Role.DIRECTOR))
    assert ids(client.get("/api/v1/volunteers/?status=applied")) == [applied.pk]
    assert ids(client.get("/api/v1/volunteers/?party_member=true")) == [active.pk, elsewhere.pk]
    assert ids(client.get(f"/api/v1/volunteers/?unit={grid.code}")) == [active.pk]
    assert client.get("/api/v1/volunteers/?party_member=perhaps").status_code == 400


def test_volunteers_need_the_view_permission(community):
    VolunteerFactory(unit=community)
    assert client_for(UserFactory()).get("/api/v1/volunteers/").status_code == 403


# --- activities ----------------------------------------------------------------------------


def test_activities_are_scoped_and_filtered(community, sibling_community, grid):
    soon = ActivityFactory(unit=community, kind="haircut")
    later = ActivityFactory(unit=grid, starts_at=timezone.now() + timedelta(days=10))
    other = ActivityFactory(unit=sibling_community)
    client = client_for(staff(community, Role.CASEWORKER))
    assert ids(client.get("/api/v1/activities/")) == [later.pk, soon.pk]
    assert ids(client.get("/api/v1/activities/?kind=haircut")) == [soon.pk]
    day = (timezone.localdate() + timedelta(days=5)).isoformat()
    assert ids(client.get(f"/api/v1/activities/?starts_after={day}")) == [later.pk]
    assert client.get(f"/api/v1/activities/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/activities/{soon.pk}/").json()["seats_left"] == 10


def test_unit_filter_is_the_subtree_of_a_visible_unit_only(street, community, sibling_community, grid):
    in_grid, in_community, in_sibling = (ActivityFactory(unit=unit) for unit in (grid, community, sibling_community))
    director = client_for(staff(street, Role.DIRECTOR))
    assert sorted(ids(director.get(f"/api/v1/activities/?unit={community.code}"))) == [in_grid.pk, in_community.pk]
    assert ids(director.get(f"/api/v1/activities/?unit={sibling_community.code}")) == [in_sibling.pk]
    # A unit outside the user's tree filters to nothing rather than revealing what lies there.
    caseworker = client_for(staff(community, Role.CASEWORKER))
    assert ids(caseworker.get(f"/api/v1/activities/?unit={sibling_community.code}")) == []
    assert ids(caseworker.get("/api/v1/activities/?unit=no-such-unit")) == []


# --- meetings ------------------------------------------------------------------------------


def meeting(unit, by, **fields):
    return coordination.create_meeting(
        title=fields.pop("title", "41号楼加装电梯议事会"), format="round_table", level="building", unit=unit,
        place="41号楼前石桌", starts_at=fields.pop("starts_at", timezone.now() + timedelta(days=2)), by=by, **fields,
    )


def test_meetings_are_scoped_with_counts(community, sibling_community):
    secretary, other_secretary = staff(community, Role.SECRETARY), staff(sibling_community, Role.SECRETARY)
    mine = meeting(community, secretary)
    coordination.add_agenda_item(meeting=mine, by=secretary, topic="资金分摊")
    theirs = meeting(sibling_community, other_secretary)
    client = client_for(staff(community, Role.CASEWORKER))

    rows = client.get("/api/v1/meetings/").json()["results"]

    assert [(row["id"], row["agenda_count"], row["convener"]) for row in rows] == [(mine.pk, 1, secretary.username)]
    assert client.get(f"/api/v1/meetings/{theirs.pk}/").status_code == 404
    assert ids(client.get("/api/v1/meetings/?status=held")) == []
    assert ids(client.get("/api/v1/meetings/?format=round_table")) == [mine.pk]
    assert ids(client.get("/api/v1/meetings/?format=bench")) == []


# --- polls ---------------------------------------------------------------------------------


def test_polls_list_and_one_poll_with_its_live_tally(community, sibling_community, building, sibling_building):
    secretary = staff(community, Role.SECRETARY)
    households(building, units=1, floors=2, per_floor=2)
    today = timezone.localdate()
    poll = coordination.open_poll(
        title="加装电梯", question="是否同意加装电梯？", buildings=[building], by=secretary, rule="yanshan",
        opens_on=today, closes_on=today + timedelta(days=14),
    )
    households(sibling_building, units=1, floors=1, per_floor=1)
    other = coordination.open_poll(
        title="外墙保温", question="是否同意？", buildings=[sibling_building], by=staff(sibling_community, Role.SECRETARY),
        rule="yanshan", opens_on=today, closes_on=today + timedelta(days=14),
    )
    client = client_for(staff(community, Role.CASEWORKER))

    rows = client.get("/api/v1/polls/").json()["results"]
    assert [(row["id"], row["electorate"], row["reached"]) for row in rows] == [(poll.pk, 4, 0)]
    detail = client.get(f"/api/v1/polls/{poll.pk}/").json()
    assert (detail["tally"]["electorate"], detail["tally"]["electorate_area"], detail["agree_headcount"]) == (4, "240.00", "2/3")
    assert client.get(f"/api/v1/polls/{other.pk}/").status_code == 404
    assert ids(client.get("/api/v1/polls/?status=closed")) == []


# --- fixed query counts --------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["volunteers", "activities", "meetings"])
def test_lists_run_the_same_queries_for_5_and_50_rows(street, community, endpoint, django_assert_max_num_queries):
    secretary = staff(street, Role.SECRETARY)

    def make(n):
        for _i in range(n):
            grid = GridFactory(parent=community)
            if endpoint == "volunteers":
                VolunteerFactory(unit=grid, skills=[SkillFactory()])
            elif endpoint == "activities":
                ActivityFactory(unit=grid)
            else:
                meeting(grid, secretary)

    client = client_for(secretary)
    make(5)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(f"/api/v1/{endpoint}/?page_size=200").json()["results"]) == 5
    make(45)
    with django_assert_max_num_queries(len(few)):
        assert len(client.get(f"/api/v1/{endpoint}/?page_size=200").json()["results"]) == 50
