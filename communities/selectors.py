"""Who may see what: the one scoping rule every page, export, admin and API uses.

A staff user sees the subtrees under their active posts (a prefix filter on the
materialised path); a superuser sees everything. Grants that cross the tree (a
department summoned to one case, an outside party invited to one meeting) are
django-guardian object permissions, added on top by ``scope(..., grant_perm=...)``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, Count, F, Func, Model, Q, QuerySet, Sum, Value
from guardian.models import GroupObjectPermission, UserObjectPermission

from . import identity
from .models import GRANTS_ONLY_ROLES, PATH_SEPARATOR, Building, Department, Household, PartnerOrganisation, Post, SecurityEvent, Stairwell, Unit, path_prefixes

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
        # From the user's posts (read once per request, and needed by most pages anyway).
        paths = sorted(post.unit.path for post in posts_of(user) if post.role not in GRANTS_ONLY_ROLES)
        cached = []
        for path in paths:
            if not any(path.startswith(root) for root in cached):
                cached.append(path)
        user._subtree_paths = cached
    return cached


def in_subtree(user: User, path: str) -> bool:
    """Is the unit at ``path`` in ``user``'s subtrees (where they may act; a superuser: everywhere)?

    The user first, then a unit's path (``unit.path``, or a copy such as ``case.unit_path``):
    the one place this is decided in Python; ``path_q`` is the same rule as a filter."""
    roots = subtree_paths(user)
    return roots is EVERYWHERE or any(path.startswith(root) for root in roots)


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
    return sorted({prefix for path in paths for prefix in path_prefixes(path)})


def scope(
    queryset: QuerySet, user: User, *, path_field: str, grant_perm: str | None = None, named: Iterable[str] = (),
) -> QuerySet:
    """Restrict ``queryset`` to the user's subtrees, plus objects granted by ``grant_perm``.

    ``named``: further unit paths of an object (e.g. the place a theme names, the units of a
    project's sub-items) that open it *to read* when they lie in the user's subtrees: a lower
    tier sees the higher tier's work it carries out. Changing it stays with ``path_field``'s
    subtree (the services check that). One subquery per named path, whatever the data.
    """
    return queryset.filter(scope_q(user, queryset.model, path_field=path_field, grant_perm=grant_perm, named=named))


def scope_q(
    user: User, model: type[Model], *, path_field: str, grant_perm: str | None = None, named: Iterable[str] = (),
) -> Q:
    """``scope``'s filter, for a queryset built apart from the user (see ``cases.queries_staff.case_page_rows``)."""
    condition = path_q(user, path_field)
    paths = subtree_paths(user)
    if grant_perm and paths is not EVERYWHERE and user.is_authenticated:
        condition |= granted_q(user, model, grant_perm)
    if paths is not EVERYWHERE and paths:
        for field in named:
            condition |= Q(pk__in=model._base_manager.filter(path_q(user, field)).values("pk"))
    return condition


def granted_q(user: User, model: type[Model], perm: str) -> Q:
    """Objects of ``model`` granted to the user, directly or through a group (guardian rows).

    The granted keys are read first (one query per model and permission, kept on the user
    for the request) and the filter names them: ``path prefix OR pk IN (1, 2, 3)`` lets the
    database use the path index and the primary key, where ``OR pk IN (subquery)`` makes it
    test every row of a table of millions. Grants are few (a department's summoned cases).
    """
    return Q(pk__in=granted_keys(user, model, perm))


def granted_keys(user: User, model: type[Model], perm: str) -> list:
    """Keys of ``model`` granted to the user with ``perm``. Every grant of the user, whatever the
    model, is read by the first call of the request (one query), so a page that scopes cases,
    units and meetings pays once."""
    grants = _all_grants(user)
    content_type = ContentType.objects.get_for_model(model)
    found = grants.get((content_type.pk, perm.rsplit(".", 1)[-1]), ())
    return sorted({model._meta.pk.to_python(pk) for pk in found})


def _all_grants(user: User) -> dict[tuple[int, str], list[str]]:
    memo = user.__dict__.get("_all_grants")
    if memo is None:
        memo = user.__dict__["_all_grants"] = identity.piece(user, "grants", lambda: _read_grants(user))
    return memo


def _read_grants(user: User) -> dict[tuple[int, str], list[str]]:
    columns = ("content_type_id", "permission__codename", "object_pk")
    by_user = UserObjectPermission.objects.filter(user=user).order_by().values_list(*columns)
    by_group = GroupObjectPermission.objects.filter(group__user=user).order_by().values_list(*columns)
    grants: dict[tuple[int, str], list[str]] = {}
    for content_type_id, codename, pk in by_user.union(by_group):
        grants.setdefault((content_type_id, codename), []).append(pk)
    return grants


def visible_units(user: User) -> QuerySet[Unit]:
    return scope(Unit.objects.all(), user, path_field="path", grant_perm="communities.view_unit")


def unit_choices(user: User) -> list[Unit]:
    """``visible_units`` by path, as the action forms offer them: shared between the user's requests
    (``communities.identity``: it changes with their posts, their grants and the units)."""
    return identity.piece(user, "unit_choices", lambda: list(visible_units(user).order_by("path")))


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


def visible_security_events(user: User) -> QuerySet[SecurityEvent]:
    """Security log entries about people working in the user's subtrees. Entries that concern
    nobody known (a login under an unknown name) belong to the whole area: holders of a post on
    a root of the tree (the 工委) see them too."""
    paths = subtree_paths(user)
    events = SecurityEvent.objects.select_related("user")
    if paths is EVERYWHERE:
        return events
    condition = path_q(user, "unit_path")
    if any(path.count(PATH_SEPARATOR) == 2 for path in paths):
        condition |= Q(unit_path="")
    return events.filter(condition)


def visible_departments(user: User) -> QuerySet[Department]:
    return _in_reach(Department.objects.select_related("unit"), user)


def visible_partners(user: User) -> QuerySet[PartnerOrganisation]:
    return _in_reach(PartnerOrganisation.objects.select_related("unit"), user)


def posts_of(user: User) -> list[Post]:
    """The user's own active posts, highest tier first (kept on the user object for the request, and
    between requests in ``communities.identity``)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_own_posts", None)
    if cached is None:
        cached = identity.piece(user, "posts", lambda: list(
            Post.objects.active()
            .filter(user=user)
            .select_related("unit", "department")
            .order_by("unit__depth", "unit__path", "role")
        ))
        user._own_posts = cached
    return cached


def roles_of(user: User) -> set[str]:
    return {post.role for post in posts_of(user)}


# --- Reads for the tree pages -------------------------------------------------------


def tree_roots(user: User) -> list[Unit]:
    """Where the user's tree starts: the units of their outermost posts, or the top for a superuser."""
    paths = subtree_paths(user)
    if paths is EVERYWHERE:
        return list(Unit.objects.filter(parent__isnull=True).order_by("sort_order", "name"))
    roots = {post.unit.path: post.unit for post in posts_of(user) if post.unit.path in paths}
    return [roots[path] for path in paths if path in roots]


def visible_children(user: User, parents: Iterable[Unit]) -> dict[int, list[Unit]]:
    """The visible child units of each parent, in display order (one query)."""
    parents = list(parents)
    result: dict[int, list[Unit]] = {parent.pk: [] for parent in parents}
    if parents:
        for child in visible_units(user).filter(parent__in=parents).order_by("sort_order", "name"):
            result[child.parent_id].append(child)
    return result


def breadcrumbs(user: User, unit: Unit, *, include_self: bool = False) -> list[Unit]:
    """The unit's ancestors (and itself if asked) that the user may open, top first."""
    ids = [int(part) for part in unit.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    if not include_self:
        ids = ids[:-1]
    if not ids:
        return []
    return list(visible_units(user).filter(pk__in=ids).order_by("depth"))


@dataclass
class SubtreeCounts:
    """What lies under a unit, as far as the user may see."""

    units: int = 0
    buildings: int = 0
    households: int = 0
    area: Decimal = field(default_factory=Decimal)

    def add(self, *, units: int = 0, buildings: int = 0, households: int = 0, area: Decimal | None = None) -> None:
        self.units += units
        self.buildings += buildings
        self.households += households
        self.area += area or 0


def subtree_counts(user: User, units: Iterable[Unit]) -> dict[int, SubtreeCounts]:
    """Sub-units, buildings, households and floor area under each unit, in three queries.

    Units may be nested (a unit and its children). Buildings and households are grouped by
    their unit in SQL, so what comes back grows with the size of the tree (a few thousand
    grids at most), never with the number of buildings or households.
    """
    units = list(units)
    counts = {unit.pk: SubtreeCounts() for unit in units}
    if not units:
        return counts
    owners = _owners_lookup(units)
    under = visible_units_under(user, _common_path(unit.path for unit in units))
    path_of = dict(under.values_list("pk", "path"))
    for path in path_of.values():
        for unit in owners(path):
            if unit.path != path:
                counts[unit.pk].add(units=1)
    # Grouped by unit id (no join to the unit table); the scope is the visible units above.
    buildings = Building.objects.filter(unit__in=under.values("pk")).values("unit_id")
    for row in buildings.annotate(n=Count("pk")).order_by():
        for unit in owners(path_of[row["unit_id"]]):
            counts[unit.pk].add(buildings=row["n"])
    key = "stairwell__building__unit_id"
    households = Household.objects.filter(**{f"{key}__in": under.values("pk")}).values(key)
    for row in households.annotate(n=Count("pk"), area=Sum("area")).order_by():
        for unit in owners(path_of[row[key]]):
            counts[unit.pk].add(households=row["n"], area=row["area"])
    return counts


class ChildBucket(Func):
    """The child of ``unit`` a row's unit path lies under, or ``unit`` itself (its own rows): a SQL
    expression to group by, so a figure per child costs rows per child, not per unit below.

    Written as one CASE over the path column rather than Django's ``Case(When(...))``, whose
    resolving took milliseconds of each dashboard's CPU (a lookup built per child, per query).
    Unit paths hold only digits and separators, so a plain LIKE prefix needs no escaping."""

    output_field = BigIntegerField()

    def __init__(self, unit: Unit, children: Iterable[Unit], path_field: str) -> None:
        super().__init__(F(path_field))
        self.default = unit.pk
        self.prefixes = [(child.path + "%", child.pk) for child in children]

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        sql = " ".join(f"WHEN {column} LIKE %s THEN %s" for _ in self.prefixes)
        values = [value for prefix in self.prefixes for value in (*params, prefix[0], prefix[1])]
        return f"CASE {sql} ELSE %s END", (*values, self.default)


def child_bucket(unit: Unit, children: Iterable[Unit], path_field: str) -> ChildBucket | Value:
    """``ChildBucket``; a constant for a unit without children (then there is nothing to group by)."""
    children = list(children)
    return ChildBucket(unit, children, path_field) if children else Value(unit.pk, output_field=BigIntegerField())


def visible_units_under(user: User, prefix: str) -> QuerySet[Unit]:
    return scope(Unit.objects.filter(path__startswith=prefix), user, path_field="path")


def _common_path(paths: Iterable[str]) -> str:
    common = os.path.commonprefix(list(paths))
    return common[: common.rfind(PATH_SEPARATOR) + 1]


def _owners_lookup(units: list[Unit]):
    """A function giving, for a unit path, the given units it lies under (itself included)."""
    by_path = {unit.path: unit for unit in units}

    def owners(path: str) -> list[Unit]:
        found = []
        end = path.find(PATH_SEPARATOR, 1)
        while end != -1:
            if (unit := by_path.get(path[: end + 1])) is not None:
                found.append(unit)
            end = path.find(PATH_SEPARATOR, end + 1)
        return found

    return owners


def buildings_with_totals(user: User, units: Iterable[Unit]) -> QuerySet[Building]:
    """Visible buildings placed directly in these units, with stairwells, households and area."""
    return (
        visible_buildings(user)
        .filter(unit__in=list(units))
        .select_related("property_manager")
        .annotate(
            n_stairwells=Count("stairwells", distinct=True),
            n_households=Count("stairwells__households"),
            total_area=Sum("stairwells__households__area"),
        )
        .order_by("unit__path", "name")
    )


@dataclass
class Floor:
    number: int
    households: list[Household]

    @property
    def area(self) -> Decimal:
        return sum((household.area for household in self.households), Decimal())


@dataclass
class StairwellLayout:
    stairwell: Stairwell
    floors: list[Floor]

    @property
    def households(self) -> int:
        return sum(len(floor.households) for floor in self.floors)

    @property
    def occupied(self) -> int:
        return sum(household.occupied for floor in self.floors for household in floor.households)

    @property
    def area(self) -> Decimal:
        return sum((floor.area for floor in self.floors), Decimal())


@dataclass
class BuildingLayout:
    stairwells: list[StairwellLayout]

    @property
    def households(self) -> int:
        return sum(stairwell.households for stairwell in self.stairwells)

    @property
    def occupied(self) -> int:
        return sum(stairwell.occupied for stairwell in self.stairwells)

    @property
    def area(self) -> Decimal:
        return sum((stairwell.area for stairwell in self.stairwells), Decimal())


def building_layout(building: Building) -> BuildingLayout:
    """Stairwell units of a building, each with its households by floor, top floor first (two queries)."""
    stairwells = {s.pk: s for s in Stairwell.objects.filter(building=building).order_by("number")}
    for stairwell in stairwells.values():
        stairwell.building = building  # str(stairwell) names its building: no query per row
    by_floor: dict[int, dict[int, list[Household]]] = {pk: defaultdict(list) for pk in stairwells}
    for household in Household.objects.filter(stairwell__building=building).order_by("-floor", "room"):
        by_floor[household.stairwell_id][household.floor].append(household)
    return BuildingLayout(
        [
            StairwellLayout(stairwell, [Floor(number, rows) for number, rows in by_floor[pk].items()])
            for pk, stairwell in stairwells.items()
        ]
    )


def shared_buildings(user: User) -> QuerySet[Building]:
    """Buildings granted to the user one by one, outside their own subtrees."""
    if not user.is_authenticated or subtree_paths(user) is EVERYWHERE:
        return Building.objects.none()
    granted = granted_q(user, Building, "communities.view_building")
    return Building.objects.select_related("unit").filter(granted).exclude(path_q(user, "unit__path"))
