"""Changes to the tree and to staff posts; every change in one transaction."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model
from guardian.shortcuts import assign_perm, remove_perm

from . import identity
from .models import Department, Post, Role, SecurityEvent, Unit


@transaction.atomic
def move_unit(*, unit: Unit, new_parent: Unit) -> Unit:
    """Place ``unit`` (and everything under it) under ``new_parent``."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    unit.parent = new_parent
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def assign_post(
    *,
    user,
    unit: Unit,
    role: str,
    portfolio: str = "",
    department: Department | None = None,
    title: str = "",
) -> Post:
    """Give ``user`` a post; raises ValidationError with field messages when it is not allowed."""
    post = Post.objects.filter(user=user, unit=unit, role=role).first() or Post(user=user, unit=unit, role=role)
    post.portfolio = portfolio
    post.department = department
    post.title = title
    post.active = True
    post.full_clean()
    post.save()
    sync_role_groups(user)
    return post


@transaction.atomic
def end_post(*, post: Post) -> Post:
    post = Post.objects.select_for_update().get(pk=post.pk)
    post.active = False
    post.save(update_fields=["active"])
    sync_role_groups(post.user)
    return post


def sync_role_groups(user) -> None:
    """Make the user's role groups (what they may do) match their active posts.

    Groups that are not roles are left alone. Administrators need ``is_staff`` to
    reach the Django admin; it is given and taken with the role (never from a superuser).
    """
    held = set(Post.objects.active().filter(user=user).values_list("role", flat=True))
    role_groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    user.groups.remove(*[g for name, g in role_groups.items() if name not in held])
    user.groups.add(*[g for name, g in role_groups.items() if name in held])
    should_be_staff = user.is_superuser or Role.ADMINISTRATOR in held
    if user.is_staff != should_be_staff:
        user.is_staff = should_be_staff
        user.save(update_fields=["is_staff"])
    for attr in ("_subtree_paths", "_own_posts", "_all_grants", "_perm_cache", "_group_perm_cache", "_user_perm_cache",
                 "_identity"):
        user.__dict__.pop(attr, None)


def sync_role_groups_bulk(user_ids: list[int]) -> None:
    """``sync_role_groups`` for many users at once (an area import), in a fixed number of queries."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    Membership = User.groups.through
    role_groups = {group.name: group.pk for group in Group.objects.filter(name__in=Role.values)}
    held: dict[int, set[str]] = {pk: set() for pk in user_ids}
    for user_id, role in Post.objects.active().filter(user_id__in=user_ids).values_list("user_id", "role"):
        held[user_id].add(role)
    wanted = {(user_id, role_groups[role]) for user_id, roles in held.items() for role in roles if role in role_groups}
    current = set(
        Membership.objects.filter(user_id__in=user_ids, group_id__in=role_groups.values())
        .values_list("user_id", "group_id")
    )
    for user_id, group_id in current - wanted:
        Membership.objects.filter(user_id=user_id, group_id=group_id).delete()
    Membership.objects.bulk_create(
        [Membership(user_id=user_id, group_id=group_id) for user_id, group_id in wanted - current], batch_size=1000
    )
    identity.invalidate()  # bulk_create sends no signal
    administrators = [pk for pk, roles in held.items() if Role.ADMINISTRATOR in roles]
    User.objects.filter(pk__in=administrators, is_staff=False).update(is_staff=True)
    User.objects.filter(pk__in=user_ids, is_staff=True, is_superuser=False).exclude(pk__in=administrators).update(
        is_staff=False
    )


def grant_object(*, obj: Model, to, perm: str) -> None:
    """Let one user or group (outside the object's subtree) see or act on one object.

    ``perm`` is a codename such as ``"view_case"``; ``to`` a user or a Group.
    """
    assign_perm(perm, to, obj)
    for attr in ("_all_grants", "_identity"):  # the grants read for this request (communities.selectors)
        to.__dict__.pop(attr, None)


def revoke_object(*, obj: Model, to, perm: str) -> None:
    remove_perm(perm, to, obj)
    for attr in ("_all_grants", "_identity"):
        to.__dict__.pop(attr, None)


@transaction.atomic
def unlock_login(*, user, by) -> int:
    """Clear the failed logins that locked ``user`` out (on every address); returns how many."""
    from axes.utils import reset

    from .security import log_event

    cleared = reset(username=user.get_username())
    log_event(SecurityEvent.Kind.UNLOCKED, user=user, detail={"by": by.get_username(), "attempts": cleared})
    return cleared
