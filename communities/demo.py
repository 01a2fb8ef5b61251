"""The Yanshan demo area: the tier tree, buildings, departments, partners and demo logins.

Idempotent: everything is looked up by a stable key (unit code, names, username) and only
what is missing is created, so running it twice leaves the same rows. Staff are given
their posts through ``communities.services.assign_post`` so their role groups are synced.
"""

from __future__ import annotations

import base64
import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Building, Department, Household, PartnerOrganisation, Role, Stairwell, Unit

DEMO_PASSWORD = "yanshan-demo-2024"
# The demo's administrators and superuser sign in with a second factor, as in production; this
# published key (base32, for an authenticator app) is theirs. `make demo-code` prints its code.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

# (name, code, [(community name, code, number of grids), …]) under 燕山工委.
STREETS = [
    ("星城街道", "xingcheng", [
        ("星城第一社区", "xc-1", 2),
        ("星城第三社区", "xc-3", 3),
        ("星城第七社区", "xc-7", 2),
    ]),
    # 向阳东里社区 and 向阳西里社区 are demo placeholders, not names from the field reports.
    ("向阳街道", "xiangyang", [
        ("向阳东里社区", "xy-dongli", 2),
        ("向阳西里社区", "xy-xili", 2),
    ]),
    ("迎风街道", "yingfeng", [
        ("燕和园社区", "yf-yanheyuan", 3),
    ]),
    ("东风街道", "dongfeng", [
        ("东流水社区", "df-dongliushui", 2),
        ("羊耳峪第一社区", "df-yangeryu-1", 2),
    ]),
]
GRID_NAMES = ["第一网格", "第二网格", "第三网格"]

# (grid code, building name, stairwells, floors, households per floor, year built)
BUILDINGS = [
    ("xc-3-g1", "星城二里41号楼", 6, 6, 2, 1978),
    ("xc-3-g1", "星城二里40号楼", 4, 6, 2, 1978),
    ("xc-3-g2", "星城二里45号楼", 3, 5, 2, 1982),
    ("xc-7-g1", "星城七里2号楼", 4, 6, 2, 1985),
    ("xc-1-g1", "星城一里12号楼", 3, 6, 2, 1976),
    ("yf-yanheyuan-g1", "燕和园5号楼", 4, 6, 2, 1990),
    ("df-dongliushui-g1", "丁东路10号院1号楼", 2, 3, 2, 1968),
    ("df-yangeryu-1-g1", "羊耳峪北区8号楼", 3, 5, 2, 1980),
    ("xy-dongli-g1", "向阳东里3号楼", 3, 6, 2, 1983),
]

# Departments that may be summoned (吹哨报到); all serve the area.
DEPARTMENTS = [
    ("燕山住建委", Department.Kind.HOUSING),
    ("燕山人社局（人力社保）", Department.Kind.HUMAN_RESOURCES),
    ("燕山房管局", Department.Kind.HOUSING_ADMIN),
    ("燕山市场监管所", Department.Kind.MARKET),
    ("燕山教委", Department.Kind.EDUCATION),
    ("燕山生态环境局", Department.Kind.ECOLOGY),
    ("燕山城管执法队", Department.Kind.URBAN),
    ("燕山派出所", Department.Kind.POLICE),
    ("燕山消防救援站", Department.Kind.FIRE),
    ("燕山民政科", Department.Kind.CIVIL),
]

Kind = PartnerOrganisation.Kind
# (unit code, name, kind)
AREA_PARTNERS = [
    ("yanshan", "燕山供热", Kind.HEATING),
    ("yanshan", "房山燃气集团", Kind.GAS),
    ("yanshan", "国网房山供电公司", Kind.POWER),
    ("yanshan", "燕山石化", Kind.PROPERTY_OWNER),
    ("xingcheng", "燕山石化炼油厂党委（共建单位）", Kind.CO_BUILDER),
    ("xc-3", "星城二里业主委员会", Kind.OWNERS_COMMITTEE),
    ("df-dongliushui", "东流水社区业主委员会", Kind.OWNERS_COMMITTEE),
]
# One property manager per community: "{community}物业服务中心".
PROPERTY_MANAGER_SUFFIX = "物业服务中心"

# (username, full name, unit code, role, portfolio) — one per role at each demo tier.
STAFF = [
    ("area_secretary", "王建国", "yanshan", Role.SECRETARY, ""),
    ("area_director", "李秀兰", "yanshan", Role.DIRECTOR, ""),
    ("area_deputy_director", "张伟东", "yanshan", Role.DEPUTY_DIRECTOR, "livelihood"),
    ("area_dispatcher", "刘洋", "yanshan", Role.DISPATCHER, ""),
    ("area_supervisor", "陈静怡", "yanshan", Role.SUPERVISOR, ""),
    ("area_administrator", "杨帆", "yanshan", Role.ADMINISTRATOR, ""),
    ("street_secretary", "赵丽华", "xingcheng", Role.SECRETARY, ""),
    ("street_director", "黄志强", "xingcheng", Role.DIRECTOR, ""),
    ("street_deputy_director", "周敏", "xingcheng", Role.DEPUTY_DIRECTOR, "urban"),
    ("street_dispatcher", "吴涛", "xingcheng", Role.DISPATCHER, ""),
    ("street_caseworker", "徐明", "xingcheng", Role.CASEWORKER, ""),
    ("street_supervisor", "孙丽娟", "xingcheng", Role.SUPERVISOR, ""),
    ("street_administrator", "马超", "xingcheng", Role.ADMINISTRATOR, ""),
    ("xc3_secretary", "朱红梅", "xc-3", Role.SECRETARY, ""),
    ("xc3_director", "胡斌", "xc-3", Role.DIRECTOR, ""),
    ("xc3_deputy_director", "郭芳", "xc-3", Role.DEPUTY_DIRECTOR, "safety"),
    ("xc3_dispatcher", "何勇", "xc-3", Role.DISPATCHER, ""),
    ("xc3_caseworker", "高峰", "xc-3", Role.CASEWORKER, ""),
    ("xc3_supervisor", "林静", "xc-3", Role.SUPERVISOR, ""),
    ("xc3_administrator", "罗军", "xc-3", Role.ADMINISTRATOR, ""),
    ("xc3g1_caseworker", "郑华", "xc-3-g1", Role.CASEWORKER, ""),
    ("xc3g1_grid_worker", "梁艳", "xc-3-g1", Role.GRID_WORKER, ""),
    ("xc3g1_supervisor", "谢强", "xc-3-g1", Role.SUPERVISOR, ""),
    ("xc7_caseworker", "宋佳琪", "xc-7", Role.CASEWORKER, ""),
]
LIAISON = ("housing_liaison", "唐亮", "yanshan", "燕山住建委")
SUPERUSER = ("admin", "韩梅")


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    unit: str


@transaction.atomic
def load() -> list[Login]:
    """Create (or complete) the demo area; returns the demo logins."""
    units = _load_units()
    partners = _load_partners(units)
    _load_buildings(units, partners)
    departments = _load_departments(units["yanshan"])
    return _load_staff(units, departments)


def _unit(name: str, code: str, level: str, parent: Unit | None) -> Unit:
    unit, _ = Unit.objects.get_or_create(code=code, defaults={"name": name, "level": level, "parent": parent})
    return unit


def _load_units() -> dict[str, Unit]:
    area = _unit("燕山工委", "yanshan", Unit.Level.AREA, None)
    units = {area.code: area}
    for order, (street_name, street_code, communities) in enumerate(STREETS):
        street = _unit(street_name, street_code, Unit.Level.STREET, area)
        units[street.code] = street
        for community_name, community_code, grids in communities:
            community = _unit(community_name, community_code, Unit.Level.COMMUNITY, street)
            units[community.code] = community
            for number, grid_name in enumerate(GRID_NAMES[:grids], start=1):
                code = f"{community_code}-g{number}"
                units[code] = _unit(f"{community_name}{grid_name}", code, Unit.Level.GRID, community)
    return units


def _load_partners(units: dict[str, Unit]) -> dict[str, PartnerOrganisation]:
    """Returns each community's property manager by community code."""
    for code, name, kind in AREA_PARTNERS:
        PartnerOrganisation.objects.get_or_create(unit=units[code], name=name, defaults={"kind": kind})
    managers = {}
    for community in (unit for unit in units.values() if unit.level == Unit.Level.COMMUNITY):
        managers[community.code], _ = PartnerOrganisation.objects.get_or_create(
            unit=community,
            name=f"{community.name}{PROPERTY_MANAGER_SUFFIX}",
            defaults={"kind": Kind.PROPERTY_MANAGER},
        )
    return managers


def _load_buildings(units: dict[str, Unit], managers: dict[str, PartnerOrganisation]) -> None:
    rng = random.Random(41)  # the same floor areas on every run and every machine
    for grid_code, name, stairwells, floors, per_floor, year in BUILDINGS:
        grid = units[grid_code]
        building, _ = Building.objects.get_or_create(
            unit=grid,
            name=name,
            defaults={
                "floors": floors,
                "year_built": year,
                "property_manager": managers[grid.parent.code],
            },
        )
        _load_stairwells(building, stairwells, floors, per_floor, rng)


def _load_stairwells(building: Building, count: int, floors: int, per_floor: int, rng: random.Random) -> None:
    existing = set(building.stairwells.values_list("number", flat=True))
    Stairwell.objects.bulk_create(
        [Stairwell(building=building, number=n) for n in range(1, count + 1) if n not in existing]
    )
    stairwells = list(building.stairwells.all())
    taken = set(
        Household.objects.filter(stairwell__building=building).values_list("stairwell_id", "room")
    )
    households = []
    for stairwell in stairwells:
        for floor in range(1, floors + 1):
            for door in range(1, per_floor + 1):
                room = f"{floor}{door:02d}"
                area = Decimal(rng.randint(5600, 7800)) / 100  # drawn even when kept: stable areas
                if (stairwell.pk, room) not in taken:
                    households.append(Household(stairwell=stairwell, floor=floor, room=room, area=area))
    Household.objects.bulk_create(households)


def _load_departments(area: Unit) -> dict[str, Department]:
    departments = {}
    for name, kind in DEPARTMENTS:
        departments[name], _ = Department.objects.get_or_create(
            name=name, defaults={"kind": kind, "unit": area}
        )
    return departments


def _user(username: str, full_name: str, password_hash: str, **extra):
    user, _ = get_user_model().objects.get_or_create(username=username)
    # The whole name in one field; communities.names shows family and given names in the right
    # order when they are stored apart.
    user.first_name, user.last_name = full_name, ""
    # One hash for every demo account: hashing a password two dozen times is slow.
    user.password = password_hash
    user.is_active = True
    for field, value in extra.items():
        setattr(user, field, value)
    user.save()
    return user


def _load_staff(units: dict[str, Unit], departments: dict[str, Department]) -> list[Login]:
    password_hash = make_password(DEMO_PASSWORD)
    logins = []
    for username, full_name, unit_code, role, portfolio in STAFF:
        user = _user(username, full_name, password_hash)
        unit = units[unit_code]
        services.assign_post(user=user, unit=unit, role=role, portfolio=portfolio)
        logins.append(Login(username, DEMO_PASSWORD, str(role.label), unit.name))
    username, full_name, unit_code, department_name = LIAISON
    user = _user(username, full_name, password_hash)
    department = departments[department_name]
    services.assign_post(
        user=user, unit=units[unit_code], role=Role.DEPARTMENT_LIAISON, department=department
    )
    unit_label = f"{units[unit_code].name} · {department.name}"
    logins.append(Login(username, DEMO_PASSWORD, str(Role.DEPARTMENT_LIAISON.label), unit_label))
    username, full_name = SUPERUSER
    superuser = _user(username, full_name, password_hash, is_superuser=True, is_staff=True)
    logins.append(Login(username, DEMO_PASSWORD, str(_("Superuser")), str(_("all units"))))
    administrators = get_user_model().objects.filter(posts__role=Role.ADMINISTRATOR, posts__active=True)
    for user in [*administrators.distinct(), superuser]:
        _enrol_demo_authenticator(user)
    return logins


def _enrol_demo_authenticator(user) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .twofactor import AUTHENTICATOR

    TOTPDevice.objects.update_or_create(
        user=user, name=AUTHENTICATOR, defaults={"key": demo_totp_key(), "confirmed": True}
    )


def demo_totp_key() -> str:
    """The published demo key as django-otp stores it (hex)."""
    return base64.b32decode(DEMO_TOTP_SECRET).hex()


def demo_totp_code() -> str:
    """The code an authenticator app shows for the demo key now."""
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(demo_totp_key())):06d}"


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def format_logins(logins: list[Login], header: tuple[str, str, str, str]) -> list[str]:
    """One aligned line per login, after a header line."""
    rows = [header] + [(x.username, x.password, x.role, x.unit) for x in logins]
    widths = [max(_width(row[column]) for row in rows) for column in range(3)]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row[:3])]
        lines.append("  ".join([*cells, row[3]]))
    return lines
