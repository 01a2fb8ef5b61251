"""The benchmark area: the tier tree, buildings and households, staff, departments and partners."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from communities.models import Building, Department, Household, PartnerOrganisation, Post, Role, Stairwell, Unit
from governance.coordination import groups

from .sinks import Table, next_id, reset_sequences, sink

AREA_CODE = "bm"
PASSWORD = "bench-password-2024"
STREET_NAMES = ["星城", "向阳", "迎风", "东风", "燕房", "凤凰亭", "岗南", "羊耳峪", "宏塔", "南关", "北坊", "西沙地",
                "东岭", "栗园", "前进", "和平"]
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
CALLER = ["先生", "女士", "阿姨", "大爷", "师傅"]
# The staff of each tier: one user per role.
STAFF = {
    Unit.Level.AREA: [Role.SECRETARY, Role.DIRECTOR, Role.DISPATCHER, Role.SUPERVISOR],
    Unit.Level.STREET: [Role.SECRETARY, Role.DISPATCHER, Role.CASEWORKER],
    Unit.Level.COMMUNITY: [Role.SECRETARY, Role.CASEWORKER],
    Unit.Level.GRID: [Role.GRID_WORKER],
}


@dataclass
class Shape:
    """The size of the area: how many of each tier under the one above."""

    streets: int = 10
    communities: int = 8
    grids: int = 4
    buildings: int = 6
    stairwells: int = 3
    floors: int = 6
    per_floor: int = 2


@dataclass
class Area:
    area: Unit
    streets: list[Unit]
    communities: list[Unit]
    grids: list[Unit]
    buildings: dict[int, list[int]]  # grid id → building ids
    staff: dict[tuple[int, str], int]  # (unit id, role) → user id
    quality: dict[int, float] = field(default_factory=dict)  # unit id → how well it works (0.7–0.99)
    departments: list[tuple[int, str]] = field(default_factory=list)  # (id, name) of the area's departments
    partners: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # community id → (id, name)

    def community_of(self, unit_path: str) -> Unit | None:
        """The community a handling unit belongs to (None for the area and the streets)."""
        if not hasattr(self, "_communities"):
            self._communities = {c.path: c for c in self.communities}
            self._communities.update({g.path: self._communities.get(g.parent.path) for g in self.grids})
        return self._communities.get(unit_path)


def build_area(shape: Shape, rng: random.Random, out: Callable[[str], None]) -> Area:
    area = Unit.objects.create(name="基准工委", code=AREA_CODE, level=Unit.Level.AREA)
    streets, communities, grids = [], [], []
    for s in range(shape.streets):
        street = Unit.objects.create(
            name=f"{STREET_NAMES[s % len(STREET_NAMES)]}{'' if s < len(STREET_NAMES) else s}街道",
            code=f"{AREA_CODE}-{s + 1}", level=Unit.Level.STREET, parent=area, sort_order=s,
        )
        streets.append(street)
        for c in range(shape.communities):
            community = Unit.objects.create(
                name=f"{street.name[:-2]}第{c + 1}社区", code=f"{street.code}-{c + 1}",
                level=Unit.Level.COMMUNITY, parent=street, sort_order=c,
            )
            communities.append(community)
            for g in range(shape.grids):
                grids.append(Unit.objects.create(
                    name=f"{community.name}第{g + 1}网格", code=f"{community.code}-{g + 1}",
                    level=Unit.Level.GRID, parent=community, sort_order=g,
                ))
    out(f"  {1 + len(streets) + len(communities) + len(grids)} units")
    buildings = _buildings(grids, shape, rng, out)
    staff = _staff([area, *streets, *communities, *grids], out)
    quality = {unit.pk: rng.uniform(0.72, 0.99) for unit in [area, *streets, *communities, *grids]}
    departments = _departments(area)
    partners = _partners(communities)
    out(f"  {len(departments)} departments, {sum(map(len, partners.values()))} partner organisations")
    return Area(area, streets, communities, grids, buildings, staff, quality, departments, partners)


# The departments a whistle summons most (Department.name is unique: these carry the area's name).
DEPARTMENTS = [
    (Department.Kind.HOUSING, "住建委"), (Department.Kind.HOUSING_ADMIN, "房管局"), (Department.Kind.URBAN, "城管执法队"),
    (Department.Kind.POLICE, "派出所"), (Department.Kind.FIRE, "消防救援站"), (Department.Kind.MARKET, "市场监管所"),
    (Department.Kind.ECOLOGY, "生态环境局"), (Department.Kind.CIVIL, "民政局"),
]


def _departments(area: Unit) -> list[tuple[int, str]]:
    created = Department.objects.bulk_create([
        Department(name=f"{area.name}{name}", kind=kind, unit=area) for kind, name in DEPARTMENTS
    ])
    for department in created:
        groups.department_group(department)  # what whistles and meetings grant to
    return [(d.pk, d.name) for d in created]


def _partners(communities: list[Unit]) -> dict[int, list[tuple[int, str]]]:
    kinds = [(PartnerOrganisation.Kind.PROPERTY_MANAGER, "物业服务中心"),
             (PartnerOrganisation.Kind.OWNERS_COMMITTEE, "业主委员会")]
    created = PartnerOrganisation.objects.bulk_create([
        PartnerOrganisation(name=f"{community.name}{name}", kind=kind, unit=community)
        for community in communities for kind, name in kinds
    ], batch_size=1000)
    result: dict[int, list[tuple[int, str]]] = {}
    for partner in created:
        result.setdefault(partner.unit_id, []).append((partner.pk, partner.name))
    return result


def department_group_ids(area: Area) -> dict[int, int]:
    """Department id → the id of its group (what guardian grants go to)."""
    names = {groups.group_name(pk): pk for pk, _name in area.departments}
    return {names[name]: pk for name, pk in Group.objects.filter(name__in=names).values_list("name", "pk")}


def _buildings(grids: list[Unit], shape: Shape, rng: random.Random, out) -> dict[int, list[int]]:
    rows = [
        Building(unit=grid, name=f"{grid.parent.name}{g * shape.buildings + b + 1}号楼", floors=shape.floors,
                 year_built=rng.randint(1965, 2005))
        for g, grid in enumerate(grids) for b in range(shape.buildings)
    ]
    created = Building.objects.bulk_create(rows, batch_size=2000)
    stairwells = Stairwell.objects.bulk_create(
        [Stairwell(building=b, number=n + 1) for b in created for n in range(shape.stairwells)], batch_size=5000
    )
    households = (
        {"stairwell_id": s.pk, "floor": f, "room": f"{f}{d:02d}", "area": Decimal(f"{38 + 54 * rng.random():.2f}")}
        for s in stairwells for f in range(1, shape.floors + 1) for d in range(1, shape.per_floor + 1)
    )
    table = Table(Household)
    start = next_id(Household)
    count = sink().write(table, (table.row({"id": start + i, **h}) for i, h in enumerate(households)))
    reset_sequences(Household)
    out(f"  {len(created)} buildings, {len(stairwells)} stairwells, {count} households")
    by_grid: dict[int, list[int]] = {}
    for building in created:
        by_grid.setdefault(building.unit_id, []).append(building.pk)
    return by_grid


def _staff(units: list[Unit], out) -> dict[tuple[int, str], int]:
    User = get_user_model()
    password = make_password(PASSWORD)
    wanted = [(unit, role) for unit in units for role in STAFF[unit.level]]
    users = User.objects.bulk_create([
        User(username=username(unit, role), password=password, first_name=f"{unit.name}{Role(role).label}")
        for unit, role in wanted
    ], batch_size=1000)
    users = User.objects.filter(username__in=[username(u, r) for u, r in wanted]).in_bulk(field_name="username")
    Post.objects.bulk_create([
        Post(user=users[username(unit, role)], unit=unit, role=role) for unit, role in wanted
    ], batch_size=1000)
    groups = {group.name: group.pk for group in Group.objects.filter(name__in=Role.values)}
    through = User.groups.through
    through.objects.bulk_create([
        through(user_id=users[username(unit, role)].pk, group_id=groups[role]) for unit, role in wanted
    ], batch_size=1000)
    out(f"  {len(wanted)} staff, password {PASSWORD!r}")
    return {(unit.pk, role): users[username(unit, role)].pk for unit, role in wanted}


def username(unit: Unit, role: str) -> str:
    return f"bench-{unit.code}-{role}"


