"""A realistic area at scale, for measuring the dashboards: ``manage.py seed_benchmark``.

One area (基准工委, code ``bm``) of streets, communities, grids, buildings, stairwells and
households, its staff, and N resident requests over the last M months with their whole
history: timeline events, first contacts, return-visit ratings, supervisions. Every
closed month is then frozen into MonthlyScore, as the monthly assessment would have.

Rows are generated one case at a time from a seeded random source and streamed to the
database in chunks of ten thousand cases: PostgreSQL's binary COPY (psycopg 3
``cursor.copy``), ``bulk_create`` elsewhere. Memory stays flat whatever the number of
cases (about 200 MB). On PostgreSQL the cases' secondary indexes are rebuilt once at the
end, inside the same transaction as the load (see ``bulk_mode``).

Cases are plain rows here, not service calls: a million requests through
``cases.services`` would take hours. They follow the services' rules (states, timeline
actions, deadlines from the category) so the pages read them like any other case.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from cases import rates, tallies
from cases.deadlines import deadlines_for
from cases.models import (
    Case,
    Category,
    ContactRecord,
    MonthlyScore,
    ReturnVisit,
    Supervision,
    TimelineEvent,
)
from communities.models import Building, Household, Post, Role, Stairwell, Unit

AREA_CODE = "bm"
PASSWORD = "bench-password-2024"
CHUNK = 10_000
S = Case.Status
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


# ------------------------------------------------------------------ writing rows


class Table:
    """A model's columns in order, with what a row leaves out filled from the field defaults."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = model._meta.concrete_fields
        self.columns = [f.column for f in self.fields]
        self.names = [f.attname for f in self.fields]
        self.factories = {f.attname: f.default for f in self.fields if f.has_default() and callable(f.default)}
        self.defaults = {f.attname: f.get_default() for f in self.fields if f.attname not in self.factories}

    def row(self, values: dict) -> tuple:
        full = {**self.defaults, **values}
        for name, factory in self.factories.items():
            if name not in values:
                full[name] = factory()
        return tuple(map(full.__getitem__, self.names))


class CopySink:
    """PostgreSQL: one binary COPY … FROM STDIN per table and chunk, rows streamed as they come."""

    def __init__(self) -> None:
        self.types: dict[str, list[int]] = {}

    def column_types(self, cursor, table: Table) -> list[int]:
        name = table.model._meta.db_table
        if name not in self.types:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", [name]
            )
            oids = dict(cursor.fetchall())
            self.types[name] = [oids[column] for column in table.columns]
        return self.types[name]

    def write(self, table: Table, rows: Iterable[tuple]) -> int:
        count = 0
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in table.columns)
        sql = f"COPY {quote(table.model._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        with connection.cursor() as cursor:
            types = self.column_types(cursor, table)
            with cursor.cursor.copy(sql) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count


class BulkSink:
    """Other databases (SQLite): bulk_create in batches."""

    BATCH = 1000

    def write(self, table: Table, rows: Iterable[tuple]) -> int:
        count, batch = 0, []
        for row in rows:
            batch.append(table.model(**dict(zip(table.names, row))))
            if len(batch) == self.BATCH:
                count += len(table.model.objects.bulk_create(batch))
                batch = []
        if batch:
            count += len(table.model.objects.bulk_create(batch))
        return count


def sink() -> CopySink | BulkSink:
    return CopySink() if connection.vendor == "postgresql" else BulkSink()


@contextmanager
def bulk_mode(model_list: list[type[models.Model]], out: Callable[[str], None]) -> Iterator[None]:
    """PostgreSQL: load without the tables' secondary indexes (rebuilt after: much faster than
    row by row), without waiting for each commit to reach the disk and, for a superuser,
    without the foreign-key triggers (the generator writes consistent rows). Elsewhere:
    nothing changes.

    All of it happens in one transaction, so an interrupted load rolls back whole, the
    dropped indexes included; the rows still stream (chunks are savepoints).
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in model_list]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:  # checked row by row, not queued to the commit for millions of rows
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)", [tables],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        yield
        out(f"  rebuilding {len(indexes)} indexes …")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)


def next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1


def reset_sequences(*model_list: type[models.Model]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


# ------------------------------------------------------------------ the area


@dataclass
class Area:
    area: Unit
    streets: list[Unit]
    communities: list[Unit]
    grids: list[Unit]
    buildings: dict[int, list[int]]  # grid id → building ids
    staff: dict[tuple[int, str], int]  # (unit id, role) → user id
    quality: dict[int, float] = field(default_factory=dict)  # unit id → how well it works (0.7–0.99)


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
    return Area(area, streets, communities, grids, buildings, staff, quality)


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


# ------------------------------------------------------------------ the cases


@dataclass
class Kind:
    """A category as the generator needs it: deadlines and how often residents call about it."""

    pk: int
    name: str
    urgency: str
    contact_within: timedelta
    resolve_within: timedelta
    weight: float
    winter: bool


def kinds() -> list[Kind]:
    leaves = Category.objects.filter(children__isnull=True).order_by("sort_order", "code")
    common = {"housing-stairwell": 4, "housing-leak": 3, "garbage": 4, "parking-illegal": 3, "noise": 3,
              "housing-property": 3, "ebike-charging": 2, "heating-cold": 3, "water": 2, "road-surface": 2}
    result = []
    for category in leaves:
        contact, resolve = deadlines_for(category, category.default_urgency)
        result.append(Kind(category.pk, category.name, category.default_urgency, contact, resolve,
                           common.get(category.code, 1), category.code.startswith("heating")))
    return result


@dataclass
class Story:
    """One case and everything recorded about it."""

    case: dict
    events: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    visits: list[dict] = field(default_factory=list)
    supervisions: list[dict] = field(default_factory=list)


class Generator:
    """Case stories in order of receipt, spread evenly over the months, busier in the daytime."""

    def __init__(self, area: Area, *, cases: int, months: int, rng: random.Random, now: datetime) -> None:
        self.area, self.rng, self.now, self.total = area, rng, now, cases
        self.start = now - timedelta(days=round(months * 30.44))
        self.span = (now - self.start).total_seconds()
        self.kinds = kinds()
        self.winter_kinds = [k for k in self.kinds if k.winter]
        self.other_kinds = [k for k in self.kinds if not k.winter]
        self.other_weights = list(accumulate(k.weight for k in self.other_kinds))
        self.grid_weights = list(accumulate(rng.paretovariate(2.5) for _ in area.grids))  # a few grids are busy
        self.code_mult, self.code_add = 2654435761, rng.randrange(31**10)
        self.first_id = 1  # the first case id of this load: merged cases point at a lead loaded before them

    def received_at(self, index: int) -> datetime:
        moment = self.start + timedelta(seconds=self.span * (index + self.rng.random()) / self.total)
        local = moment.astimezone(rates.RATE_TZ)
        hour = min(23, max(0, int(self.rng.gauss(13, 4))))  # residents call in the daytime
        return min(local.replace(hour=hour, minute=self.rng.randrange(60)), self.now - timedelta(minutes=1))

    def kind(self, when: datetime) -> Kind:
        heating_season = when.month in (11, 12, 1, 2, 3)
        if heating_season and self.rng.random() < 0.12:
            return self.rng.choice(self.winter_kinds)
        return self.rng.choices(self.other_kinds, cum_weights=self.other_weights)[0]

    def code(self, case_id: int) -> str:
        """A tracking code from the case id: distinct ids give distinct codes (a bijection mod 31¹⁰)."""
        alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
        number = (case_id * self.code_mult + self.code_add) % 31**10
        digits = []
        for _ in range(10):
            number, digit = divmod(number, 31)
            digits.append(alphabet[digit])
        return "".join(digits)


# Where a case stands by its age in days: the young ones in hand, nearly every old one closed
# (a few complex cases stay open for months: a backlog of about 0.2 % of the old ones).
_BY_AGE = [
    (20, [(S.CLOSED, 98.8), (S.MERGED, 1), (S.IN_PROGRESS, 0.1), (S.RESOLVED, 0.05), (S.CONTACTED, 0.03),
          (S.RETURNED, 0.02)]),
    (7, [(S.CLOSED, 70), (S.RESOLVED, 14), (S.IN_PROGRESS, 9), (S.CONTACTED, 3), (S.ACCEPTED, 1.5),
         (S.DISPATCHED, 1), (S.MERGED, 1), (S.RETURNED, 0.5)]),
    (1, [(S.CLOSED, 30), (S.RESOLVED, 24), (S.IN_PROGRESS, 20), (S.CONTACTED, 11), (S.ACCEPTED, 7),
         (S.DISPATCHED, 5), (S.MERGED, 1), (S.RETURNED, 1), (S.SUBMITTED, 1)]),
    (-1, [(S.SUBMITTED, 15), (S.DISPATCHED, 30), (S.ACCEPTED, 20), (S.CONTACTED, 20), (S.IN_PROGRESS, 10),
          (S.RESOLVED, 5)]),
]
_STATUS_TABLES = [
    (days, [status for status, _ in table], list(accumulate(weight for _, weight in table)))
    for days, table in _BY_AGE
]


def _status(age: timedelta, rng: random.Random) -> str:
    days = age.total_seconds() / 86400
    for older_than, statuses, weights in _STATUS_TABLES:
        if days > older_than:
            return rng.choices(statuses, cum_weights=weights)[0]
    return S.SUBMITTED


NO_DETAILS: dict = {}  # the events' JSON details: shared, never changed

# The order in which a case moves, and the timeline action of each step.
STEPS = [S.DISPATCHED, S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED]
ACTIONS = {S.DISPATCHED: "dispatched", S.ACCEPTED: "accepted", S.CONTACTED: "contacted",
           S.IN_PROGRESS: "progress", S.RESOLVED: "resolved", S.CLOSED: "closed"}


def story(gen: Generator, index: int, case_id: int) -> Story:
    rng, area = gen.rng, gen.area
    received = gen.received_at(index)
    kind = gen.kind(received)
    grid = rng.choices(area.grids, cum_weights=gen.grid_weights)[0]
    community, street = grid.parent, grid.parent.parent
    roll = rng.random()  # most cases go to the grid, some to the community, a few stay with the street
    handler_unit = grid if roll < 0.62 else (community if roll < 0.92 else street)
    buildings = area.buildings.get(grid.pk, [])
    building = rng.choice(buildings) if buildings and rng.random() < 0.8 else None
    status = _status(gen.now - received, rng)
    hotline = rng.random() < 0.55
    source = Case.Source.HOTLINE if hotline else rng.choice(
        [Case.Source.WEB, Case.Source.WEB, Case.Source.WALK_IN, Case.Source.GRID_PATROL, Case.Source.VOLUNTEER])
    case = {
        "id": case_id, "code": gen.code(case_id), "hotline_order_no": f"BM{case_id:010d}" if hotline else None,
        "source": source, "kind": Case.Kind.HELP, "category_id": kind.pk, "urgency": kind.urgency,
        "title": f"{kind.name}问题", "description": f"{kind.name}，请尽快处理。",
        "location_unit_id": grid.pk, "building_id": building, "unit_id": handler_unit.pk,
        "unit_path": handler_unit.path, "dispatching_unit_id": street.pk,
        "resident_name": rng.choice(FAMILY) + rng.choice(CALLER),
        "resident_phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
        "consent_at": received if source == Case.Source.WEB else None,
        "received_at": received, "contact_due_at": received + kind.contact_within,
        "resolve_due_at": received + kind.resolve_within, "created_at": received, "updated_at": received,
        "status": S.SUBMITTED,
    }
    result = Story(case)
    actor = "12345" if hotline else ""
    _event(result, received, "submitted", None, actor, "", S.SUBMITTED, public=True)
    _walk(gen, result, status, handler_unit, street, quality=area.quality[handler_unit.pk])
    return result


def _event(story: Story, at: datetime, action: str, by: int | None, label: str, old: str, new: str,
           *, public: bool = False, note: str = "") -> None:
    story.events.append({"case_id": story.case["id"], "at": at, "actor_id": by, "actor_label": label,
                         "action": action, "from_status": old, "to_status": new, "note": note,
                         "public": public, "data": NO_DETAILS})


def _walk(gen: Generator, story: Story, target: str, unit: Unit, street: Unit, *, quality: float) -> None:
    """Move the case step by step to ``target``, stamping each step and writing its rows."""
    rng, case, staff = gen.rng, story.case, gen.area.staff
    if target == S.SUBMITTED:
        return
    dispatcher = staff[(street.pk, Role.DISPATCHER)]
    handler = staff.get((unit.pk, Role.GRID_WORKER)) or staff[(unit.pk, Role.CASEWORKER)]
    moment = case["received_at"]
    final = S.CLOSED if target == S.MERGED else (S.DISPATCHED if target == S.RETURNED else target)
    for step in STEPS[: STEPS.index(final) + 1]:
        moment = _next_moment(gen, story, step, moment, quality)
        if moment >= gen.now:  # a step cannot lie in the future: stop where the clock is
            break
        _step(story, step, moment, dispatcher, handler, rng, quality)
        if target == S.MERGED and step == S.DISPATCHED:
            _merge(gen, story, moment, dispatcher)
            return
    if target == S.RETURNED and case["status"] == S.DISPATCHED:
        later = min(gen.now - timedelta(seconds=1), moment + timedelta(hours=rng.uniform(1, 6)))
        _event(story, later, "returned", handler, "", S.DISPATCHED, S.RETURNED, note="不属于本单位职责，请改派。")
        case.update(status=S.RETURNED, handler_id=None, updated_at=later)
    _maybe_supervise(gen, story, street, staff)
    _maybe_exclude(gen, story, dispatcher)


def _next_moment(gen: Generator, story: Story, step: str, moment: datetime, quality: float) -> datetime:
    rng, case = gen.rng, story.case
    window = case["contact_due_at"] - case["received_at"]
    if step == S.DISPATCHED:
        return moment + window * rng.uniform(0.02, 0.2)
    if step == S.ACCEPTED:
        return moment + window * rng.uniform(0.02, 0.3)
    if step == S.CONTACTED:
        due = case["contact_due_at"]
        if rng.random() < quality:
            return max(moment + timedelta(minutes=1), min(moment + window * rng.uniform(0.05, 0.4), due))
        return max(moment, due) + timedelta(minutes=rng.uniform(10, 600))
    if step == S.IN_PROGRESS:
        return moment + timedelta(hours=rng.uniform(1, 24))
    if step == S.RESOLVED:
        budget = (case["resolve_due_at"] - case["received_at"]).total_seconds()
        return moment + timedelta(seconds=budget * rng.uniform(0.1, 0.9 if rng.random() < quality else 1.6))
    return moment + timedelta(hours=rng.uniform(6, 72))  # closed, after the return visit


def _step(story: Story, step: str, moment: datetime, dispatcher: int, handler: int, rng: random.Random,
          quality: float) -> None:
    case = story.case
    old = case["status"]
    by = dispatcher if step in (S.DISPATCHED, S.CLOSED) else handler
    if step == S.CLOSED:
        _rate(story, moment, rng, quality)
    label = "" if by else "12345"
    _event(story, moment, ACTIONS[step], by, label, old, step, public=step != S.IN_PROGRESS)
    fields = {S.DISPATCHED: "dispatched_at", S.ACCEPTED: "accepted_at", S.CONTACTED: "contacted_at",
              S.RESOLVED: "resolved_at", S.CLOSED: "closed_at"}
    if step in fields:
        case[fields[step]] = moment
    if step == S.ACCEPTED:
        case["handler_id"] = handler
    if step == S.CONTACTED:
        story.contacts.append({"case_id": case["id"], "by_id": handler, "at": moment,
                               "method": ContactRecord.Method.PHONE, "summary": "已电话联系，了解情况。"})
    if step == S.RESOLVED:
        case.update(result="已处理完毕。", nature=Case.Nature.REASONABLE)
    case.update(status=step, updated_at=moment)


def _rate(story: Story, moment: datetime, rng: random.Random, quality: float) -> None:
    """Three in four closed cases carry the caller's rating, given just before closing."""
    if rng.random() > 0.78:
        return
    case = story.case
    at = moment - timedelta(minutes=rng.uniform(5, 300))
    at = max(at, case["resolved_at"] + timedelta(minutes=1))
    resolved = rng.random() < 0.75 + 0.24 * quality
    roll = rng.random()
    satisfied = 0.5 + 0.45 * quality
    satisfaction = "satisfied" if roll < satisfied else ("basic" if roll < satisfied + 0.1 else "unsatisfied")
    if not resolved:
        satisfaction = "unsatisfied" if roll < 0.7 else "basic"
    channel = ReturnVisit.Channel.WEB if rng.random() < 0.4 else ReturnVisit.Channel.PHONE
    case.update(rated_at=at, rated_resolved=resolved, satisfaction=satisfaction)
    story.visits.append({"case_id": case["id"], "at": at, "channel": channel, "resolved": resolved,
                         "satisfaction": satisfaction})
    _event(story, at, "rated", None, "居民", case["status"], case["status"], public=True)


def _merge(gen: Generator, story: Story, moment: datetime, dispatcher: int) -> None:
    case = story.case
    lead = case["id"] - gen.rng.randint(1, 40)
    if lead < gen.first_id:
        return
    case.update(status=S.MERGED, merged_into_id=lead, updated_at=moment)
    _event(story, moment, "merged", dispatcher, "", S.DISPATCHED, S.MERGED, public=True, note="重复诉求，已合并。")


def _maybe_supervise(gen: Generator, story: Story, street: Unit, staff) -> None:
    case = story.case
    open_long = case["status"] not in (S.CLOSED, S.MERGED, S.RESOLVED) and \
        gen.now - case["received_at"] > timedelta(days=5)
    if not open_long or gen.rng.random() > 0.25:
        return
    at = case["received_at"] + timedelta(days=5)
    by = staff[(street.pk, Role.SECRETARY)]
    case["is_supervised"] = True
    story.supervisions.append({"case_id": case["id"], "unit_id": street.pk, "by_id": by, "comment": "请加快办理并反馈。",
                               "due_at": at + timedelta(days=3), "created_at": at})
    _event(story, at, "supervised", by, "", case["status"], case["status"], note="请加快办理并反馈。")


def _maybe_exclude(gen: Generator, story: Story, dispatcher: int) -> None:
    case = story.case
    if case["status"] != S.CLOSED or gen.rng.random() > 0.015:
        return
    case.update(excluded_from_rates=True, exclusion_reason="不合理诉求", nature=Case.Nature.UNREASONABLE)
    _event(story, case["closed_at"], "excluded_from_rates", dispatcher, "", S.CLOSED, S.CLOSED, note="不合理诉求")


# ------------------------------------------------------------------ the whole load


@dataclass
class Loaded:
    cases: int = 0
    events: int = 0
    contacts: int = 0
    visits: int = 0
    supervisions: int = 0
    frozen_months: int = 0


TABLES = {name: Table(model) for name, model in [
    ("case", Case), ("event", TimelineEvent), ("contact", ContactRecord), ("visit", ReturnVisit),
    ("supervision", Supervision),
]}


def seed(*, cases: int, months: int, shape: Shape | None = None, random_seed: int = 2024,
         out: Callable[[str], None] = print) -> Loaded:
    """Create the benchmark area and its cases (the area must not exist yet)."""
    rng = random.Random(random_seed)
    now = timezone.now()
    out("Building the area …")
    with transaction.atomic():
        area = build_area(shape or Shape(), rng, out)
    gen = Generator(area, cases=cases, months=months, rng=rng, now=now)
    loaded = Loaded()
    out(f"Streaming {cases} cases in chunks of {CHUNK} …")
    with bulk_mode([table.model for table in TABLES.values()], out):
        _load_cases(gen, cases, loaded, out)
    reset_sequences(Case, TimelineEvent, ContactRecord, ReturnVisit, Supervision)
    loaded.frozen_months = freeze_closed_months(gen.start, now, out)
    out("Counting the dashboards' tallies …")
    tallies.rebuild()  # rows were copied past the services, which keep the tallies otherwise
    analyze()
    return loaded


def _load_cases(gen: Generator, total: int, loaded: Loaded, out) -> None:
    target = sink()
    ids = {name: next_id(table.model) for name, table in TABLES.items()}
    gen.first_id = ids["case"]
    for start in range(0, total, CHUNK):
        stories = [story(gen, index, ids["case"] + index) for index in range(start, min(total, start + CHUNK))]
        with transaction.atomic():
            loaded.cases += target.write(TABLES["case"], (TABLES["case"].row(s.case) for s in stories))
            for name, attr in [("event", "events"), ("contact", "contacts"), ("visit", "visits"),
                               ("supervision", "supervisions")]:
                rows = _numbered(ids, name, (row for s in stories for row in getattr(s, attr)))
                setattr(loaded, attr, getattr(loaded, attr) + target.write(TABLES[name], rows))
        if (start // CHUNK) % 10 == 9 or start + CHUNK >= total:
            out(f"  {loaded.cases} cases, {loaded.events} events")


def _numbered(ids: dict[str, int], name: str, rows: Iterable[dict]) -> Iterator[tuple]:
    table = TABLES[name]
    for row in rows:
        row["id"] = ids[name]
        ids[name] += 1
        yield table.row(row)


def freeze_closed_months(start: datetime, now: datetime, out) -> int:
    """Freeze every month that is over, oldest first, as the monthly assessment does."""
    month = rates.month_start(start.astimezone(rates.RATE_TZ).date())
    current = rates.current_month()
    done = set(MonthlyScore.objects.values_list("month", flat=True).distinct())
    count = 0
    while month < current:
        if month not in done:
            rates.freeze_month(month=month)
            count += 1
        month = rates.next_month(month)
    out(f"  {count} closed months frozen into the monthly scores")
    return count


def analyze() -> None:
    """Fresh planner statistics and visibility map after a bulk load, as autovacuum leaves a
    running database (index-only scans rely on the visibility map)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.get_autocommit() else "ANALYZE")


def area_exists() -> bool:
    return Unit.objects.filter(code=AREA_CODE).exists()


def remove_area(out: Callable[[str], None] = print) -> None:
    """Delete the benchmark area and its cases (nothing else): TRUNCATE-fast on PostgreSQL.

    Refuses when the database holds cases outside the benchmark area: those are someone's data.
    """
    area = Unit.objects.filter(code=AREA_CODE).first()
    if area is None:
        return
    if Case.objects.exclude(unit_path__startswith=area.path).exists():
        raise ValueError("This database holds cases outside the benchmark area; remove it by hand.")
    out("Removing the previous benchmark area …")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(model._meta.db_table for model in (Case, MonthlyScore))
            with connection.cursor() as cursor:  # and every table pointing at them
                cursor.execute(f"TRUNCATE {tables} CASCADE")
        else:
            Case.objects.update(merged_into=None)  # merged cases PROTECT their lead
            Case.objects.all().delete()
            MonthlyScore.objects.all().delete()
        get_user_model().objects.filter(username__startswith="bench-").delete()
        units = Unit.objects.filter(path__startswith=area.path)
        Household.objects.filter(stairwell__building__unit__in=units).delete()
        Building.objects.filter(unit__in=units).delete()
        Post.objects.filter(unit__in=units).delete()
        for depth in sorted(set(units.values_list("depth", flat=True)), reverse=True):
            Unit.objects.filter(path__startswith=area.path, depth=depth).delete()


