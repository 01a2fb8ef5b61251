"""Resident requests and their whole history, generated one case (a ``Story``) at a time."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate

from cases import rates
from cases.deadlines import deadlines_for
from cases.models import Case, Category, ContactRecord, ReturnVisit
from communities.models import Role, Unit

from .area import CALLER, FAMILY, Area

S = Case.Status


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
        case.update(result="已处理完毕。", nature=Case.Nature.REASONABLE,
                    resolved_on=moment.astimezone(rates.RATE_TZ).date())
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
    open_long = case["status"] not in Case.FINISHED and \
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


