"""Reads of the tier dashboards, each a fixed number of queries whatever the number of cases.

Two kinds of figures, on purpose:

- The monthly assessment (三率, composite, ranking, the 12-month trend) is
  ``cases.rates``: cases counted by handling unit and month of receipt; months already
  frozen are read from ``MonthlyScore`` and never move. The months not frozen yet
  (normally the current one) are summed from ``cases.tallies``: one row per unit and day,
  kept exact by the services in the transaction of every change, so the top tier reads a
  few thousand small rows rather than every case of the month.
- The work figures (volume, open, overdue, supervised, waiting …) count the cases handled
  in the unit's subtree, like the assessment: one indexed prefix filter on the unit path.
  The volume and the work in hand are summed from tallies too (``cases.tallies``: one row
  per unit and day, category, or state); what moves with the clock alone (overdue, due
  today) is counted from a covering index of the open cases due before today's end. A
  dashboard opens only on a unit inside the user's own subtrees, where every such case is
  visible to them, so no per-user filter is needed (and the figures are the same for
  everyone who may open the page). Each number links to the case queue filtered on that unit.

Every aggregate runs in SQL; rows are grouped by unit path (a few hundred groups at most)
and folded onto the children in Python. Nothing is cached: the tallies are exact in the
transaction of every change, so every figure is as of the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cases import rates
from cases.models import Case, Category, CategoryTally, DayTally, HotspotTally, MonthlyScore, WorkTally
from cases.rates import RATE_TZ, Score
from cases.selectors import overdue_q, queue
from communities.models import PATH_SEPARATOR, Building, Unit
from communities.selectors import child_bucket, path_q, tree_roots, visible_units

S = Case.Status
ROW_RELATED = ("category", "unit", "location_unit")  # what a case row on the dashboard shows
TREND_MONTHS = 12
LIST_LENGTH = 10
HOTSPOT_MIN_CASES = HotspotTally.MIN_CASES


# ---------------------------------------------------------------- which units


def dashboard_units(user) -> QuerySet[Unit]:
    """Units whose dashboard ``user`` may open: inside their own subtrees (the one scoping rule;
    a unit granted one by one is not enough, and a liaison's post opens none)."""
    return visible_units(user).filter(path_q(user, "path"))


def top_unit(user) -> Unit | None:
    """The unit of the user's highest post (the area for a superuser)."""
    roots = tree_roots(user)
    return roots[0] if roots else None


@dataclass
class Tree:
    """The unit, its children and every unit under it (one query): ids and names."""

    unit: Unit
    children: list[Unit]
    names: dict[int, str]

    def __post_init__(self) -> None:
        self._children_by_path = {child.path: child.pk for child in self.children}
        self._depth = self.unit.path.count(PATH_SEPARATOR) - 1
        self._buckets: dict[str, int] = {}

    def bucket(self, path_field: str = "unit_path"):
        """The child a row lies under (the unit's own key for its own rows), to group by in SQL."""
        return child_bucket(self.unit, self.children, path_field)

    def child_of_path(self, path: str) -> int:
        """The bucket of a unit path (as ``bucket`` computes it in SQL), for rows grouped by path."""
        found = self._buckets.get(path)
        if found is None:
            head = PATH_SEPARATOR.join(path.split(PATH_SEPARATOR, self._depth + 2)[: self._depth + 2]) + PATH_SEPARATOR
            found = self._buckets[path] = self._children_by_path.get(head, self.unit.pk)
        return found

    def fold_paths(self, rows, width: int) -> dict[int, list[int]]:
        """``fold`` for rows of (unit path, count, …): for rows too many to bucket one by one in SQL
        (grouped by path there first, a few hundred at most)."""
        return self.fold(((self.child_of_path(path), *counts) for path, *counts in rows), width)

    def fold(self, rows, width: int) -> dict[int, list[int]]:
        """Sum rows of (bucket, count, count, …) onto the unit (all of them) and each child (a count may be None)."""
        whole = [0] * width
        totals = {self.unit.pk: whole, **{child.pk: [0] * width for child in self.children}}
        for bucket, *counts in rows:
            own = totals[bucket] if bucket != self.unit.pk else None
            for index, count in enumerate(counts):
                if count:
                    whole[index] += count
                    if own is not None:
                        own[index] += count
        return totals


CHILD_FIELDS = ("pk", "name", "code", "level", "parent_id", "path", "depth", "sort_order")


def tree(unit: Unit) -> Tree:
    rows = Unit.objects.filter(path__startswith=unit.path).values_list(*CHILD_FIELDS)
    names, children = {}, []
    for row in rows:
        pk, name, _code, _level, parent_id, *_rest = row
        names[pk] = name
        if parent_id == unit.pk:
            children.append(Unit(**dict(zip(("id", *CHILD_FIELDS[1:]), row))))
    children.sort(key=lambda child: (child.sort_order, child.name))
    return Tree(unit, children, names)


def handled_in(where: Tree) -> QuerySet[Case]:
    """Cases handled in the unit's subtree (all visible to whoever may open its dashboard)."""
    return Case.objects.filter(unit_path__startswith=where.unit.path).order_by()


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


def end_of_day(now: datetime) -> datetime:
    """Midnight after ``now`` in Beijing."""
    return datetime.combine(now.astimezone(RATE_TZ).date() + timedelta(days=1), time.min, RATE_TZ)


def work_counts(where: Tree, *, now: datetime) -> dict[int, WorkCounts]:
    """Open, overdue, supervised … cases of the unit (its whole subtree) and of each child. Two queries.

    What does not move with the clock comes from the work tallies (units × states rows); overdue
    and due today from the open cases due before today's end, read from a partial index alone.
    """
    tallied = (
        WorkTally.objects.filter(unit_path__startswith=where.unit.path)
        .annotate(bucket=where.bucket())
        .values_list("bucket")
        .annotate(
            open=Sum("cases", filter=Q(status__in=Case.OPEN)),
            supervised=Sum("cases", filter=Q(is_supervised=True) & ~Q(status=S.MERGED)),
            waiting_acceptance=Sum("cases", filter=Q(status=S.DISPATCHED)),
            to_dispatch=Sum("cases", filter=Q(status__in=Case.TO_DISPATCH)),
            # Resolved, or a merged caller waiting for the visit on their lead's result (as in the queue).
            awaiting_return_visit=Sum("cases", filter=Q(status__in=(S.RESOLVED, S.MERGED))),
        )
        .order_by()
    )
    in_hand = where.fold(tallied, 5)
    due = (
        handled_in(where).filter(status__in=Case.OPEN, resolve_due_at__lt=end_of_day(now))
        # By path, folded here: tens of thousands of late cases at 5 M, each bucketed in SQL, cost
        # more than the few hundred paths they group into.
        .values_list("unit_path")
        .annotate(
            # Counting a column the scan reads anyway (not the key) lets the covering index answer alone.
            overdue=Count("unit_path", filter=Q(resolve_due_at__lt=now)),
            due_today=Count("unit_path", filter=Q(resolve_due_at__gte=now)),
        )
    )
    by_clock = where.fold_paths(due, 2)
    return {
        pk: WorkCounts(
            open=open_, overdue=by_clock[pk][0], supervised=supervised, waiting_acceptance=waiting,
            to_dispatch=to_dispatch, awaiting_return_visit=awaiting, due_today=by_clock[pk][1],
        )
        for pk, (open_, supervised, waiting, to_dispatch, awaiting) in in_hand.items()
    }


def oldest_overdue(where: Tree, *, now: datetime) -> list[Case]:
    return _first(handled_in(where).filter(overdue_q(now)))


def due_today(where: Tree, *, now: datetime) -> list[Case]:
    return _first(handled_in(where).filter(status__in=Case.OPEN, resolve_due_at__gte=now, resolve_due_at__lt=end_of_day(now)))


def _first(cases: QuerySet[Case]) -> list[Case]:
    """The first cases by deadline, with their rows: the ten keys are chosen first (an index can
    answer that alone), then only those ten rows are read and joined. One query."""
    order = ("resolve_due_at", "pk")
    keys = cases.order_by(*order).values("pk")[:LIST_LENGTH]
    return list(Case.objects.filter(pk__in=keys).select_related(*ROW_RELATED).order_by(*order))


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


def month_volume(where: Tree, month: date, *, today: date, categories: dict[int, str]) -> Volume:
    """Cases received in the month, by day and by category: two queries on the tallies."""
    days = dict(
        _in_month(DayTally.objects.filter(unit_path__startswith=where.unit.path), month)
        .values_list("day").annotate(n=Sum("received")).order_by()
    )
    by_category = [
        CategoryVolume(category, categories.get(category, ""), n)
        for category, n in CategoryTally.objects.filter(unit_path__startswith=where.unit.path, month=month)
        .values_list("category_id").annotate(n=Sum("received")).order_by()
        if n
    ]
    return Volume(
        total=sum(days.values()),
        by_day=[DayVolume(day, days.get(day, 0)) for day in month_days(month, today=today)],
        by_category=sorted(by_category, key=lambda c: (-c.count, c.name)),
    )


def _in_month(tallies: QuerySet[DayTally], *months: date) -> QuerySet[DayTally]:
    condition = Q(pk__in=[])
    for month in months:
        condition |= Q(day__gte=month, day__lt=rates.next_month(month))
    return tallies.filter(condition)


@dataclass
class Hotspot:
    place_id: int
    place: str
    building_id: int | None
    building: str
    category_id: int
    category: str
    count: int


def hotspots(where: Tree, month: date, *, categories: dict[int, str]) -> list[Hotspot]:
    """Places where one kind of problem came back at least three times in the month (未呼先应).

    The most cases first, then by place, building (none first) and category. The area and its
    streets read their hotspot tallies (ten rows in index order); a community or grid groups its
    own cases of the month (a few hundred).
    """
    if where.unit.depth < HotspotTally.TIER_DEPTHS:
        rows = _tallied_hotspots(where.unit.path, month)
    else:
        start, end = rates.month_bounds(month)
        keys = ("location_unit_id", "building_id", "category_id")
        grouped = (
            handled_in(where)
            .filter(received_at__gte=start, received_at__lt=end)
            .values_list(*keys)
            .annotate(n=Count("*"))
            .filter(n__gte=HOTSPOT_MIN_CASES)
            .order_by("-n", "location_unit_id", F("building_id").asc(nulls_first=True), "category_id")[:LIST_LENGTH]
        )
        rows = with_building_names(grouped, [*keys, "n"])
    return [
        Hotspot(place, where.names.get(place, ""), building, name or "", category, categories.get(category, ""), n)
        for place, building, category, n, name in rows
    ]


@dataclass
class BuildingVolume:
    building_id: int
    name: str
    count: int


def busiest_buildings(where: Tree, month: date) -> list[BuildingVolume]:
    """The buildings with the most cases received in the month."""
    start, end = rates.month_bounds(month)
    grouped = (
        handled_in(where)
        .filter(received_at__gte=start, received_at__lt=end, building__isnull=False)
        .values_list("building_id")
        .annotate(n=Count("*"))
        .order_by("-n", "building_id")[:LIST_LENGTH]
    )
    return [BuildingVolume(building, name, n) for building, n, name in with_building_names(grouped, ["building_id", "n"])]


def _tallied_hotspots(tier: str, month: date) -> list[tuple]:
    """A top tier's hotspots from its tallies, as ``with_building_names`` gives them: one query."""
    database = connections[HotspotTally.objects.db]  # where the router sends the page's reads (a replica)
    q = database.ops.quote_name
    order = f"{q('received')} DESC, {q('place')}, {q('building')}, {q('category')}"
    sql = (
        f"SELECT h.{q('place')}, NULLIF(h.{q('building')}, 0), h.{q('category')}, h.{q('received')}, b.{q('name')} "
        f"FROM (SELECT {q('place')}, {q('building')}, {q('category')}, {q('received')} "
        f"FROM {q(HotspotTally._meta.db_table)} WHERE {q('unit_path')} = %s AND {q('month')} = %s "
        # A literal, as in the partial index's condition, which the planner must see to use it.
        f"AND {q('received')} >= {int(HOTSPOT_MIN_CASES)} ORDER BY {order} LIMIT {int(LIST_LENGTH)}) h "
        f"LEFT JOIN {q(Building._meta.db_table)} b ON b.{q('id')} = h.{q('building')} "
        f"ORDER BY h.{order.replace(', ', ', h.')}"
    )
    with database.cursor() as cursor:
        cursor.execute(sql, [tier, month])
        return cursor.fetchall()


def with_building_names(grouped: QuerySet, columns: list[str]) -> list[tuple]:
    """The grouped rows (already cut to the first few) with their building's name joined last.

    One query: the names are joined after grouping and LIMIT, to the ten rows kept, rather
    than to every case of the month before grouping (which the ORM would do).
    """
    database = connections[grouped.db]  # where the router sends the queryset's reads (a replica page's replica)
    sql, params = grouped.query.get_compiler(connection=database).as_sql()
    q = database.ops.quote_name
    # No building sorts first, as in the hotspot tallies' order.
    ties = [f"COALESCE(h.{q(column)}, 0)" if column == "building_id" else f"h.{q(column)}"
            for column in columns if column != "n"]
    outer = (
        f"SELECT {', '.join(f'h.{q(column)}' for column in columns)}, b.{q('name')} "
        f"FROM ({sql}) h LEFT JOIN {q(Building._meta.db_table)} b ON b.{q('id')} = h.{q('building_id')} "
        f"ORDER BY h.{q('n')} DESC, {', '.join(ties)}"
    )
    with database.cursor() as cursor:
        cursor.execute(outer, params)
        return cursor.fetchall()


def category_names() -> dict[int, str]:
    return dict(Category.objects.values_list("pk", "name"))


# ---------------------------------------------------------------- the assessment (rates)


@dataclass
class Trend:
    months: list[date]
    frozen: set[date]
    unit: list[Score]  # one per month
    children: dict[int, list[Score]] = field(default_factory=dict)


# What ``rates.from_stored`` reads of a frozen row.
STORED_SCORE = (*rates.COUNTS, "response_rate", "resolution_rate", "satisfaction_rate", "composite")


def trend_months(last: date, count: int = TREND_MONTHS) -> list[date]:
    months = [rates.month_start(last)]
    while len(months) < count:
        months.append(rates.previous_month(months[-1]))
    return months[::-1]


def trend(where: Tree, last: date) -> Trend:
    """The unit's and each child's score over the 12 months ending with ``last``.

    Frozen months come from MonthlyScore (one query of these units' rows); the others
    (normally just the current month) from one aggregate grouped by month and child.
    """
    unit, children = where.unit, where.children
    months = trend_months(last)
    units = [unit, *children]
    stored = {
        (row.month, row.unit_id): row
        for row in MonthlyScore.objects.filter(month__in=months, unit__in=units).order_by().values_list(
            "month", "unit_id", *STORED_SCORE, named=True
        )
    }
    frozen = {month for month, _unit in stored}
    # A freeze writes a row for every unit there is, so a past month without rows for these units
    # was either not frozen or frozen before they existed: only then ask which (one query more).
    unsure = [m for m in months if m not in frozen and m < rates.current_month()]
    if unsure:
        frozen |= set(
            MonthlyScore.objects.filter(month__in=unsure).order_by().values_list("month", flat=True).distinct()
        )
    live_months = [m for m in months if m not in frozen]
    live = _live_counts(where, live_months)
    result = Trend(months=months, frozen=frozen, unit=[], children={child.pk: [] for child in children})
    for month in months:
        for item in units:
            if month in frozen:
                point = rates.from_stored(item, month, stored.get((month, item.pk)))
            else:
                point = rates.score(item, month, live.get((month, item.pk), rates.Counts()))
            (result.unit if item is unit else result.children[item.pk]).append(point)
    return result


def _live_counts(where: Tree, months: list[date]) -> dict[tuple[date, int], rates.Counts]:
    """Rates counts by (month, unit) for the unit (its subtree) and its children: one query on the day tallies."""
    if not months:
        return {}
    sums = {name: Sum(name) for name in rates.COUNTS}
    rows = (
        _in_month(DayTally.objects.filter(unit_path__startswith=where.unit.path), *months)
        .annotate(month=TruncMonth("day"), bucket=where.bucket())
        .values_list("month", "bucket")
        .annotate(**sums)
        .order_by()
    )
    by_month: dict[date, list] = {}
    for month, bucket, *counts in rows:
        by_month.setdefault(month, []).append((bucket, *counts))
    return {
        (month, pk): rates.Counts(**dict(zip(rates.COUNTS, counts)))
        for month, grouped in by_month.items()
        for pk, counts in where.fold(grouped, len(sums)).items()
    }


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
    where = tree(unit)
    history = trend(where, month)
    categories = category_names()
    worker = None
    if unit.level in WORKER_LEVELS:
        worker = WorkerView(my_queue(user), due_today(where, now=now), busiest_buildings(where, month))
    return Dashboard(
        unit=unit, month=month, now=now, children=where.children,
        frozen=month in history.frozen,
        score=history.unit[-1],
        ranking=rates.rank([history.children[child.pk][-1] for child in where.children]),
        trend=history,
        work=work_counts(where, now=now),
        volume=month_volume(where, month, today=today, categories=categories),
        oldest_overdue=oldest_overdue(where, now=now),
        hotspots=hotspots(where, month, categories=categories),
        worker=worker,
    )
