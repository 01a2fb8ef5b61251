"""What the public forms offer, shared between requests: categories, deadlines, streets and communities, buildings.

The resident form is the portal's busiest write, and loading its lists took five queries of
every request. They change rarely (an administrator adds a community, a building or a
category), so they are kept in the shared cache under a generation token. Any save or delete
of a Unit, Building, Category or CategoryDeadline replaces the token, which orphans every
entry at once (later apps add lists of their own, and connect their models: volunteers' skills). A write that skips signals (``QuerySet.update``, SQL by hand) is seen once the
entries expire: within ``TTL`` in the shared cache, plus ``TTL`` for a process's own copy.
If the shared cache fails, the lists are read from the database.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from communities.generations import Generation
from communities.models import Building, Unit

from .models import DEFAULT_DEADLINES, Category, CategoryDeadline

logger = logging.getLogger(__name__)

GENERATION_KEY = "cases:reference:generation"
TTL = 300
# Each process also keeps what it unpickled, for the current generation only: unpickling model
# instances costs more than the query it saves. Entries are shared between requests: read-only.
# The generation itself is asked of the shared cache at most once a second per process, so a
# change made through another process shows within a second (at once in the process that made it).
RECHECK_SECONDS = 1.0
_local: dict[str, tuple[float, object]] = {}
_local_generation: list = [None, 0.0]  # token, when it was last read from the shared cache


def _adopt(generation: str) -> None:
    if _local_generation[0] != generation:
        _local.clear()
    _local_generation[:] = [generation, time.monotonic()]


GENERATION = Generation(GENERATION_KEY, adopt=_adopt)
invalidate = GENERATION.invalidate
new_generation = GENERATION.renew


def _generation() -> str:
    token, read_at = _local_generation
    if token is not None and time.monotonic() - read_at < RECHECK_SECONDS:
        return token
    try:
        return GENERATION.current()
    except Exception:  # the shared cache is away: nothing is shared, the lists are read
        logger.exception("The reference generation was not read")
        return uuid.uuid4().hex


for _model in (Unit, Building, Category, CategoryDeadline):
    post_save.connect(invalidate, sender=_model, dispatch_uid=f"cases.reference.save.{_model.__name__}")
    post_delete.connect(invalidate, sender=_model, dispatch_uid=f"cases.reference.delete.{_model.__name__}")


class Snapshot:
    """One request's view of the shared lists: missing entries are fetched in one round trip."""

    def __init__(self) -> None:
        self.prefix = f"cases:reference:{_generation()}:"
        self.loaded: dict[str, object] = {}

    def get_many(self, loaders: dict[str, Callable[[], object]]) -> dict[str, object]:
        now = time.monotonic()
        wanted = {}
        for name in loaders:
            if name in self.loaded:
                continue
            key = self.prefix + name
            until, value = _local.get(key, (0.0, None))
            if until > now:
                self.loaded[name] = value
            else:
                wanted[name] = key
        try:
            found = cache.get_many(list(wanted.values())) if wanted else {}
        except Exception:
            logger.exception("The reference lists were not read from the cache")
            found = {}
        missing = {}
        for name, key in wanted.items():
            if key in found:
                self.loaded[name] = found[key]
            else:
                self.loaded[name] = missing[key] = loaders[name]()
            _local[key] = (now + TTL, self.loaded[name])
        if missing:
            try:
                cache.set_many(missing, TTL)
            except Exception:
                logger.exception("The reference lists were not stored")
        return {name: self.loaded[name] for name in loaders}

    def get(self, name: str, loader: Callable[[], object]) -> object:
        return self.get_many({name: loader})[name]

    def local(self, name: str, build: Callable[[], object]) -> object:
        """Something derived from the shared lists (an index, a choice list): built once per process and generation."""
        key = self.prefix + name
        now = time.monotonic()
        until, value = _local.get(key, (0.0, None))
        if until <= now:
            value = build()
            _local[key] = (now + TTL, value)
        return value

    # The lists themselves.

    def places(self) -> list[Unit]:
        return self.get("places", load_places)

    def buildings(self, community: Unit) -> list[Building]:
        return self.get(f"buildings:{community.pk}", lambda: load_buildings(community))

    def categories(self) -> Categories:
        return self.get("categories", load_categories)


def load_places() -> list[Unit]:
    return list(
        Unit.objects.filter(level__in=[Unit.Level.STREET, Unit.Level.COMMUNITY])
        .only("name", "code", "level", "parent_id", "path", "depth", "sort_order")
        .order_by("depth", "sort_order", "name")
    )


def load_buildings(community: Unit) -> list[Building]:
    return list(
        Building.objects.filter(unit__path__startswith=community.path)
        .select_related("unit")
        .only("name", "unit__name", "unit__code", "unit__level", "unit__parent_id", "unit__path", "unit__depth")
        .order_by("name")
    )


class Categories:
    """The active categories in the form's order, and every category's deadline overrides."""

    def __init__(self, active: list[Category], parents: dict[int, int | None], overrides: dict) -> None:
        self.active = active
        self.by_pk = {category.pk: category for category in active}
        self.parents = parents
        self.overrides = overrides

    def deadlines(self, category: Category, urgency: str) -> tuple[timedelta, timedelta]:
        """As ``deadlines.deadlines_for``: the category's override, else its nearest ancestor's, else the default."""
        seen: set[int] = set()
        node = category.pk
        while node is not None and node not in seen:
            if (node, urgency) in self.overrides:
                return self.overrides[node, urgency]
            seen.add(node)
            node = self.parents.get(node)
        return DEFAULT_DEADLINES[urgency]


def load_categories() -> Categories:
    active = list(Category.objects.filter(active=True).order_by("sort_order", "code"))
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    overrides = {
        (category, urgency): (contact, resolve)
        for category, urgency, contact, resolve in CategoryDeadline.objects.values_list(
            "category_id", "urgency", "contact_within", "resolve_within"
        )
    }
    return Categories(active, parents, overrides)
