"""Object grants that cross the tree (django-guardian), on SQLite and PostgreSQL alike."""

import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import assign_perm

from communities import selectors
from communities.models import Building, Role
from communities.services import grant_object, revoke_object
from tests import factories as f


@pytest.fixture
def outsider(sibling_community):
    """A caseworker of another community: the building is outside their subtree."""
    return f.staff(sibling_community, Role.CASEWORKER)


@pytest.fixture
def neighbour_building(grid):
    return f.BuildingFactory(unit=grid, name="星城二里43号楼")


def _status(client, user, obj) -> int:
    client.force_login(user)
    return client.get(obj.get_absolute_url()).status_code


def test_without_a_grant_the_building_is_404(client, outsider, building):
    assert _status(client, outsider, building) == 404


def test_a_grant_to_a_user_opens_exactly_that_building(client, outsider, building, neighbour_building, grid):
    grant_object(obj=building, to=outsider, perm="view_building")

    assert _status(client, outsider, building) == 200
    assert _status(client, outsider, neighbour_building) == 404
    assert _status(client, outsider, grid) == 404


def test_a_grant_to_a_group_opens_that_building_for_its_members(
    client, outsider, building, neighbour_building, grid
):
    summoned = Group.objects.create(name="房管局 summoned to 41号楼")
    outsider.groups.add(summoned)
    grant_object(obj=building, to=summoned, perm="view_building")

    assert _status(client, outsider, building) == 200
    assert _status(client, outsider, neighbour_building) == 404
    assert _status(client, outsider, grid) == 404
    assert _status(client, f.staff(outsider.posts.get().unit), building) == 404  # not a member


def test_revoking_a_user_grant_takes_the_building_back(client, outsider, building):
    grant_object(obj=building, to=outsider, perm="view_building")
    revoke_object(obj=building, to=outsider, perm="view_building")

    assert _status(client, outsider, building) == 404


def test_revoking_a_group_grant_takes_the_building_back(client, outsider, building):
    group = Group.objects.create(name="co-handlers")
    outsider.groups.add(group)
    grant_object(obj=building, to=group, perm="view_building")
    revoke_object(obj=building, to=group, perm="view_building")

    assert _status(client, outsider, building) == 404


def test_a_person_without_any_post_can_open_a_granted_building(client, building, neighbour_building):
    invited = f.UserFactory()
    grant_object(obj=building, to=invited, perm="view_building")

    assert _status(client, invited, building) == 200
    assert _status(client, invited, neighbour_building) == 404


def test_the_workspace_lists_buildings_shared_with_the_user(client, outsider, building, neighbour_building):
    grant_object(obj=building, to=outsider, perm="view_building")
    client.force_login(outsider)

    shared = client.get("/workspace/").context["shared_buildings"]

    assert shared == [building]


def test_a_grant_of_another_permission_opens_nothing(client, outsider, building):
    grant_object(obj=building, to=outsider, perm="change_building")
    assert _status(client, outsider, building) == 404


def test_a_grant_on_a_unit_opens_that_unit_page_only(client, outsider, grid, sibling_grid, building):
    grant_object(obj=grid, to=outsider, perm="view_unit")

    assert _status(client, outsider, grid) == 200
    assert _status(client, outsider, sibling_grid) == 404
    assert _status(client, outsider, building) == 404


def test_granted_buildings_are_looked_up_by_key_not_by_casting_every_row(outsider, building):
    """The grants are read first; the scoped query names their keys, so it can use the primary
    key (and the path index) rather than test every row against a subquery or a cast."""
    grant_object(obj=building, to=outsider, perm="view_building")
    with CaptureQueriesContext(connection) as queries:
        assert list(selectors.visible_buildings(outsider)) == [building]
    sql = queries[-1]["sql"].lower()
    assert "guardian" not in sql
    assert not re.search(r'cast\([^()]*"id" as|\([^()]*"id"\)::', sql)
    assert re.search(rf'"communities_building"."id" in \({building.pk}\)', sql)


@pytest.mark.postgres
def test_non_numeric_object_keys_of_other_models_do_not_break_the_grant_subquery(outsider, building):
    # guardian stores object_pk as text; a session's key is not a number. Casting it would fail
    # on PostgreSQL if the subquery looked at rows of another content type.
    session = Session.objects.create(session_key="not-a-number-abc", session_data="", expire_date=timezone.now())
    assign_perm("sessions.view_session", outsider, session)
    grant_object(obj=building, to=outsider, perm="view_building")

    assert list(selectors.visible_buildings(outsider)) == [building]
    assert connection.vendor == "postgresql"


def test_grants_work_on_both_databases_through_groups_and_users_at_once(outsider, building, neighbour_building):
    group = Group.objects.create(name="双派")
    outsider.groups.add(group)
    grant_object(obj=building, to=outsider, perm="view_building")
    grant_object(obj=neighbour_building, to=group, perm="view_building")

    visible = set(selectors.visible_buildings(outsider).values_list("pk", flat=True))

    own = set(Building.objects.filter(unit__path__startswith=outsider.posts.get().unit.path).values_list("pk", flat=True))
    assert visible == own | {building.pk, neighbour_building.pk}
