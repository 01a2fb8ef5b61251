"""Reads of whistles, meetings, action items and polls that pages, admin and dashboards share.

Scoping is the portal's one rule, ``communities.selectors.scope`` on the object's unit
path (plus guardian grants for what crosses the tree). As for cases, a department
liaison's post opens no subtree: liaisons see the cases their department was summoned to
and the meetings it was invited to, through grants to the department's group.

For the dashboards (each runs a fixed number of queries whatever the data size):

- ``whistle_month_report(unit, month)`` → ``WhistleReport`` (None when no whistle was blown in
  the month by a unit of the subtree). Its ``total`` (``WhistleFigures``): the whistles, the
  cases received in the month (counted as for 三率) and how many of them had a whistle blown
  (吹哨率 = ``whistle_rate``), the summonses, reports on time, late and missing. Its
  ``departments`` (``[DepartmentFigures]``), one per department summoned: summoned, reported
  (on time / late), missing, on site / remote, the street's average rating of the response
  (exact), and how the department judged the whistles (justified / partly / not). One query.
- ``overdue_action_items(user, unit=None)`` → scoped queryset of overdue action items,
  rows joined (one query); ``overdue_action_counts(unit)`` → ``{unit pk: count}`` for the
  unit (whole subtree) and each child (two queries).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db import connection, connections
from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import Case, DayTally
from cases.rates import month_bounds, month_start, next_month
from cases.selectors import visible_cases
from communities.models import Department, Unit
from communities.selectors import EVERYWHERE, child_bucket, granted_q, scope, subtree_paths

from ..models import ActionItem, AgendaItem, Ballot, Decision, Elector, Meeting, Poll, Summons, Whistle
from .consent import Outcome, Tally, evaluate
from .groups import liaison_departments

RATE_PLACES = Decimal("0.0001")
AREA_SUM = DecimalField(max_digits=14, decimal_places=2)


# ---------------------------------------------------------------- scoping


def visible_whistles(user) -> QuerySet[Whistle]:
    """Whistles on the cases the user sees (a summoned liaison sees the case by grant)."""
    return Whistle.objects.filter(case__in=visible_cases(user))


def visible_meetings(user) -> QuerySet[Meeting]:
    return scope(Meeting.objects.all(), user, path_field="unit_path", grant_perm="governance.view_meeting")


def visible_action_items(user) -> QuerySet[ActionItem]:
    own = scope(ActionItem.objects.all(), user, path_field="unit_path")
    if subtree_paths(user) is EVERYWHERE or not user.is_authenticated:
        return own
    granted = Meeting.objects.filter(granted_q(user, Meeting, "governance.view_meeting")).values("pk")
    return own | ActionItem.objects.filter(meeting__in=granted)


def visible_polls(user) -> QuerySet[Poll]:
    return scope(Poll.objects.all(), user, path_field="unit_path")


# ---------------------------------------------------------------- whistles


def report_state(summons: Summons, now=None) -> str:
    """"on_time", "late", "missing" (due and not reported) or "waiting"."""
    if summons.reported_at:
        return "late" if summons.is_late() else "on_time"
    return "missing" if summons.is_missing(now) else "waiting"


def whistle_list(user, *, active_only: bool = False) -> QuerySet[Whistle]:
    """Whistles with their case, unit and report counts joined (one query)."""
    now = timezone.now()
    whistles = visible_whistles(user).select_related("case", "unit", "blown_by").annotate(
        summoned=Count("summonses"),
        reported=Count("summonses", filter=Q(summonses__reported_at__isnull=False)),
        late=Count("summonses", filter=Q(summonses__reported_at__gt=F("report_due_at"))),
        missing=Count("summonses", filter=Q(summonses__reported_at__isnull=True, report_due_at__lt=now)),
    )
    if active_only:
        whistles = whistles.exclude(case__status__in=Case.FINISHED)
    return whistles.order_by("-blown_at", "-pk")


def summonses_of(whistle: Whistle) -> list[Summons]:
    rows = list(
        whistle.summonses.select_related(
            "department", "partner", "reported_by", "response_rated_by", "justification_by"
        ).order_by("pk")
    )
    now = timezone.now()
    for summons in rows:
        summons.whistle = whistle
        summons.state = report_state(summons, now)
    return rows


def department_summonses(user, *, active_only: bool = True) -> QuerySet[Summons]:
    """What the user's departments were summoned to; active until the case is finished."""
    departments = liaison_departments(user)
    rows = Summons.objects.filter(department_id__in=departments).select_related(
        "whistle", "whistle__case", "whistle__unit", "department"
    )
    if active_only:
        rows = rows.exclude(whistle__case__status__in=Case.FINISHED)
    return rows.order_by("-whistle__blown_at", "pk")


def whistles_of_case(case: Case) -> list[Whistle]:
    """A case's whistles, each with its summonses (two queries)."""
    whistles = list(case.whistles.select_related("unit", "blown_by").order_by("blown_at"))
    by_whistle: dict[int, list[Summons]] = defaultdict(list)
    now = timezone.now()
    summonses = Summons.objects.filter(whistle__case=case).select_related("department", "partner")
    for summons in summonses.order_by("pk"):
        by_whistle[summons.whistle_id].append(summons)
    for whistle in whistles:
        for summons in by_whistle[whistle.pk]:
            summons.whistle = whistle
            summons.state = report_state(summons, now)
        whistle.summons_rows = by_whistle[whistle.pk]
    return whistles


@dataclass
class WhistleFigures:
    """A unit's whistles in one month (see the module docstring)."""

    unit: Unit
    month: date
    cases: int = 0
    whistled_cases: int = 0
    whistles: int = 0
    summoned: int = 0
    reported: int = 0
    reported_on_time: int = 0
    missing: int = 0

    @property
    def late(self) -> int:
        return self.reported - self.reported_on_time

    @property
    def whistle_rate(self) -> Decimal | None:
        return rate(self.whistled_cases, self.cases)

    @property
    def on_time_rate(self) -> Decimal | None:
        return rate(self.reported_on_time, self.summoned)


def rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class DepartmentFigures:
    """How one department answered the whistles of one month (see the module docstring)."""

    department_id: int
    name: str
    summoned: int = 0
    reported: int = 0
    reported_on_time: int = 0
    missing: int = 0
    on_site: int = 0
    remote: int = 0
    rated: int = 0
    rating_sum: int = 0
    justified: int = 0
    partly: int = 0
    unjustified: int = 0

    @property
    def late(self) -> int:
        return self.reported - self.reported_on_time

    @property
    def on_time_rate(self) -> Decimal | None:
        return rate(self.reported_on_time, self.summoned)

    @property
    def average_rating(self) -> Fraction | None:
        return Fraction(self.rating_sum, self.rated) if self.rated else None

    @property
    def average_rating_display(self) -> Decimal | None:
        value = self.average_rating
        if value is None:
            return None
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class WhistleReport:
    """The whistles blown under a unit in one month: the totals, then each summoned department."""

    total: WhistleFigures
    departments: list[DepartmentFigures]


DEPARTMENT_COUNTS = ("summoned", "reported", "reported_on_time", "missing", "on_site", "remote", "rated",
                     "rating_sum", "justified", "partly", "unjustified")


@functools.cache
def _month_report_sql(vendor: str) -> str:
    """``whistle_month_report``'s statement, written once per process (every database alias is of
    one vendor). Built by the ORM, its fourteen aggregates and three subqueries cost ~3.5 ms of
    Python on every dashboard, three times what the statement takes to run."""
    q = connection.ops.quote_name
    whistle, summons, department, case, days = (
        q(m._meta.db_table) for m in (Whistle, Summons, Department, Case, DayTally)
    )

    def starts(column: str) -> str:
        # As the ORM writes ``__startswith`` (on PostgreSQL as text, which the prefix indexes are
        # built for). Unit paths hold only digits and separators: the prefix needs no escaping.
        return f"{connection.ops.lookup_cast('startswith', 'CharField') % column} {connection.operators['startswith']}"

    def count_if(condition: str) -> str:
        return f"COUNT(CASE WHEN {condition} THEN 1 END)"

    return f"""
        SELECT s.department_id, d.name,
            COUNT(s.id), COUNT(s.reported_at),
            {count_if("s.reported_at <= w.report_due_at")},
            {count_if("s.id IS NOT NULL AND s.reported_at IS NULL AND w.report_due_at < %s")},
            {count_if("s.presence = %s")}, {count_if("s.presence = %s")},
            COUNT(s.response_rating), COALESCE(SUM(s.response_rating), 0),
            {count_if("s.justification = %s")}, {count_if("s.justification = %s")}, {count_if("s.justification = %s")},
            (SELECT COUNT(*) FROM {whistle} x
              WHERE {starts("x.unit_path")} AND x.blown_at >= %s AND x.blown_at < %s),
            (SELECT COALESCE(SUM(t.dispatched), 0) FROM {days} t
              WHERE {starts("t.unit_path")} AND t.day >= %s AND t.day < %s),
            (SELECT COUNT(DISTINCT x.case_id) FROM {whistle} x JOIN {case} c ON c.id = x.case_id
              WHERE x.blown_at >= %s AND c.received_at >= %s AND c.received_at < %s
              AND {starts("c.unit_path")} AND NOT c.excluded_from_rates AND c.status <> %s)
        FROM {whistle} w
        LEFT JOIN {summons} s ON s.whistle_id = w.id
        LEFT JOIN {department} d ON d.id = s.department_id
        WHERE {starts("w.unit_path")} AND w.blown_at >= %s AND w.blown_at < %s
        GROUP BY s.department_id, d.name
        ORDER BY d.name"""


def whistle_month_report(unit: Unit, month: date, *, now=None) -> WhistleReport | None:
    """The month's whistles under ``unit`` (None if none was blown). One query.

    The month's whistles LEFT JOIN their summonses, grouped by department (the partners' rows
    share the NULL group, counted in the totals only). The three figures that are not per
    department are uncorrelated subqueries, each computed once: the whistles blown; the month's
    counted cases (from the day tallies, as for 三率); and how many of them had a whistle (吹哨率),
    found from the month's few whistles rather than its many cases.
    """
    month = month_start(month)
    start, end = month_bounds(month)
    database = connections[Whistle.objects.db]  # where the router sends the page's reads (a replica)
    ops = database.ops
    moment = ops.adapt_datetimefield_value
    prefix = unit.path + "%"
    P, J = Summons.Presence, Summons.Justification
    params = [  # in the statement's order
        moment(now or timezone.now()), P.ON_SITE, P.REMOTE, J.JUSTIFIED, J.PARTLY, J.UNJUSTIFIED,  # the counts
        prefix, moment(start), moment(end),  # the whistles blown
        prefix, ops.adapt_datefield_value(month), ops.adapt_datefield_value(next_month(month)),  # the cases
        moment(start), moment(start), moment(end), prefix, Case.Status.MERGED,  # the whistled cases
        prefix, moment(start), moment(end),  # the month's whistles
    ]
    with database.cursor() as cursor:
        cursor.execute(_month_report_sql(database.vendor), params)
        rows = cursor.fetchall()
    if not rows:
        return None
    *_, whistles, cases, whistled_cases = rows[0]
    total = WhistleFigures(unit, month, cases=cases, whistled_cases=whistled_cases, whistles=whistles)
    departments = []
    for department_id, name, *counts, _whistles, _cases, _whistled_cases in rows:
        figures = dict(zip(DEPARTMENT_COUNTS, counts, strict=True))
        for figure in ("summoned", "reported", "reported_on_time", "missing"):
            setattr(total, figure, getattr(total, figure) + figures[figure])
        if department_id is not None:  # partners are not departments
            departments.append(DepartmentFigures(department_id, name, **figures))
    return WhistleReport(total, departments)


# ---------------------------------------------------------------- meetings and action items


def meeting_list(user, *, when: str = "") -> QuerySet[Meeting]:
    """Meetings with unit, convener and counts joined (one query). ``when``: "upcoming", "past" or ""."""
    now = timezone.now()
    open_items = ActionItem.objects.exclude(status__in=ActionItem.FINISHED)
    meetings = visible_meetings(user).select_related("unit", "building", "convener").annotate(
        agenda_count=_count(AgendaItem.objects.all(), "meeting"),
        open_actions=_count(open_items, "meeting"),
    )
    if when == "upcoming":
        meetings = meetings.filter(starts_at__gte=now, status=Meeting.Status.PLANNED).order_by("starts_at", "pk")
    elif when == "past":
        meetings = meetings.filter(Q(starts_at__lt=now) | ~Q(status=Meeting.Status.PLANNED))
    return meetings


def _count(rows: QuerySet, parent: str) -> Coalesce:
    """A correlated COUNT of ``rows`` per outer row (no join fan-out, whatever the list's length)."""
    counted = rows.filter(**{parent: OuterRef("pk")}).order_by().values(parent).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1]), 0)


def action_item_rows(items: QuerySet[ActionItem]) -> QuerySet[ActionItem]:
    return items.select_related(
        "meeting", "meeting__unit", "owner_user", "owner_department", "owner_partner", "owner_unit"
    )


def overdue_action_q(today: date | None = None) -> Q:
    """Past its due date and neither done nor dropped (computed at read time)."""
    return Q(due_on__lt=today or timezone.localdate()) & ~Q(status__in=ActionItem.FINISHED)


def overdue_action_items(user, *, unit: Unit | None = None, today: date | None = None) -> QuerySet[ActionItem]:
    items = visible_action_items(user).filter(overdue_action_q(today))
    if unit is not None:
        items = items.filter(unit_path__startswith=unit.path)
    return action_item_rows(items).order_by("due_on", "pk")


def overdue_action_counts(unit: Unit, *, today: date | None = None) -> dict[int, int]:
    """Overdue action items of the unit (whole subtree) and of each child. Two queries."""
    children = list(unit.children.order_by("sort_order", "name"))
    rows = (
        ActionItem.objects.filter(overdue_action_q(today), unit_path__startswith=unit.path)
        .annotate(bucket=child_bucket(unit, children, "unit_path"))
        .values("bucket")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_bucket = {row["bucket"]: row["n"] for row in rows}
    counts = {unit.pk: sum(by_bucket.values())}
    counts.update({child.pk: by_bucket.get(child.pk, 0) for child in children})
    return counts


def meetings_of_case(user, case: Case) -> list[Meeting]:
    """Visible meetings that had this case on the agenda, each with its decisions on it (≤ 3 queries)."""
    meetings = list(
        visible_meetings(user).filter(agenda__case=case).distinct().select_related("unit").order_by("starts_at")
    )
    if not meetings:
        return []
    decisions: dict[int, list[Decision]] = defaultdict(list)
    rows = Decision.objects.filter(meeting__in=meetings, agenda_item__case=case).prefetch_related("action_items")
    for decision in rows.order_by("pk"):
        decisions[decision.meeting_id].append(decision)
    for meeting in meetings:
        meeting.case_decisions = decisions[meeting.pk]
    return meetings


def published_notice(pk: int) -> Meeting | None:
    """A meeting whose outcome has been published (the public notice page)."""
    return Meeting.objects.select_related("unit", "building").filter(pk=pk, notice_published_at__isnull=False).first()


# ---------------------------------------------------------------- polls


def poll_list(user) -> QuerySet[Poll]:
    return visible_polls(user).select_related("unit", "case").annotate(
        electorate=_count(Elector.objects.all(), "poll"),
        reached=_count(Ballot.objects.filter(superseded_at__isnull=True), "poll"),
    )


def poll_tally(poll: Poll) -> Tally:
    """The live tally from the database (two aggregate queries)."""
    zero = Value(Decimal("0"), output_field=AREA_SUM)
    whole = Elector.objects.filter(poll=poll).aggregate(
        n=Count("pk"), area=Coalesce(Sum("area", output_field=AREA_SUM), zero)
    )
    counts = {"electorate": whole["n"], "electorate_area": _area(whole["area"])}
    rows = (
        Ballot.objects.filter(poll=poll, superseded_at__isnull=True)
        .values("choice")
        .annotate(n=Count("pk"), area=Coalesce(Sum("elector__area", output_field=AREA_SUM), zero))
        .order_by()
    )
    for row in rows:
        counts[row["choice"]] = row["n"]
        counts[f"{row['choice']}_area"] = _area(row["area"])
    return Tally(**counts)


def _area(value) -> Decimal:
    # SQLite sums decimals as floats: back to exact cents (areas have two decimals).
    return Decimal(str(value)).quantize(Decimal("0.01"))


def poll_outcome(poll: Poll) -> Outcome:
    """The frozen result of a closed poll, or the live (provisional) one while it is open."""
    if poll.status == Poll.Status.CLOSED and poll.result.get("tally"):
        tally = Tally.from_json(poll.result["tally"])
    else:
        tally = poll_tally(poll)
    return evaluate(tally, poll.thresholds(), poll.max_objections)


@dataclass
class FloorProgress:
    floor: int
    electors: list[Elector] = field(default_factory=list)

    @property
    def reached(self) -> int:
        return sum(1 for e in self.electors if e.choice)


@dataclass
class StairwellProgress:
    building: str
    number: int
    floors: list[FloorProgress] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(f.electors) for f in self.floors)

    @property
    def reached(self) -> int:
        return sum(f.reached for f in self.floors)

    @property
    def to_visit(self) -> list[Elector]:
        return [e for f in self.floors for e in f.electors if not e.choice]


def poll_progress(poll: Poll) -> list[StairwellProgress]:
    """Every household of the electorate with its current vote (or none), by unit and floor. One query."""
    current = Ballot.objects.filter(elector=OuterRef("pk"), superseded_at__isnull=True)
    electors = (
        Elector.objects.filter(poll=poll)
        .select_related("building")
        .annotate(choice=Subquery(current.values("choice")[:1]))
        .order_by("building__name", "building_id", "stairwell_number", "-floor", "room")
    )
    stairwells: dict[tuple, StairwellProgress] = {}
    for elector in electors:
        name = elector.building.name if elector.building else ""
        stairwell = stairwells.setdefault(
            (name, elector.stairwell_number), StairwellProgress(name, elector.stairwell_number)
        )
        if not stairwell.floors or stairwell.floors[-1].floor != elector.floor:
            stairwell.floors.append(FloorProgress(elector.floor))
        stairwell.floors[-1].electors.append(elector)
    return list(stairwells.values())


def ballot_history(poll: Poll) -> QuerySet[Ballot]:
    """Every ballot ever recorded, corrections with the ballot they replaced (one query)."""
    return (
        Ballot.objects.filter(poll=poll)
        .select_related("elector", "collected_by", "recorded_by", "replaces")
        .order_by("elector__stairwell_number", "elector__floor", "elector__room", "recorded_at", "pk")
    )
