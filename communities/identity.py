"""Who is asking, shared between a user's requests: their posts, object grants and permissions.

Every staff page needs them, three queries, and they change rarely. They are kept in the shared
cache, one entry per user, under a generation token that any save or delete of a post, unit,
department, object grant, group, group membership or permission replaces (``communities.generations``,
as ``cases.reference`` does for the public form's lists); later apps add pieces of their own (``register``) with the
models whose writes change them. The entry is read from the shared cache on every request, never
kept by a process: a revoked post or grant counts from the next request on, on every host.

A write that skips signals (``QuerySet.update``, ``bulk_create``) calls ``invalidate()`` itself
(the area import does); entries expire after ``TTL`` in any case. If the cache fails, the pieces
are read from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from guardian.models import GroupObjectPermission, UserObjectPermission

from .generations import Generation
from .models import Department, Post, Unit

logger = logging.getLogger(__name__)

GENERATION_KEY = "communities:identity:generation"
TTL = 300


GENERATION = Generation(GENERATION_KEY)
invalidate = GENERATION.invalidate  # after a write that sends no signal (a bulk update or create)


def watch(*models: type[Model]) -> None:
    """Writes of ``models`` (saves, deletes, and many-to-many changes of through models) change some user's identity."""
    for model in models:
        name = f"{model._meta.label}"
        post_save.connect(invalidate, sender=model, dispatch_uid=f"communities.identity.save.{name}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"communities.identity.delete.{name}")
        m2m_changed.connect(invalidate, sender=model, dispatch_uid=f"communities.identity.m2m.{name}")


def _key(user) -> str:
    # The superuser flag is in the key: it decides the permissions, and a user's own saves replace no generation.
    return f"communities:identity:{user.pk}:{int(user.is_superuser)}"


class _Entry:
    """One request's copy of the user's entry: pieces not in it are loaded and stored back."""

    def __init__(self, user) -> None:
        self.key = _key(user)
        self.generation, self.pieces = None, {}
        try:
            found = cache.get_many([GENERATION_KEY, self.key])
            self.generation = GENERATION.current(found.get(GENERATION_KEY))
            stored = found.get(self.key)
            if stored is not None and stored[0] == self.generation:
                self.pieces = dict(stored[1])
        except Exception:
            logger.exception("The identity entry was not read from the cache")

    def get(self, name: str, loader: Callable[[], object]) -> object:
        if name not in self.pieces:
            self.pieces[name] = loader()
            if self.generation is not None:
                try:
                    cache.set(self.key, (self.generation, self.pieces), TTL)
                except Exception:
                    logger.exception("The identity entry was not stored")
        return self.pieces[name]


def piece(user, name: str, loader: Callable[[], object]) -> object:
    """``loader()``'s value for ``user`` (an authenticated user), from their shared entry if it holds it."""
    entry = getattr(user, "_identity", None)
    if entry is None:
        entry = _Entry(user)
        user._identity = entry
    return entry.get(name, loader)


User = get_user_model()
watch(
    Post, Unit, Department, UserObjectPermission, GroupObjectPermission, Group, Permission,
    User.groups.through, User.user_permissions.through, Group.permissions.through,
)
