"""Django's model backend, reading a user's permissions in one query instead of two."""

from __future__ import annotations

from django.contrib.auth import backends
from django.contrib.auth.models import Group, Permission

from . import identity


class ModelBackend(backends.ModelBackend):
    """Every page asks ``has_perm``: its own and its groups' permissions are read together (once per
    request, as Django caches them on the user, and shared between requests by
    ``communities.identity``), which Django's backend does in two queries."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = identity.piece(user_obj, "permissions", lambda: _read_permissions(user_obj))
        return user_obj._perm_cache


def _read_permissions(user) -> set[str]:
    """The query picks the permission keys first (the user's own, then their groups'): joining every
    permission to every member of every group that has it, and filtering on the user afterwards
    (one ``OR`` over two outer-join chains), read tens of thousands of rows for 300 permissions and
    500 staff: 10 ms on every page, against 0.3 ms this way."""
    perms = Permission.objects.all()
    if not user.is_superuser:
        own = backends.UserModel.user_permissions.through.objects.filter(user_id=user.pk).values("permission_id")
        groups = backends.UserModel.groups.through.objects.filter(user_id=user.pk).values("group_id")
        via_groups = Group.permissions.through.objects.filter(group_id__in=groups).values("permission_id")
        perms = perms.filter(pk__in=own.union(via_groups, all=True))
    rows = perms.values_list("content_type__app_label", "codename").order_by()
    return {f"{app_label}.{codename}" for app_label, codename in rows}
