"""Day, category and hotspot tallies of the cases, kept exact in the transaction of every change.

The tier dashboards need, for the month, the cases received by day and by category,
the 三率 counts of every child unit and the places where one kind of problem keeps coming
back. Counted from the cases, that is every case of the month under the unit: tens of
thousands of rows at the top tier. Counted from the tallies, it is one row per unit and day
(or unit and category); the hotspots of the area and of each street are rows per tier,
place and category, read in the order of their count (``HotspotTally``).

Exactness: every write to a case goes through ``cases.services`` (intake's save, the
transitions' compare-and-set), which calls ``refresh`` for the tallies the case was in
before and is in after. ``refresh`` locks each tally row (created first if missing) and
only then recounts that unit's cases of that day from the table: a concurrent change to
another case of the same tally waits for the lock, and its own recount (a new statement,
so a new snapshot under READ COMMITTED) sees this one committed. Rows are locked in one
order (day, unit, category, hotspot, then work) so two changes never wait for each other
in a cycle. A change that leaves a case's tiers, month, place and category as they were (most
of them: a status, a dispatch within the street) does not touch its hotspot rows; a unit that
moves to another street has the two streets' hotspots recounted (``unit_moved``).

``rebuild`` recounts everything (after a bulk load, or to repair rows written by SQL
outside the services); ``manage.py rebuild_tallies`` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate

from communities.models import Unit, path_prefixes

from . import rates
from .models import Case, CategoryTally, DayTally, HotspotTally, WorkTally
from .selectors import awaiting_visit_by_lead_q, merged_callers_awaiting_q, paths_q

RATE_COUNTS = {
    name: Count("pk", filter=rates.COUNTED & condition if condition is not None else rates.COUNTED)
    for name, condition in rates.COUNT_FILTERS.items()
}
DAY_COUNTS = {"received": Count("pk"), **RATE_COUNTS}
BATCH = 5_000
# The fields a tally reads: a change to none of them (nor into or out of "merged", or of the
# done states) needs no recount.
TALLIED_FIELDS = frozenset({
    "unit", "unit_id", "category", "category_id", "received_at", "excluded_from_rates",
    "contacted_at", "contact_due_at", "rated_at", "rated_resolved", "satisfaction",
    "location_unit", "location_unit_id", "building", "building_id",
})


def day_of(moment: datetime) -> date:
    return moment.astimezone(rates.RATE_TZ).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, rates.RATE_TZ)
    return start, start + timedelta(days=1)


def tiers(unit_path: str) -> list[str]:
    """The paths of the top tiers a unit with this path lies under (itself included): its hotspot tallies."""
    return path_prefixes(unit_path)[: HotspotTally.TIER_DEPTHS]


class Keys:
    """The tallies a case counts in (its unit, day of receipt, category, place and top tiers)."""

    def __init__(self, case: Case) -> None:
        self.unit_id = case.unit_id
        self.category_id = case.category_id
        self.day = day_of(case.received_at)
        self.place = (case.location_unit_id, case.building_id or 0, case.category_id)
        self.tiers = tiers(case.unit_path) if case.unit_id is not None else []

    @property
    def day_key(self) -> tuple[date, int]:
        return (self.day, self.unit_id)

    @property
    def category_key(self) -> tuple[date, int, int]:
        return (rates.month_start(self.day), self.unit_id, self.category_id)

    @property
    def hotspot_keys(self) -> set[tuple[str, date, int, int, int]]:
        month = rates.month_start(self.day)
        return {(tier, month, *self.place) for tier in self.tiers}


def counts_change(changes: dict, *, from_status: str) -> bool:
    to_status = changes.get("status", from_status)
    return (
        bool(TALLIED_FIELDS & changes.keys())
        or Case.Status.MERGED in (from_status, to_status)
        or (from_status in Case.ANSWERED) != (to_status in Case.ANSWERED)  # into or out of 办结
    )


def refresh(*keys: Keys) -> None:
    """Recount the tallies of these keys (a case before and after a change). Call inside the change's transaction."""
    keys = [key for key in keys if key.unit_id is not None]
    if not keys:
        return
    with transaction.atomic():
        units = dict(Unit.objects.filter(pk__in={key.unit_id for key in keys}).values_list("pk", "path"))
        for day, unit in sorted({key.day_key for key in keys}):
            _refresh_day(day, unit, units[unit])
        for month, unit, category in sorted({key.category_key for key in keys}):
            _refresh_category(month, unit, units[unit], category)
        for key in sorted(_moved_hotspots(keys)):
            _refresh_hotspot(*key)


def _moved_hotspots(keys: list[Keys]) -> set[tuple]:
    """The hotspot tallies to recount: a new case's, or those a change moved the case out of or into.

    A change that keeps the case's tiers, month, place and category (a dispatch within a street,
    a new status) leaves its hotspot tallies as they were: no recount.
    """
    if len(keys) == 2:
        return keys[0].hotspot_keys ^ keys[1].hotspot_keys
    return set().union(*(key.hotspot_keys for key in keys))


class WorkKey(NamedTuple):
    """The work tally a case counts in (``WorkTally``'s key and the unit's path)."""

    unit_id: int
    status: str
    is_supervised: bool
    awaits_visit: bool
    unit_path: str

    def q(self) -> Q:
        return Q(unit_id=self.unit_id, status=self.status, is_supervised=self.is_supervised,
                 awaits_visit=self.awaits_visit)


# The fields a work tally reads: a change to none of them needs no recount.
WORK_FIELDS = frozenset({"unit", "unit_id", "status", "is_supervised", "awaits_visit"})


def work_key(case: Case) -> WorkKey | None:
    """The work tally ``case`` counts in: none once closed, or merged with nobody waiting on a visit."""
    if case.unit_id is None:
        return None
    if case.status in Case.NOT_CLOSED or (case.status == Case.Status.MERGED and case.awaits_visit):
        return WorkKey(case.unit_id, case.status, bool(case.is_supervised), bool(case.awaits_visit), case.unit_path)
    return None


def refresh_work(*keys: WorkKey | None) -> None:
    """Recount the work tallies of these keys (a case before and after a change): two statements.

    Locked first (created if missing), in one order, then recounted in a second statement, so
    under READ COMMITTED the recount sees every change that held the lock before, as ``refresh``.
    """
    keys = sorted({key for key in keys if key is not None})
    if not keys:
        return
    with transaction.atomic():
        WorkTally.objects.bulk_create(
            [WorkTally(**key._asdict()) for key in keys],
            update_conflicts=True, unique_fields=["unit", "status", "is_supervised", "awaits_visit"],
            update_fields=["unit_path"],
        )
        in_hand = Case.objects.filter(
            unit_path=OuterRef("unit_path"), unit_id=OuterRef("unit_id"), status=OuterRef("status"),
            is_supervised=OuterRef("is_supervised"), awaits_visit=OuterRef("awaits_visit"),
        ).order_by().values("unit_id").annotate(n=Count("*")).values("n")
        condition = Q(pk__in=[])
        for key in keys:
            condition |= key.q()
        WorkTally.objects.filter(condition).update(cases=Coalesce(Subquery(in_hand), 0))


def count_new(case: Case) -> None:
    """Add a case just created to its day, category, hotspot and work tallies: upserts, no recount.

    A new case counts as received and, unless excluded, dispatched; one that arrives already
    contacted, rated, done or merged (an import of history) is recounted like any change. The upsert
    locks the tally row like ``refresh`` does, so a concurrent recount either sees this case
    committed or is followed by this increment.
    """
    if case.unit_id is None:
        return
    if not counted_by_increment(case):
        refresh(Keys(case))
        refresh_work(work_key(case))
        return
    with connection.cursor() as cursor:
        for sql, params in increments(case):
            cursor.execute(sql, params)


def counted_by_increment(case: Case) -> bool:
    """A new case that ``increments`` adds up (else ``count_new`` recounts its tallies)."""
    return case.unit_id is not None and not (case.contacted_at or case.rated_at or case.status in Case.FINISHED)


_ZEROS = [name for name in RATE_COUNTS if name != "dispatched"]
DAY_CTE, CATEGORY_CTE, HOTSPOT_CTE = "day_tally", "category_tally", "hotspot_tally"
_UPSERTS: dict[tuple[str | None, int], tuple[str, str, str, str]] = {}


def increments(case: Case, *, source: str | None = None) -> list[tuple[str, list]]:
    """The upserts of ``count_new`` (day, category, hotspots, then work in hand), as (SQL, params).

    ``source``: the FROM list of common table expressions of the same statement (PostgreSQL) that
    give the new case's ``unit_id``, ``unit_path``, ``category_id``, ``location_unit_id`` and
    ``building_id`` in one row. There are then four upserts: the day's reads from it, the
    category's from it and the day's, the hotspots' (one row for each top tier) from it and the
    category's, the work's from it and the hotspots', which the caller names ``DAY_CTE``,
    ``CATEGORY_CTE`` and ``HOTSPOT_CTE``: PostgreSQL runs them in this order, the order
    ``refresh`` and ``refresh_work`` lock in. Without ``source``, one hotspot upsert for each
    tier. Built once per process.
    """
    keys, work = Keys(case), work_key(case)
    shape = (source, len(keys.tiers))
    if shape not in _UPSERTS:
        _UPSERTS[shape] = _upserts(*shape)
    day_sql, category_sql, hotspot_sql, work_sql = _UPSERTS[shape]
    dispatched = 0 if case.excluded_from_rates else 1
    month = rates.month_start(keys.day)
    in_hand = [work.status, work.is_supervised, work.awaits_visit]
    if source is not None:
        return [(day_sql, [keys.day, dispatched]), (category_sql, [month]), (hotspot_sql, [month, *keys.tiers]),
                (work_sql, in_hand)]
    return [
        (day_sql, [keys.day, case.unit_id, case.unit_path, dispatched]),
        (category_sql, [month, case.unit_id, case.unit_path, case.category_id]),
        *((hotspot_sql, [month, tier, *keys.place]) for tier in keys.tiers),
        (work_sql, [case.unit_id, case.unit_path, *in_hand]),
    ]


def _upserts(source: str | None, tier_count: int) -> tuple[str, str, str, str]:
    day_table, category_table = DayTally._meta.db_table, CategoryTally._meta.db_table
    work_table, hotspot_table = WorkTally._meta.db_table, HotspotTally._meta.db_table
    if source is None:
        day_row = f"VALUES (%s, %s, %s, 1, %s{', 0' * len(_ZEROS)})"
        category_row = "VALUES (%s, %s, %s, %s, 1)"
        hotspot_row = "VALUES (%s, %s, %s, %s, %s, 1)"
        work_row = "VALUES (%s, %s, %s, %s, %s, 1)"
    else:
        day_row = f"SELECT %s, unit_id, unit_path, 1, %s{', 0' * len(_ZEROS)} FROM {source}"
        category_row = f"SELECT %s, unit_id, unit_path, category_id, 1 FROM {source}, {DAY_CTE}"
        tiers = ", ".join(["(%s)"] * tier_count)
        hotspot_row = (
            f"SELECT %s, tier, location_unit_id, COALESCE(building_id, 0), category_id, 1 "
            f"FROM {source}, {CATEGORY_CTE}, (VALUES {tiers}) AS tiers (tier)"
        )
        # One row whatever the number of tiers (an upsert may not touch its row twice), after every
        # hotspot row is locked: the count reads them all.
        work_row = (
            f"SELECT unit_id, unit_path, %s, %s, %s, 1 FROM {source} "
            f"WHERE (SELECT COUNT(*) FROM {HOTSPOT_CTE}) > 0"
        )
    returning = "" if source is None else " RETURNING 1"
    hotspot = (
        f"INSERT INTO {hotspot_table} (month, unit_path, place, building, category, received) {hotspot_row} "
        f"ON CONFLICT (unit_path, month, place, building, category) DO UPDATE "
        f"SET received = {hotspot_table}.received + 1{returning}"
    )
    day = (
        f"INSERT INTO {day_table} (day, unit_id, unit_path, received, dispatched, {', '.join(_ZEROS)}) {day_row} "
        f"ON CONFLICT (day, unit_id) DO UPDATE SET received = {day_table}.received + 1, "
        f"dispatched = {day_table}.dispatched + excluded.dispatched, unit_path = excluded.unit_path{returning}"
    )
    category = (
        f"INSERT INTO {category_table} (month, unit_id, unit_path, category_id, received) {category_row} "
        f"ON CONFLICT (month, unit_id, category_id) DO UPDATE SET received = {category_table}.received + 1, "
        f"unit_path = excluded.unit_path{returning}"
    )
    work = (
        f"INSERT INTO {work_table} (unit_id, unit_path, status, is_supervised, awaits_visit, cases) {work_row} "
        f"ON CONFLICT (unit_id, status, is_supervised, awaits_visit) DO UPDATE "
        f"SET cases = {work_table}.cases + 1, unit_path = excluded.unit_path"
    )
    return day, category, hotspot, work


def _refresh_day(day: date, unit_id: int, path: str) -> None:
    DayTally.objects.bulk_create([DayTally(day=day, unit_id=unit_id, unit_path=path)], ignore_conflicts=True)
    tally = DayTally.objects.select_for_update().get(day=day, unit_id=unit_id)
    start, end = day_bounds(day)
    counts = Case.objects.filter(unit_id=unit_id, received_at__gte=start, received_at__lt=end).aggregate(**DAY_COUNTS)
    DayTally.objects.filter(pk=tally.pk).update(unit_path=path, **counts)


def _refresh_hotspot(tier: str, month: date, place: int, building: int, category: int) -> None:
    key = {"unit_path": tier, "month": month, "place": place, "building": building, "category": category}
    HotspotTally.objects.bulk_create([HotspotTally(**key)], ignore_conflicts=True)
    tally = HotspotTally.objects.select_for_update().get(**key)
    start, end = rates.month_bounds(month)
    received = Case.objects.filter(
        unit_path__startswith=tier, location_unit_id=place, category_id=category,
        received_at__gte=start, received_at__lt=end,
        **({"building_id": building} if building else {"building__isnull": True}),
    ).count()
    HotspotTally.objects.filter(pk=tally.pk).update(received=received)


def _refresh_category(month: date, unit_id: int, path: str, category_id: int) -> None:
    CategoryTally.objects.bulk_create(
        [CategoryTally(month=month, unit_id=unit_id, unit_path=path, category_id=category_id)], ignore_conflicts=True
    )
    tally = CategoryTally.objects.select_for_update().get(month=month, unit_id=unit_id, category_id=category_id)
    start, end = rates.month_bounds(month)
    received = Case.objects.filter(
        unit_id=unit_id, category_id=category_id, received_at__gte=start, received_at__lt=end
    ).count()
    CategoryTally.objects.filter(pk=tally.pk).update(unit_path=path, received=received)


@transaction.atomic
def rebuild(*, since: date | None = None, models: tuple | None = None) -> tuple[int, int]:
    """Recount every tally (from ``since`` on, a month's first day): (day rows, category rows) written.

    ``models`` (Case, DayTally, CategoryTally) lets a migration pass its historical models.
    """
    case_model, day_model, category_model = models or (Case, DayTally, CategoryTally)
    cases = case_model.objects.order_by()
    days, categories = day_model.objects.all(), category_model.objects.all()
    if since is not None:
        since = rates.month_start(since)
        cases = cases.filter(received_at__gte=rates.month_bounds(since)[0])
        days, categories = days.filter(day__gte=since), categories.filter(month__gte=since)
    days.delete()
    categories.delete()
    # An older migration's model may not have every count yet.
    counted = {name: count for name, count in DAY_COUNTS.items() if name in {f.name for f in day_model._meta.fields}}
    day_rows = (
        cases.annotate(day=TruncDate("received_at", tzinfo=rates.RATE_TZ))
        .values_list("day", "unit_id", "unit_path")
        .annotate(**counted)
        .order_by("day", "unit_id")
    )
    written_days = _write(
        day_model(day=day, unit_id=unit, unit_path=path, **dict(zip(counted, counts)))
        for day, unit, path, *counts in day_rows.iterator(chunk_size=BATCH)
    )
    monthly: dict[tuple[date, int, int], list] = {}
    by_day = (
        cases.annotate(day=TruncDate("received_at", tzinfo=rates.RATE_TZ))
        .values_list("day", "unit_id", "unit_path", "category_id")
        .annotate(n=Count("pk"))
    )
    for day, unit, path, category, n in by_day.iterator(chunk_size=BATCH):
        row = monthly.setdefault((rates.month_start(day), unit, category), [path, 0])
        row[1] += n
    written_categories = _write(
        category_model(month=month, unit_id=unit, unit_path=path, category_id=category, received=n)
        # In key order, as the services' upserts leave them: one month's rows share pages.
        for (month, unit, category), (path, n) in sorted(monthly.items())
    )
    if models is None:  # an older migration's history has no hotspot tallies yet
        rebuild_hotspots(since=since)
    return written_days, written_categories


@transaction.atomic
def rebuild_hotspots(*, since: date | None = None, only: Iterable[str] | None = None, models: tuple | None = None) -> int:
    """Recount the hotspot tallies (from ``since`` on; ``only`` these tiers' paths): rows written.

    Month by month, so memory stays one month's groups. ``models`` (Case, HotspotTally) lets a
    migration pass its historical models.
    """
    case_model, hotspot_model = models or (Case, HotspotTally)
    cases, rows = case_model.objects.order_by().filter(unit__isnull=False), hotspot_model.objects.all()
    wanted = None if only is None else set(only)
    if wanted is not None:
        rows = rows.filter(unit_path__in=wanted)
        cases = cases.filter(paths_q(wanted, "unit_path"))
    if since is not None:
        rows = rows.filter(month__gte=rates.month_start(since))
        cases = cases.filter(received_at__gte=rates.month_bounds(rates.month_start(since))[0])
    rows.delete()
    if wanted == set():
        return 0
    span = cases.aggregate(first=Min("received_at"), last=Max("received_at"))
    if span["first"] is None:
        return 0
    written, month, last = 0, rates.month_start(day_of(span["first"])), rates.month_start(day_of(span["last"]))
    while month <= last:
        start, end = rates.month_bounds(month)
        counts: dict[tuple[str, int, int, int], int] = {}
        grouped = cases.filter(received_at__gte=start, received_at__lt=end).values_list(
            "unit_path", "location_unit_id", "building_id", "category_id"
        ).annotate(n=Count("pk"))
        for path, place, building, category, n in grouped.iterator(chunk_size=BATCH):
            for tier in tiers(path):
                if wanted is None or tier in wanted:
                    key = (tier, place, building or 0, category)
                    counts[key] = counts.get(key, 0) + n
        written += _write(
            hotspot_model(unit_path=tier, month=month, place=place, building=building, category=category, received=n)
            for (tier, place, building, category), n in sorted(counts.items())
        )
        month = rates.next_month(month)
    return written


def building_deleting(sender, instance, **kwargs) -> None:
    """Before a building is deleted (its cases then keep no building, ``SET_NULL``): the hotspot rows they count in.

    Found from the cases (by their building's index), not by the tally's building, which no index leads.
    """
    cases = Case.objects.filter(building=instance.pk, unit__isnull=False).order_by()
    instance._hotspot_rows = {
        (tier, rates.month_start(day), place, category)
        for path, place, category, day in cases.annotate(day=TruncDate("received_at", tzinfo=rates.RATE_TZ))
        .values_list("unit_path", "location_unit_id", "category_id", "day").distinct()
        for tier in tiers(path)
    }


def building_deleted(sender, instance, **kwargs) -> None:
    """A building was deleted: its cases' counts move from its rows to "no building"."""
    for tier, month, place, category in sorted(getattr(instance, "_hotspot_rows", ())):
        HotspotTally.objects.filter(
            unit_path=tier, month=month, place=place, building=instance.pk, category=category
        ).delete()
        _refresh_hotspot(tier, month, place, 0, category)


def unit_moved(old_path: str, new_path: str) -> None:
    """A unit moved in the tree (its cases' paths already follow): recount the tiers it left and joined."""
    rebuild_hotspots(only=set(tiers(old_path)) ^ set(tiers(new_path)))


def _write(rows: Iterable) -> int:
    written, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            written += len(type(row).objects.bulk_create(batch))
            batch = []
    if batch:
        written += len(type(batch[0]).objects.bulk_create(batch))
    return written


# Later apps keep tallies of their own (the volunteers by home unit): ``rebuild_tallies`` recounts
# and checks them with these.
_elsewhere: list[tuple[str, Callable[[], int], Callable[[], list[str]]]] = []


def register(name: str, rebuild_them: Callable[[], int], their_differences: Callable[[], list[str]]) -> None:
    _elsewhere.append((name, rebuild_them, their_differences))


def elsewhere() -> list[tuple[str, Callable[[], int], Callable[[], list[str]]]]:
    return list(_elsewhere)


def in_hand_q() -> Q:
    """The cases the work tallies count (``work_key`` is not None)."""
    return Q(unit__isnull=False) & (Q(status__in=Case.NOT_CLOSED) | merged_callers_awaiting_q())


WORK_COLUMNS = ("unit_id", "unit_path", "status", "is_supervised", "awaits_visit")


@transaction.atomic
def rebuild_work(*, models: tuple | None = None) -> int:
    """Recount every work tally from the cases (after a bulk load or SQL repair): rows written.

    ``models`` (Case, WorkTally) lets a migration pass its historical models.
    """
    case_model, work_model = models or (Case, WorkTally)
    work_model.objects.all().delete()
    rows = case_model.objects.filter(in_hand_q()).values_list(*WORK_COLUMNS).annotate(n=Count("*")).order_by(
        "unit_path", "status"
    )
    return _write(
        work_model(unit_id=unit, unit_path=path, status=status, is_supervised=supervised, awaits_visit=awaits,
                   cases=n)
        for unit, path, status, supervised, awaits, n in rows.iterator(chunk_size=BATCH)
    )


def differences() -> list[str]:
    """Tallies that differ from a recount of the cases (empty when all are exact): for tests and checks."""
    cases = Case.objects.order_by().annotate(day=TruncDate("received_at", tzinfo=rates.RATE_TZ))
    expected_days = {
        (day, unit, path): tuple(counts)
        for day, unit, path, *counts in cases.values_list("day", "unit_id", "unit_path").annotate(**DAY_COUNTS)
    }
    stored_days = {
        (day, unit, path): tuple(counts)
        for day, unit, path, *counts in DayTally.objects.exclude(received=0).values_list(
            "day", "unit_id", "unit_path", *DAY_COUNTS
        )
    }
    expected_categories: dict[tuple, int] = {}
    for day, unit, path, category, n in cases.values_list("day", "unit_id", "unit_path", "category_id").annotate(
        n=Count("pk")
    ):
        key = (rates.month_start(day), unit, path, category)
        expected_categories[key] = expected_categories.get(key, 0) + n
    stored_categories = dict(
        ((month, unit, path, category), n)
        for month, unit, path, category, n in CategoryTally.objects.exclude(received=0).values_list(
            "month", "unit_id", "unit_path", "category_id", "received"
        )
    )
    expected_work = {
        tuple(key): n for *key, n in Case.objects.filter(in_hand_q()).values_list(*WORK_COLUMNS).annotate(
            n=Count("*")
        ).order_by()
    }
    stored_work = {
        tuple(key): n for *key, n in WorkTally.objects.exclude(cases=0).values_list(*WORK_COLUMNS, "cases")
    }
    expected_hotspots: dict[tuple, int] = {}
    for day, path, place, building, category, n in cases.filter(unit__isnull=False).values_list(
        "day", "unit_path", "location_unit_id", "building_id", "category_id"
    ).annotate(n=Count("pk")):
        for tier in tiers(path):
            key = (tier, rates.month_start(day), place, building or 0, category)
            expected_hotspots[key] = expected_hotspots.get(key, 0) + n
    stored_hotspots = {
        tuple(key): n for *key, n in HotspotTally.objects.exclude(received=0).values_list(
            "unit_path", "month", "place", "building", "category", "received"
        )
    }
    return [
        f"{kind} {key}: expected {expected.get(key)}, stored {stored.get(key)}"
        for kind, expected, stored in (
            ("day", expected_days, stored_days), ("category", expected_categories, stored_categories),
            ("work", expected_work, stored_work), ("hotspot", expected_hotspots, stored_hotspots),
        )
        for key in sorted(set(expected) | set(stored), key=str)
        if expected.get(key) != stored.get(key)
    ]


def recount_awaiting_visits() -> int:
    """Set ``Case.awaits_visit`` from the leads (after a bulk load past the services): the callers set."""
    waiting = Case.objects.filter(awaiting_visit_by_lead_q()).values("pk")
    Case.objects.filter(awaits_visit=True).exclude(pk__in=waiting).update(awaits_visit=False)
    Case.objects.filter(pk__in=waiting, awaits_visit=False).update(awaits_visit=True)
    return Case.objects.filter(awaits_visit=True).count()
