"""Who is asking is shared between a user's requests (communities.identity), and any change to it
counts from the very next request: a revoked post, a revoked grant, a lost group, a moved unit."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities import identity
from communities.models import Post, Role
from communities.services import end_post, grant_object, revoke_object, sync_role_groups_bulk
from tests.cases.factories import CaseFactory
from tests.factories import staff

pytestmark = pytest.mark.django_db

WHO_IS_ASKING = ('"communities_post"', '"guardian_userobjectpermission"', '"auth_permission"')


def opened(client, case) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        status = client.get(case.get_absolute_url()).status_code
    return status, [q["sql"] for q in captured.captured_queries if q["sql"].lstrip("(").startswith("SELECT")]


def signed_in_near_a_case(client, unit, case_place):
    """A caseworker of ``unit``, signed in, and a case located at ``case_place``."""
    user = staff(unit, Role.CASEWORKER)
    client.force_login(user)
    return user, CaseFactory(location_unit=case_place)


def who_is_asking(queries: list[str]) -> list[str]:
    return [sql for sql in queries if any(sql.split(" WHERE ")[0].count(table) for table in WHO_IS_ASKING)
            and "cases_case" not in sql.split(" WHERE ")[0]]


def test_posts_grants_and_permissions_are_read_once_and_shared_between_requests(client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    case = CaseFactory(location_unit=community)
    status, first = opened(client, case)
    assert status == 200 and len(who_is_asking(first)) == 3
    status, again = opened(client, case)
    assert status == 200 and who_is_asking(again) == []


def test_an_ended_post_counts_from_the_next_request(client, community):
    user, case = signed_in_near_a_case(client, community, community)
    assert opened(client, case)[0] == 200
    end_post(post=Post.objects.get(user=user))
    assert opened(client, case)[0] in (403, 404)


def test_a_post_deactivated_by_hand_counts_from_the_next_request(client, community):
    user, case = signed_in_near_a_case(client, community, community)
    assert opened(client, case)[0] == 200
    post = Post.objects.get(user=user)
    post.active = False
    post.save()  # the admin's way: no service, no group sync; the post alone no longer counts
    assert opened(client, case)[0] == 404


def test_a_revoked_grant_counts_from_the_next_request(client, community, sibling_community):
    outsider, case = signed_in_near_a_case(client, sibling_community, community)
    assert opened(client, case)[0] == 404
    grant_object(obj=case, to=outsider, perm="view_case")
    assert opened(client, case)[0] == 200
    revoke_object(obj=case, to=outsider, perm="view_case")
    assert opened(client, case)[0] == 404


def test_a_grant_through_a_group_and_the_group_membership_count_from_the_next_request(
    client, community, sibling_community
):
    outsider, case = signed_in_near_a_case(client, sibling_community, community)
    group = Group.objects.create(name="双派")
    grant_object(obj=case, to=group, perm="view_case")
    assert opened(client, case)[0] == 404
    outsider.groups.add(group)
    assert opened(client, case)[0] == 200
    outsider.groups.remove(group)
    assert opened(client, case)[0] == 404


def test_a_lost_permission_counts_from_the_next_request(client, community):
    user, case = signed_in_near_a_case(client, community, community)
    assert opened(client, case)[0] == 200
    for group in user.groups.all():
        group.permissions.remove(Permission.objects.get(codename="view_case", content_type__app_label="cases"))
    assert opened(client, case)[0] == 403


def test_a_moved_unit_counts_from_the_next_request(client, community, sibling_street):
    user, case = signed_in_near_a_case(client, community, community)
    assert opened(client, case)[0] == 200
    community.parent = sibling_street  # the post's unit, and the case's, under another street: new paths
    community.save()
    case.refresh_from_db()
    assert case.unit_path.startswith(sibling_street.path)
    assert opened(client, case)[0] == 200  # found under the new path: the post's unit was read anew


def test_bulk_writes_renew_the_generation(community):
    before = cache.get(identity.GENERATION_KEY)
    staff(community, Role.CASEWORKER)
    after_signal = cache.get(identity.GENERATION_KEY)
    assert after_signal != before
    sync_role_groups_bulk([])  # its memberships are bulk-created: no signal
    assert cache.get(identity.GENERATION_KEY) != after_signal


def test_a_failing_cache_reads_who_is_asking_from_the_database(client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    case = CaseFactory(location_unit=community)
    failing = [mock.patch.object(cache, name, side_effect=ConnectionError)
               for name in ("get", "get_many", "set", "set_many", "add")]
    for patch in failing:
        patch.start()
    try:
        status, queries = opened(client, case)
    finally:
        for patch in failing:
            patch.stop()
    assert status == 200 and len(who_is_asking(queries)) == 3


def test_a_new_or_removed_co_handling_counts_from_the_next_request(client, community, sibling_community):
    from cases.models import CoHandling

    co_handler = staff(sibling_community, Role.CASEWORKER)
    client.force_login(co_handler)
    case = CaseFactory(location_unit=community)
    assert opened(client, case)[0] == 404
    co_handling = CoHandling.objects.create(case=case, unit=sibling_community)
    assert opened(client, case)[0] == 200
    co_handling.delete()
    assert opened(client, case)[0] == 404


def test_a_new_unit_is_offered_by_the_pickers_from_the_next_request(client, street, community):
    from tests.cases.factories import new_case
    from tests.factories import GridFactory

    client.force_login(staff(street, Role.DISPATCHER))
    case = new_case(place=community)
    assert "新建网格" not in client.get(case.get_absolute_url()).content.decode()
    GridFactory(parent=community, name="新建网格")
    assert "新建网格" in client.get(case.get_absolute_url()).content.decode()


def test_the_area_import_renews_who_is_asking_for_its_bulk_writes(db):
    from django.contrib.auth import get_user_model

    from tests.governance.test_onboarding import FULL, UNITS, run

    get_user_model().objects.create_superuser("root", password="x")
    run(FULL)
    before = cache.get(identity.GENERATION_KEY)
    units = [row[:] for row in UNITS]
    units[4] = ["ls-1-c1-g1", "第一网格（改名）", "网格", "ls-1-c1"]  # a rename is an UPDATE: no signal
    assert run({"单位": units}).committed
    assert cache.get(identity.GENERATION_KEY) != before
