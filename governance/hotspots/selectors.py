"""Hotspots (未呼先应): where the same kind of problem keeps coming back, tier by tier.

A cluster is a category at a place: a street, community, grid or building. Its cases are
counted month by month over a window ending with the chosen month, in one SQL query
grouped by the most precise known place (location unit, building) and category, with one
conditional count per month (no month computed for each case). The groups — a few per
place and category, never one per case — are folded in Python onto the places of the
chosen level.

As on the dashboards, the cases are those handled in the tier's subtree (one indexed prefix
filter on the case's unit path): a unit's page opens only inside the user's own subtrees,
where every such case is visible to them. A case located above the chosen level (a
community, when grids are asked for) stays at the most precise place known.

From the counts:
- ``change``: this month against the previous one; ``baseline``: the average of the
  ``BASELINE_MONTHS`` before it. Rising clusters: at least ``RISING_MIN`` cases this month
  and more than last month, the largest change first.
- ``streak``: the months in a row, ending with the chosen month, with at least
  ``PERSISTENT_MIN`` cases. Persistent clusters: a streak of ``PERSISTENT_MONTHS`` or more,
  the longest first.
- Repeat callers and repeat addresses over the last ``RECENT_MONTHS``: a phone number, or a
  building or free address, with two cases or more of the same category at the same place.

``top_clusters(unit, month, limit)`` is the whole read (at most six queries, optionally cached).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cases import rates
from cases.models import Case, Category
from cases.selectors import visible_cases
from communities.models import PATH_SEPARATOR, Building, Unit


def cache_seconds() -> int:
    """How long the top clusters may be kept in the shared cache (``settings.HOTSPOT_CACHE_SECONDS``, default off)."""
    return int(getattr(settings, "HOTSPOT_CACHE_SECONDS", 0) or 0)

WINDOW_MONTHS = 6
BASELINE_MONTHS = 3
RECENT_MONTHS = 3
RISING_MIN = 2
PERSISTENT_MIN = 2
PERSISTENT_MONTHS = 3
LIST_LENGTH = 10

BUILDING = "building"
LEVELS = [*Unit.LEVEL_ORDER[1:], BUILDING]  # street, community, grid, building
LEVEL_LABELS = {**{level: Unit.Level(level).label for level in Unit.LEVEL_ORDER}, BUILDING: _("Building")}


def default_level(unit: Unit) -> str:
    """One step below the unit (buildings under a grid)."""
    order = [*Unit.LEVEL_ORDER, BUILDING]
    return order[min(order.index(unit.level) + 1, len(order) - 1)]


def levels_for(unit: Unit) -> list[str]:
    """The levels a unit's page may group by: its own and those below it."""
    order = [*Unit.LEVEL_ORDER, BUILDING]
    return [level for level in LEVELS if order.index(level) >= order.index(unit.level)]


def window(month: date, count: int = WINDOW_MONTHS) -> list[date]:
    months = [rates.month_start(month)]
    while len(months) < count:
        months.append(rates.previous_month(months[-1]))
    return months[::-1]


def last_day(month: date) -> date:
    return rates.next_month(month) - timedelta(days=1)


@dataclass
class Cluster:
    """One category at one place, with its monthly counts (oldest month first)."""

    level: str
    place_id: int
    place: str
    building_id: int | None
    building: str
    category_id: int
    category: str
    months: list[date]
    counts: list[int]
    repeat_callers: int = 0
    repeat_addresses: int = 0

    @property
    def key(self) -> tuple[int, int | None, int]:
        return (self.place_id, self.building_id, self.category_id)

    @property
    def current(self) -> int:
        return self.counts[-1]

    @property
    def previous(self) -> int:
        return self.counts[-2] if len(self.counts) > 1 else 0

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def baseline(self) -> Decimal:
        before = self.counts[-1 - BASELINE_MONTHS:-1]
        if not before:
            return Decimal(0)
        return (Decimal(sum(before)) / len(before)).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def streak(self) -> int:
        length = 0
        for count in reversed(self.counts):
            if count < PERSISTENT_MIN:
                break
            length += 1
        return length

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def streak_start(self) -> date:
        return self.months[len(self.months) - max(self.streak, 1)]


@dataclass
class Hotspots:
    unit: Unit
    month: date
    level: str
    months: list[date]
    rising: list[Cluster] = field(default_factory=list)
    persistent: list[Cluster] = field(default_factory=list)


def handled_in(unit: Unit) -> QuerySet[Case]:
    return Case.objects.filter(unit_path__startswith=unit.path).order_by()


class Places:
    """The units under a tier (one query): each location folds onto its place at a level."""

    def __init__(self, unit: Unit):
        rows = Unit.objects.filter(path__startswith=unit.path).values_list("pk", "name", "level", "path")
        self.names = {pk: name for pk, name, _level, _path in rows}
        self.levels = {pk: level for pk, _name, level, _path in rows}
        self.paths = {pk: path for pk, _name, _level, path in rows}
        self.unit = unit
        self._found: dict[tuple[int, str], int | None] = {}

    def place_of(self, location_id: int, level: str) -> int | None:
        """The unit at ``level`` containing the location (or the location itself, if coarser)."""
        key = (location_id, level)
        if key not in self._found:
            self._found[key] = self._place_of(location_id, level)
        return self._found[key]

    def _place_of(self, location_id: int, level: str) -> int | None:
        path = self.paths.get(location_id)
        if path is None:  # handled in the tier, located outside it
            return None
        if level == BUILDING:
            return location_id
        ids = [int(part) for part in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
        for pk in ids:
            if self.levels.get(pk) == level:
                return pk
        return location_id


def monthly_counts(unit: Unit, months: list[date], *, level: str) -> QuerySet:
    """One grouped query: (location, building?, category, count per month …)."""
    bounds = [rates.month_bounds(month) for month in months]
    counts = {
        # Counting a column of the covering index (not the key) lets PostgreSQL read that index alone.
        f"m{i}": Count("received_at", filter=Q(received_at__gte=start, received_at__lt=end))
        for i, (start, end) in enumerate(bounds)
    }
    keys = ["location_unit_id", "category_id"]
    if level == BUILDING:
        keys.insert(1, "building_id")
    cases = handled_in(unit).filter(received_at__gte=bounds[0][0], received_at__lt=bounds[-1][1])
    if level == BUILDING:
        cases = cases.filter(building__isnull=False)
    return cases.values_list(*keys).annotate(**counts)


def _repeats(unit: Unit, months: list[date], *, level: str, column: str):
    """(location, building or None, category, value) seen twice or more in the recent months."""
    start, end = rates.month_bounds(months[0])[0], rates.month_bounds(months[-1])[1]
    cases = handled_in(unit).filter(received_at__gte=start, received_at__lt=end)
    if level == BUILDING:
        cases = cases.filter(building__isnull=False)
    if column == "resident_phone":
        cases = cases.exclude(resident_phone="")
    else:
        cases = cases.exclude(building__isnull=True, address="")
    # A caller is the same caller whichever building they named; an address is a building or a free address.
    building = "building_id" if level == BUILDING or column == "address" else None
    values = [name for name in ("location_unit_id", building, "category_id", column) if name]
    rows = cases.values_list(*values).annotate(n=Count("pk")).filter(n__gte=2).values_list(*values)
    if building:
        return rows
    return ((location, None, category, value) for location, category, value in rows)


def clusters(unit: Unit, month: date, *, level: str | None = None) -> tuple[list[date], list[Cluster]]:
    """Every cluster under ``unit`` at ``level`` over the window ending with ``month`` (five queries)."""
    level = level or default_level(unit)
    months = window(month)
    places = Places(unit)
    categories = dict(Category.objects.values_list("pk", "name"))
    found: dict[tuple, Cluster] = {}
    for row in monthly_counts(unit, months, level=level):
        if level == BUILDING:
            location, building, category, counts = row[0], row[1], row[2], row[3:]
        else:
            location, building, category, counts = row[0], None, row[1], row[2:]
        place = places.place_of(location, level)
        if place is None:
            continue
        key = (place, building, category)
        cluster = found.get(key)
        if cluster is None:
            cluster = found[key] = Cluster(
                level, place, places.names.get(place, ""), building, "", category,
                categories.get(category, ""), months, [0] * len(months),
            )
        cluster.counts = [a + b for a, b in zip(cluster.counts, counts)]
    _add_repeats(found, unit, months[-RECENT_MONTHS:], level, places)
    return months, list(found.values())


def _add_repeats(found: dict, unit: Unit, recent: list[date], level: str, places: Places) -> None:
    for column, attribute in (("resident_phone", "repeat_callers"), ("address", "repeat_addresses")):
        seen: dict[tuple, set] = defaultdict(set)
        for location, building, category, value in _repeats(unit, recent, level=level, column=column):
            place = places.place_of(location, level)
            key = (place, building if level == BUILDING else None, category)
            if key in found:
                seen[key].add(value if column == "resident_phone" else (building, value))
        for key, values in seen.items():
            setattr(found[key], attribute, len(values))


def rising(found: list[Cluster], limit: int = LIST_LENGTH) -> list[Cluster]:
    chosen = [c for c in found if c.current >= RISING_MIN and c.change > 0]
    return sorted(chosen, key=lambda c: (-c.change, -c.current, c.place, c.category, c.building_id or 0))[:limit]


def persistent(found: list[Cluster], limit: int = LIST_LENGTH) -> list[Cluster]:
    chosen = [c for c in found if c.streak >= PERSISTENT_MONTHS]
    return sorted(chosen, key=lambda c: (-c.streak, -c.total, c.place, c.category, c.building_id or 0))[:limit]


def top_clusters(unit: Unit, month: date, limit: int = LIST_LENGTH, *, level: str | None = None) -> Hotspots:
    """The top rising and the most persistent clusters under ``unit`` (at most six queries).

    For the dashboards too: the caller has already checked that the user may open ``unit``.
    With ``settings.HOTSPOT_CACHE_SECONDS`` the result is kept that long in the shared cache
    (a window of six months at the top tier of a large area scans tens of thousands of cases).
    """
    level = level or default_level(unit)
    month = rates.month_start(month)
    seconds = cache_seconds()
    if not seconds:
        return _top_clusters(unit, month, limit, level)
    raw = "|".join(str(part) for part in (unit.pk, unit.path, month, limit, level))
    key = "hotspots:" + hashlib.sha256(raw.encode()).hexdigest()
    return cache.get_or_set(key, lambda: _top_clusters(unit, month, limit, level), seconds)


def _top_clusters(unit: Unit, month: date, limit: int, level: str) -> Hotspots:
    months, found = clusters(unit, month, level=level)
    result = Hotspots(unit, month, level, months, rising(found, limit), persistent(found, limit))
    if level == BUILDING:
        _name_buildings([*result.rising, *result.persistent])
    return result


def _name_buildings(rows: list[Cluster]) -> None:
    names = dict(Building.objects.filter(pk__in={row.building_id for row in rows}).values_list("pk", "name"))
    for row in rows:
        row.building = names.get(row.building_id, "")


# ---------------------------------------------------------------- one request, a class of problems


SIBLING_DAYS = 90
SIBLING_LIST = 8


def sibling_place(case: Case) -> tuple[str, int, str]:
    """Where siblings are looked for: the case's building, or else its community
    (kind, the unit to filter the queue on, the community's path)."""
    if case.building_id:
        return BUILDING, case.location_unit_id, ""
    parts = case.location_unit.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    head = parts[: Unit.LEVEL_ORDER.index(Unit.Level.COMMUNITY) + 1]
    return Unit.Level.COMMUNITY, int(head[-1]), PATH_SEPARATOR + PATH_SEPARATOR.join(head) + PATH_SEPARATOR


def siblings(user, case: Case) -> QuerySet[Case]:
    """Cases the user sees of the same category at the same building (or community), within
    ``SIBLING_DAYS`` of this one: 一个诉求解决一类现象."""
    near = timedelta(days=SIBLING_DAYS)
    cases = visible_cases(user).filter(
        category_id=case.category_id, received_at__gte=case.received_at - near,
        received_at__lte=case.received_at + near,
    ).exclude(pk=case.pk)
    kind, _place, where = sibling_place(case)
    if kind == BUILDING:
        return cases.filter(building_id=case.building_id)
    return cases.filter(location_unit__path__startswith=where)
