"""Reads of the tier dashboards, each a fixed number of queries whatever the number of cases.

Two kinds of figures, on purpose:

- The monthly assessment (三率, composite, ranking, the 12-month trend) is
  ``cases.rates``: cases counted by handling unit and month of receipt; months already
  frozen are read from ``MonthlyScore`` and never move. Only the months not frozen yet
  (normally the current one) are aggregated from the cases.
- The work figures (volume, open, overdue, supervised, waiting …) count what the user
  sees of the unit by the case queue's own rules, ``visible_cases(user)`` and the queue's
  ``place`` filter (handled in or located in the unit), so that each number is the
  length of the queue it links to.

Every aggregate runs in SQL; Python only folds the few grouped rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from cases import rates
from cases.models import Case, MonthlyScore
from cases.rates import RATE_TZ, Score
from cases.selectors import OPEN, overdue_q, queue, visible_cases
from communities.models import PATH_SEPARATOR, Unit
from communities.selectors import tree_roots, visible_units

S = Case.Status
NOT_DONE = [*OPEN, S.RESOLVED]  # every work figure is about one of these states
ROW_RELATED = ("category", "unit", "location_unit")  # what a case row on the dashboard shows
TREND_MONTHS = 12
LIST_LENGTH = 10
HOTSPOT_MIN_CASES = 3


# ---------------------------------------------------------------- which units


def dashboard_units(user) -> QuerySet[Unit]:
    """Units whose dashboard ``user`` may open: the one scoping rule (a liaison's post opens none)."""
    return visible_units(user)


def top_unit(user) -> Unit | None:
    """The unit of the user's highest post (the area for a superuser)."""
    roots = tree_roots(user)
    return roots[0] if roots else None


def in_place(user, unit: Unit) -> QuerySet[Case]:
    """What the queue filtered on ``place=unit`` holds for ``user`` (see cases.filters)."""
    located = Q(unit_path__startswith=unit.path) | Q(location_unit__path__startswith=unit.path)
    return visible_cases(user).filter(located).order_by()


def child_of(unit: Unit, children: list[Unit]):
    """A function giving, for a unit path under ``unit``, the child it lies under (or None).

    Rows are grouped by path in SQL (a few hundred groups at most, one per unit) and
    folded into children here: cheaper than a CASE of prefix tests on every row.
    """
    by_path = {child.path: child.pk for child in children}
    depth = unit.path.count(PATH_SEPARATOR) - 1  # path components of the unit itself

    def find(path: str | None) -> int | None:
        if not path or not path.startswith(unit.path):
            return None
        parts = path.split(PATH_SEPARATOR, depth + 2)
        return by_path.get(PATH_SEPARATOR.join(parts[: depth + 2]) + PATH_SEPARATOR)

    return find


# ---------------------------------------------------------------- work figures (live)


@dataclass
class WorkCounts:
    open: int = 0
    overdue: int = 0
    supervised: int = 0
    waiting_acceptance: int = 0
    to_dispatch: int = 0
    awaiting_return_visit: int = 0
    due_today: int = 0

    def add(self, other: WorkCounts) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


def _work_aggregates(now: datetime) -> dict[str, Count]:
    end_of_today = datetime.combine(now.astimezone(RATE_TZ).date() + timedelta(days=1), time.min, RATE_TZ)
    return {
        "open": Count("pk", filter=Q(status__in=OPEN)),
        "overdue": Count("pk", filter=overdue_q(now)),
        "supervised": Count("pk", filter=Q(is_supervised=True)),
        "waiting_acceptance": Count("pk", filter=Q(status=S.DISPATCHED)),
        "to_dispatch": Count("pk", filter=Q(status__in=[S.SUBMITTED, S.RETURNED])),
        "awaiting_return_visit": Count("pk", filter=Q(status=S.RESOLVED)),
        "due_today": Count(
            "pk", filter=Q(status__in=OPEN, resolve_due_at__gte=now, resolve_due_at__lt=end_of_today)
        ),
    }


def work_counts(user, unit: Unit, children: list[Unit], *, now: datetime) -> dict[int, WorkCounts]:
    """Open, overdue, supervised … cases of the unit (its whole subtree) and of each child. One query.

    A case counts for the child that handles it, else for the child where it happened
    (as the queue's ``place`` filter finds it).
    """
    rows = (
        in_place(user, unit)
        .filter(status__in=NOT_DONE)
        .values("unit_path", "location_unit__path")
        .annotate(**_work_aggregates(now))
    )
    result = {item.pk: WorkCounts() for item in [unit, *children]}
    names = [item.name for item in fields(WorkCounts)]
    find = child_of(unit, children)
    for row in rows:
        counts = WorkCounts(**{name: row[name] for name in names})
        child = find(row["unit_path"]) or find(row["location_unit__path"])
        if child is not None:
            result[child].add(counts)
        result[unit.pk].add(counts)
    return result


def oldest_overdue(user, unit: Unit, *, now: datetime) -> list[Case]:
    # ``status__in=OPEN`` says the same as overdue_q's "not finished" in a form an index can use.
    cases = in_place(user, unit).filter(overdue_q(now), status__in=OPEN)
    return list(cases.select_related(*ROW_RELATED).order_by("resolve_due_at", "pk")[:LIST_LENGTH])


def due_today(user, unit: Unit, *, now: datetime) -> list[Case]:
    end_of_today = datetime.combine(now.astimezone(RATE_TZ).date() + timedelta(days=1), time.min, RATE_TZ)
    cases = in_place(user, unit).filter(status__in=OPEN, resolve_due_at__gte=now, resolve_due_at__lt=end_of_today)
    return list(cases.select_related(*ROW_RELATED).order_by("resolve_due_at", "pk")[:LIST_LENGTH])


def my_queue(user) -> list[Case]:
    return list(queue(user, "mine").select_related(None).select_related(*ROW_RELATED)[:LIST_LENGTH])


# ---------------------------------------------------------------- the month's volume (live)


@dataclass
class DayVolume:
    day: date
    count: int


@dataclass
class CategoryVolume:
    category_id: int
    name: str
    count: int


@dataclass
class Volume:
    total: int
    by_day: list[DayVolume]
    by_category: list[CategoryVolume]


def month_days(month: date, *, today: date) -> list[date]:
    """The month's days, up to today for the current month."""
    last = rates.next_month(month) - timedelta(days=1)
    last = min(last, today) if month <= today else last
    return [month + timedelta(days=n) for n in range((last - month).days + 1)]


def month_volume(user, unit: Unit, month: date, *, today: date) -> Volume:
    """Cases received in the month, by day and by category: one query grouped by both."""
    start, end = rates.month_bounds(month)
    rows = (
        in_place(user, unit)
        .filter(received_at__gte=start, received_at__lt=end)
        .annotate(day=TruncDate("received_at", tzinfo=RATE_TZ))
        .values("day", "category_id", "category__name")
        .annotate(n=Count("pk"))
    )
    days: dict[date, int] = {}
    categories: dict[int, CategoryVolume] = {}
    for row in rows:
        days[row["day"]] = days.get(row["day"], 0) + row["n"]
        item = categories.setdefault(row["category_id"], CategoryVolume(row["category_id"], row["category__name"], 0))
        item.count += row["n"]
    return Volume(
        total=sum(days.values()),
        by_day=[DayVolume(day, days.get(day, 0)) for day in month_days(month, today=today)],
        by_category=sorted(categories.values(), key=lambda c: (-c.count, c.name)),
    )


@dataclass
class Hotspot:
    place_id: int
    place: str
    building_id: int | None
    building: str
    category_id: int
    category: str
    count: int


def hotspots(user, unit: Unit, month: date) -> list[Hotspot]:
    """Places where one kind of problem came back at least three times in the month (未呼先应)."""
    start, end = rates.month_bounds(month)
    keys = ("location_unit_id", "location_unit__name", "building_id", "building__name", "category_id", "category__name")
    rows = (
        in_place(user, unit)
        .filter(received_at__gte=start, received_at__lt=end)
        .values(*keys)
        .annotate(n=Count("pk"))
        .filter(n__gte=HOTSPOT_MIN_CASES)
        .order_by("-n", "location_unit_id", "building_id", "category_id")[:LIST_LENGTH]
    )
    return [
        Hotspot(row["location_unit_id"], row["location_unit__name"], row["building_id"], row["building__name"] or "",
                row["category_id"], row["category__name"], row["n"])
        for row in rows
    ]


@dataclass
class BuildingVolume:
    building_id: int
    name: str
    count: int


def busiest_buildings(user, unit: Unit, month: date) -> list[BuildingVolume]:
    start, end = rates.month_bounds(month)
    rows = (
        in_place(user, unit)
        .filter(received_at__gte=start, received_at__lt=end, building__isnull=False)
        .values("building_id", "building__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "building__name")[:LIST_LENGTH]
    )
    return [BuildingVolume(row["building_id"], row["building__name"], row["n"]) for row in rows]


# ---------------------------------------------------------------- the assessment (rates)


@dataclass
class Trend:
    months: list[date]
    frozen: set[date]
    unit: list[Score]  # one per month
    children: dict[int, list[Score]] = field(default_factory=dict)


def trend_months(last: date, count: int = TREND_MONTHS) -> list[date]:
    months = [rates.month_start(last)]
    while len(months) < count:
        months.append(rates.previous_month(months[-1]))
    return months[::-1]


def trend(unit: Unit, children: list[Unit], last: date) -> Trend:
    """The unit's and each child's score over the 12 months ending with ``last``.

    Frozen months come from MonthlyScore (two small queries); the others (normally just
    the current month) from one aggregate grouped by month and child.
    """
    months = trend_months(last)
    frozen = set(MonthlyScore.objects.filter(month__in=months).order_by().values_list("month", flat=True).distinct())
    units = [unit, *children]
    stored = {
        (row.month, row.unit_id): row
        for row in MonthlyScore.objects.filter(month__in=sorted(frozen), unit__in=units)
    } if frozen else {}
    live = _live_counts(unit, children, [m for m in months if m not in frozen])
    result = Trend(months=months, frozen=frozen, unit=[], children={child.pk: [] for child in children})
    for month in months:
        for item in units:
            if month in frozen:
                point = _stored_score(item, month, stored.get((month, item.pk)))
            else:
                point = rates.score(item, month, live.get((month, item.pk), rates.Counts()))
            (result.unit if item is unit else result.children[item.pk]).append(point)
    return result


def _live_counts(unit: Unit, children: list[Unit], months: list[date]) -> dict[tuple[date, int], rates.Counts]:
    """Rates counts by (month, unit) for the unit (its subtree) and its children, in one query."""
    if not months:
        return {}
    counted = rates.counted_cases(months[0])
    for month in months[1:]:
        counted = counted | rates.counted_cases(month)
    rows = (
        counted.filter(unit_path__startswith=unit.path)
        .annotate(month=TruncMonth("received_at", tzinfo=RATE_TZ))
        .values("month", "unit_path")
        .annotate(**rates.COUNTS)
    )
    result: dict[tuple[date, int], rates.Counts] = {}
    find = child_of(unit, children)
    for row in rows:
        month = row["month"]
        month = timezone.localtime(month, RATE_TZ).date() if isinstance(month, datetime) else month
        counts = rates.Counts.from_row(row)
        child = find(row["unit_path"])
        for key in ((month, unit.pk), (month, child)) if child is not None else ((month, unit.pk),):
            result.setdefault(key, rates.Counts()).add(counts)
    return result


def rank(scores: list[Score]) -> list[Score]:
    """``cases.rates.ranking``'s rule applied to scores already in hand (no second aggregate).

    Best composite first, ties sharing a rank; the lowest flagged when at least two are
    ranked; units without a composite last, unranked.
    """
    ranked = sorted((s for s in scores if s.composite is not None), key=lambda s: -s.composite)
    for position, item in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        item.rank = previous.rank if previous and previous.composite == item.composite else position
    if len(ranked) > 1:
        for item in ranked:
            item.lowest = item.composite == ranked[-1].composite
    return ranked + [s for s in scores if s.composite is None]


def _stored_score(unit: Unit, month: date, row: MonthlyScore | None) -> Score:
    if row is None:  # a unit created after the month was frozen
        return Score(unit=unit, month=month, frozen=True)
    return Score(
        **{name: getattr(row, name) for name in rates.COUNTS}, unit=unit, month=month, frozen=True,
        response_rate=row.response_rate, resolution_rate=row.resolution_rate,
        satisfaction_rate=row.satisfaction_rate, composite=row.composite,
    )


# ---------------------------------------------------------------- the whole page


@dataclass
class Dashboard:
    unit: Unit
    month: date
    now: datetime
    children: list[Unit]
    frozen: bool
    score: Score
    ranking: list[Score]
    trend: Trend
    work: dict[int, WorkCounts]
    volume: Volume
    oldest_overdue: list[Case]
    hotspots: list[Hotspot]
    worker: WorkerView | None = None

    @property
    def is_current_month(self) -> bool:
        return self.month == rates.month_start(self.now.astimezone(RATE_TZ).date())


@dataclass
class WorkerView:
    """What a community or grid worker opens the day with."""

    my_queue: list[Case]
    due_today: list[Case]
    busiest_buildings: list[BuildingVolume]


WORKER_LEVELS = {Unit.Level.COMMUNITY, Unit.Level.GRID}


def dashboard(user, unit: Unit, month: date, *, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    month = rates.month_start(month)
    today = now.astimezone(RATE_TZ).date()
    children = list(unit.children.order_by("sort_order", "name"))
    history = trend(unit, children, month)
    worker = None
    if unit.level in WORKER_LEVELS:
        worker = WorkerView(my_queue(user), due_today(user, unit, now=now), busiest_buildings(user, unit, month))
    return Dashboard(
        unit=unit, month=month, now=now, children=children,
        frozen=month in history.frozen,
        score=history.unit[-1],
        ranking=rank([history.children[child.pk][-1] for child in children]),
        trend=history,
        work=work_counts(user, unit, children, now=now),
        volume=month_volume(user, unit, month, today=today),
        oldest_overdue=oldest_overdue(user, unit, now=now),
        hotspots=hotspots(user, unit, month),
        worker=worker,
    )
