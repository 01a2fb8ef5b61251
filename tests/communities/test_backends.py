"""The permissions backend: what Django's own backend answers, in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth import backends as django_backends
from django.contrib.auth.models import Group, Permission

from communities.backends import ModelBackend
from communities.models import Role
from tests.factories import UserFactory, staff

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache carried over


def permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


def test_a_post_holder_has_exactly_what_djangos_backend_gives_in_one_query(community, django_assert_num_queries):
    worker = staff(community, Role.CASEWORKER)
    worker.user_permissions.add(permission("view_building"))  # a direct grant beside the role's group
    extra = Group.objects.create(name="extra")
    extra.permissions.add(permission("view_case"), permission("add_building"))  # overlaps the role's group
    worker.groups.add(extra)

    asking = fresh(worker)
    with django_assert_num_queries(1):
        ours = ModelBackend().get_all_permissions(asking)

    assert ours == django_backends.ModelBackend().get_all_permissions(fresh(worker))
    assert {"communities.view_building", "communities.add_building", "cases.view_case"} <= ours


def test_direct_permissions_alone_and_groups_alone_both_count():
    only_direct, only_group = UserFactory(), UserFactory()
    only_direct.user_permissions.add(permission("view_case"))
    group = Group.objects.create(name="readers")
    group.permissions.add(permission("view_unit"))
    only_group.groups.add(group)

    assert ModelBackend().get_all_permissions(fresh(only_direct)) == {"cases.view_case"}
    assert ModelBackend().get_all_permissions(fresh(only_group)) == {"communities.view_unit"}
    assert ModelBackend().has_perm(fresh(only_group), "communities.view_unit")
    assert not ModelBackend().has_perm(fresh(only_group), "cases.view_case")


def test_another_members_permissions_are_not_mine(community):
    mine, theirs = staff(community, Role.CASEWORKER), UserFactory()
    theirs.user_permissions.add(permission("delete_unit"))
    assert "communities.delete_unit" not in ModelBackend().get_all_permissions(fresh(mine))


def test_superusers_have_every_permission_and_inactive_users_none():
    boss = UserFactory(is_superuser=True)
    gone = UserFactory(is_active=False)
    gone.user_permissions.add(permission("view_case"))
    assert len(ModelBackend().get_all_permissions(fresh(boss))) == Permission.objects.count()
    assert ModelBackend().get_all_permissions(fresh(gone)) == set()
