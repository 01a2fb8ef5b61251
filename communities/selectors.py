"""Who may see what: the one scoping rule every page, export, admin and API uses.

A staff user sees the subtrees under their active posts (a prefix filter on the
materialised path); a superuser sees everything. Grants that cross the tree (a
department summoned to one case, an outside party invited to one meeting) are
django-guardian object permissions, added on top by ``scope(..., grant_perm=...)``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from .models import PATH_SEPARATOR, Building, Department, PartnerOrganisation, Post, Unit

User = AbstractBaseUser | AnonymousUser
EVERYWHERE = None


def subtree_paths(user: User) -> list[str] | None:
    """Roots of the user's subtrees, nested ones dropped; ``None`` means everywhere."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return EVERYWHERE
    cached = getattr(user, "_subtree_paths", None)
    if cached is None:
        paths = sorted(Post.objects.active().filter(user=user).values_list("unit__path", flat=True))
        cached = []
        for path in paths:
            if not any(path.startswith(root) for root in cached):
                cached.append(path)
        user._subtree_paths = cached
    return cached


def path_q(user: User, field: str) -> Q:
    """A filter keeping rows whose ``field`` (a unit path) lies in the user's subtrees."""
    paths = subtree_paths(user)
    if paths is EVERYWHERE:
        return Q()
    if not paths:
        return Q(pk__in=[])
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def ancestor_paths(user: User) -> list[str] | None:
    """Paths of the units above the user's posts (and the posts' units)."""
    paths = subtree_paths(user)
    if paths is EVERYWHERE:
        return EVERYWHERE
    result = set()
    for path in paths:
        parts = path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
        for end in range(1, len(parts) + 1):
            result.add(PATH_SEPARATOR + PATH_SEPARATOR.join(parts[:end]) + PATH_SEPARATOR)
    return sorted(result)


def scope(queryset: QuerySet, user: User, *, path_field: str, grant_perm: str | None = None) -> QuerySet:
    """Restrict ``queryset`` to the user's subtrees, plus objects granted by ``grant_perm``."""
    condition = path_q(user, path_field)
    paths = subtree_paths(user)
    if grant_perm and paths is not EVERYWHERE and user.is_authenticated:
        granted = get_objects_for_user(
            user,
            grant_perm,
            klass=queryset.model,
            with_superuser=False,
            accept_global_perms=False,
        )
        condition |= Q(pk__in=granted.values("pk"))
    return queryset.filter(condition)


def visible_units(user: User) -> QuerySet[Unit]:
    return scope(Unit.objects.all(), user, path_field="path", grant_perm="communities.view_unit")


def visible_buildings(user: User) -> QuerySet[Building]:
    return scope(
        Building.objects.select_related("unit"),
        user,
        path_field="unit__path",
        grant_perm="communities.view_building",
    )


def visible_posts(user: User) -> QuerySet[Post]:
    return scope(Post.objects.select_related("user", "unit", "department"), user, path_field="unit__path")


def _in_reach(queryset: QuerySet, user: User) -> QuerySet:
    """Objects of units in the user's subtrees or above them (whom they may call on)."""
    above = ancestor_paths(user)
    if above is EVERYWHERE:
        return queryset
    return queryset.filter(path_q(user, "unit__path") | Q(unit__path__in=above))


def visible_departments(user: User) -> QuerySet[Department]:
    return _in_reach(Department.objects.select_related("unit"), user)


def visible_partners(user: User) -> QuerySet[PartnerOrganisation]:
    return _in_reach(PartnerOrganisation.objects.select_related("unit"), user)


def posts_of(user: User) -> list[Post]:
    """The user's own active posts, highest tier first (cached on the user object)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_own_posts", None)
    if cached is None:
        cached = list(
            Post.objects.active()
            .filter(user=user)
            .select_related("unit", "department")
            .order_by("unit__depth", "unit__path", "role")
        )
        user._own_posts = cached
    return cached


def roles_of(user: User) -> set[str]:
    return {post.role for post in posts_of(user)}


def children_with_counts(unit: Unit) -> QuerySet[Unit]:
    from django.db.models import Count

    return unit.children.annotate(
        n_children=Count("children", distinct=True), n_buildings=Count("buildings", distinct=True)
    ).order_by("sort_order", "name")
