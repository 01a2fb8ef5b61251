"""Day and category tallies of the cases, kept exact in the transaction of every change.

The tier dashboards need, for the month, the cases received by day and by category and
the 三率 counts of every child unit. Counted from the cases, that is every case of the
month under the unit: tens of thousands of rows at the top tier. Counted from the
tallies, it is one row per unit and day (or unit and category).

Exactness: every write to a case goes through ``cases.services`` (intake's save, the
transitions' compare-and-set), which calls ``refresh`` for the tallies the case was in
before and is in after. ``refresh`` locks each tally row (created first if missing) and
only then recounts that unit's cases of that day from the table: a concurrent change to
another case of the same tally waits for the lock, and its own recount (a new statement,
so a new snapshot under READ COMMITTED) sees this one committed. Rows are locked in one
order (day, unit, category) so two changes never wait for each other in a cycle.

``rebuild`` recounts everything (after a bulk load, or to repair rows written by SQL
outside the services); ``manage.py rebuild_tallies`` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate

from communities.models import Unit

from . import rates
from .models import Case, CategoryTally, DayTally, WorkTally
from .selectors import awaiting_visit_by_lead_q, merged_callers_awaiting_q

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
})


def day_of(moment: datetime) -> date:
    return moment.astimezone(rates.RATE_TZ).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, rates.RATE_TZ)
    return start, start + timedelta(days=1)


class Keys:
    """The tallies a case counts in (its unit, day of receipt and category)."""

    def __init__(self, case: Case) -> None:
        self.unit_id = case.unit_id
        self.category_id = case.category_id
        self.day = day_of(case.received_at)

    @property
    def day_key(self) -> tuple[date, int]:
        return (self.day, self.unit_id)

    @property
    def category_key(self) -> tuple[date, int, int]:
        return (rates.month_start(self.day), self.unit_id, self.category_id)


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
    """Add a case just created to its day, category and work tallies: one upsert each, no recount.

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
DAY_CTE, CATEGORY_CTE = "day_tally", "category_tally"
_UPSERTS: dict[str | None, tuple[str, str, str]] = {}


def increments(case: Case, *, source: str | None = None) -> list[tuple[str, list]]:
    """The three upserts of ``count_new`` (day, category, then work in hand), as (SQL, params).

    ``source``: the FROM list of common table expressions of the same statement (PostgreSQL) that
    give the new case's ``unit_id``, ``unit_path`` and ``category_id`` in one row. The day's upsert
    then reads from it, the category's from it and the day's, the work's from it and the
    category's, which the caller names ``DAY_CTE`` and ``CATEGORY_CTE``: PostgreSQL runs them in
    this order, the order ``refresh`` and ``refresh_work`` lock in. Built once per process.
    """
    keys, work = Keys(case), work_key(case)
    if source not in _UPSERTS:
        _UPSERTS[source] = _upserts(source)
    day_sql, category_sql, work_sql = _UPSERTS[source]
    dispatched = 0 if case.excluded_from_rates else 1
    month = rates.month_start(keys.day)
    in_hand = [work.status, work.is_supervised, work.awaits_visit]
    if source is not None:
        return [(day_sql, [keys.day, dispatched]), (category_sql, [month]), (work_sql, in_hand)]
    return [
        (day_sql, [keys.day, case.unit_id, case.unit_path, dispatched]),
        (category_sql, [month, case.unit_id, case.unit_path, case.category_id]),
        (work_sql, [case.unit_id, case.unit_path, *in_hand]),
    ]


def _upserts(source: str | None) -> tuple[str, str, str]:
    day_table, category_table = DayTally._meta.db_table, CategoryTally._meta.db_table
    work_table = WorkTally._meta.db_table
    if source is None:
        day_row = f"VALUES (%s, %s, %s, 1, %s{', 0' * len(_ZEROS)})"
        category_row = "VALUES (%s, %s, %s, %s, 1)"
        work_row = "VALUES (%s, %s, %s, %s, %s, 1)"
    else:
        day_row = f"SELECT %s, unit_id, unit_path, 1, %s{', 0' * len(_ZEROS)} FROM {source}"
        category_row = f"SELECT %s, unit_id, unit_path, category_id, 1 FROM {source}, {DAY_CTE}"
        work_row = f"SELECT unit_id, unit_path, %s, %s, %s, 1 FROM {source}, {CATEGORY_CTE}"
    returning = "" if source is None else " RETURNING 1"
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
    return day, category, work


def _refresh_day(day: date, unit_id: int, path: str) -> None:
    DayTally.objects.bulk_create([DayTally(day=day, unit_id=unit_id, unit_path=path)], ignore_conflicts=True)
    tally = DayTally.objects.select_for_update().get(day=day, unit_id=unit_id)
    start, end = day_bounds(day)
    counts = Case.objects.filter(unit_id=unit_id, received_at__gte=start, received_at__lt=end).aggregate(**DAY_COUNTS)
    DayTally.objects.filter(pk=tally.pk).update(unit_path=path, **counts)


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
    return written_days, written_categories


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
    return [
        f"{kind} {key}: expected {expected.get(key)}, stored {stored.get(key)}"
        for kind, expected, stored in (
            ("day", expected_days, stored_days), ("category", expected_categories, stored_categories),
            ("work", expected_work, stored_work),
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
