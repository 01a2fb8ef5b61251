"""Reads of the volunteer corps that pages, panels, the admin and exports share.

Every queryset starts from a ``visible_*`` selector: the one scoping rule
(``communities.selectors.scope``) on the row's unit path. Totals (hours, person-times)
are sums over the hours ledger computed in SQL, grouped by unit path, team kind, team,
volunteer or month; what comes back grows with the tree or the page, never the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Case as CaseWhen
from django.db.models import (
    Count, Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from cases import reference
from cases.models import Case
from cases.rates import month_bounds
from cases.selectors import visible_cases
from communities.models import PATH_SEPARATOR, Building, Unit
from communities.selectors import scope, visible_buildings

from .models import (
    Activity, BuildingAssignment, HoursEntry, Membership, SignUp, Skill, Suggestion, Task, Team, Volunteer,
    VolunteerTally, anonymised_label, reach_path,
)

V = Volunteer.Status


# --- scoping ------------------------------------------------------------------------------------


def visible_volunteers(user) -> QuerySet[Volunteer]:
    return scope(Volunteer.objects.select_related("unit", "building"), user, path_field="unit_path")


def visible_teams(user) -> QuerySet[Team]:
    return scope(Team.objects.select_related("unit", "leader"), user, path_field="unit__path")


def visible_activities(user) -> QuerySet[Activity]:
    return scope(Activity.objects.select_related("unit", "team"), user, path_field="unit_path")


def visible_signups(user) -> QuerySet[SignUp]:
    return scope(SignUp.objects.select_related("activity", "volunteer"), user, path_field="activity__unit_path")


def visible_hours(user) -> QuerySet[HoursEntry]:
    return scope(HoursEntry.objects.all(), user, path_field="unit_path")


def visible_tasks(user) -> QuerySet[Task]:
    """Tasks of the user's volunteers, and tasks on the cases the user sees."""
    mine = scope(Task.objects.all(), user, path_field="volunteer__unit_path")
    on_cases = Task.objects.filter(case__in=visible_cases(user).values("pk"))
    return (mine | on_cases).select_related("case", "volunteer", "assigned_by")


def visible_assignments(user) -> QuerySet[BuildingAssignment]:
    return scope(
        BuildingAssignment.objects.select_related("building", "building__unit", "volunteer"),
        user, path_field="building__unit__path",
    )


def visible_suggestions(user) -> QuerySet[Suggestion]:
    return scope(
        Suggestion.objects.select_related("volunteer", "unit", "building", "case"), user, path_field="unit_path"
    )


def volunteer_of(user) -> Volunteer | None:
    """The volunteer record linked to a login, if any (a volunteer's own page)."""
    if not user.is_authenticated:
        return None
    return Volunteer.objects.select_related("unit", "building").filter(user=user).first()


# --- lists ----------------------------------------------------------------------------------------


def _ledger_sum(column: str, **match) -> Subquery:
    rows = HoursEntry.objects.filter(**match).order_by().values("volunteer")
    return Subquery(rows.annotate(total=Sum(column)).values("total")[:1], output_field=IntegerField())


def with_totals(volunteers: QuerySet[Volunteer]) -> QuerySet[Volunteer]:
    """Each volunteer's hours (as minutes) and person-times from the ledger, in the same query."""
    return volunteers.annotate(
        total_minutes=Coalesce(_ledger_sum("minutes", volunteer=OuterRef("pk")), Value(0)),
        total_times=Coalesce(_ledger_sum("times", volunteer=OuterRef("pk")), Value(0)),
    )


def roster_rows(volunteers: QuerySet[Volunteer]) -> QuerySet[Volunteer]:
    """What a roster row shows: place, skills, teams, totals — a fixed number of queries per page."""
    return with_totals(volunteers).select_related("unit", "building").prefetch_related(
        Prefetch("skills", queryset=Skill.objects.order_by("sort_order", "code")),
        Prefetch("memberships", queryset=Membership.objects.select_related("team").order_by("team__name")),
    )


def calendar(activities: QuerySet[Activity], month: date) -> list[tuple[date, list[Activity]]]:
    """The month's activities by local day, in one query."""
    start, end = month_bounds(month)
    days: dict[date, list[Activity]] = defaultdict(list)
    for activity in activities.filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at", "pk"):
        days[timezone.localtime(activity.starts_at).date()].append(activity)
    return sorted(days.items())


def open_activities_for(volunteer: Volunteer) -> QuerySet[Activity]:
    """Upcoming, not cancelled activities whose area the volunteer lives in."""
    parts = volunteer.unit_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    above = [PATH_SEPARATOR + PATH_SEPARATOR.join(parts[:end]) + PATH_SEPARATOR for end in range(1, len(parts) + 1)]
    community = reach_path(volunteer.unit_path, volunteer.unit.level)
    return (
        Activity.objects.select_related("unit", "team")
        .filter(Q(unit_path__in=above) | Q(unit_path__startswith=community, unit__level=Unit.Level.GRID))
        .filter(cancelled_at__isnull=True, starts_at__gt=timezone.now())
        .order_by("starts_at", "pk")
    )


# --- tasks from cases -------------------------------------------------------------------------


@dataclass
class Candidate:
    volunteer: Volunteer
    proximity: int  # 0 same building, 1 same grid, 2 same community (or area)
    matched: int
    open_tasks: int

    PROXIMITY_LABELS = ("building", "grid", "community")

    @property
    def where(self) -> str:
        return self.PROXIMITY_LABELS[self.proximity]


def task_candidates(case: Case) -> QuerySet[Volunteer]:
    """Whom a task from ``case`` may go to: the active volunteers of the case's community."""
    place = case.location_unit
    return Volunteer.objects.filter(
        status=V.ACTIVE, unit_path__startswith=reach_path(place.path, place.level)
    ).select_related("unit").order_by("name", "pk")


def skills_for(case: Case) -> list[Skill]:
    """The skills the case's category wants, from a reference list shared between requests with the
    public form's (``cases.reference``; a skill's save or a change of its categories renews it)."""
    return reference.Snapshot().get("skills_by_category", _skills_by_category).get(case.category_id, [])


def _skills_by_category() -> dict[int, list[Skill]]:
    """Every category's skills, in their order (one query: a few dozen skills)."""
    found: dict[int, list[Skill]] = {}
    pairs = Skill.categories.through.objects.select_related("skill").order_by("skill__sort_order", "skill__code")
    for pair in pairs:
        found.setdefault(pair.category_id, []).append(pair.skill)
    return found


for _sender in (Skill, Skill.categories.through):
    post_save.connect(reference.invalidate, sender=_sender, dispatch_uid=f"volunteers.skills.save.{_sender.__name__}")
    post_delete.connect(reference.invalidate, sender=_sender, dispatch_uid=f"volunteers.skills.delete.{_sender.__name__}")
m2m_changed.connect(reference.invalidate, sender=Skill.categories.through, dispatch_uid="volunteers.skills.categories")


def suggest_volunteers(case: Case, *, skills: list[Skill] | None = None, limit: int = 8) -> list[Candidate]:
    """Active volunteers for a task from ``case``: those with a wanted skill (the case category's
    skills unless given), nearest first — same building, same grid, then the rest of the community —
    then the most matching skills, then the fewest open tasks. If nobody in reach has one of the
    skills, the nearest volunteers instead (their ``matched`` is 0). One query either way."""
    skills = skills_for(case) if skills is None else list(skills)
    place = case.location_unit
    pool = Volunteer.objects.filter(status=V.ACTIVE, unit_path__startswith=reach_path(place.path, place.level))
    matched = Volunteer.skills.through.objects.filter(volunteer=OuterRef("pk"), skill_id__in=[skill.pk for skill in skills])
    open_tasks = Task.objects.filter(volunteer=OuterRef("pk"), status=Task.Status.ASSIGNED)
    # Only what the panel shows of a volunteer (their name): at 1 M cases the joins of the unit and
    # the building, for each of the community's hundreds of volunteers before the eight were picked,
    # were most of the query's time.
    pool = pool.annotate(
        skilled=Exists(matched) if skills else Value(False),
        proximity=CaseWhen(*_nearness(case), default=Value(2), output_field=IntegerField()),
        matched=_count(matched) if skills else Value(0),
        open_tasks=_count(open_tasks),
    ).only("name", "anonymised_at")
    # The skilled first: if there is one, the unskilled after them are left out.
    rows = pool.order_by("-skilled", "proximity", "-matched", "open_tasks", "name", "pk")[:limit]
    found = [Candidate(v, v.proximity, v.matched, v.open_tasks) for v in rows]
    return [c for c in found if c.matched] if found and found[0].matched else found


def _nearness(case: Case) -> list[When]:
    """Same building first, then same grid (the building's or the place's)."""
    whens = []
    grid = case.building.unit if case.building_id else case.location_unit
    if case.building_id:
        whens.append(When(building_id=case.building_id, then=Value(0)))
    if grid.level == Unit.Level.GRID:
        whens.append(When(unit_path__startswith=grid.path, then=Value(1)))
    return whens


def _count(rows: QuerySet) -> Subquery:
    """How many ``rows``: a plain COUNT(*) subquery, one row whatever it finds (no GROUP BY, no LIMIT)."""
    return Subquery(rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n"), output_field=IntegerField())


# --- 党员包楼 -------------------------------------------------------------------------------------


def live_assignments() -> QuerySet[BuildingAssignment]:
    return BuildingAssignment.objects.filter(ended_on__isnull=True).select_related("volunteer").order_by("since", "pk")


def party_members_of(building: Building) -> list[BuildingAssignment]:
    return list(live_assignments().filter(building=building))


def buildings_with_party_members(user, unit: Unit) -> QuerySet[Building]:
    """The visible buildings under ``unit``, each with its live assignments, those without one first."""
    has_one = BuildingAssignment.objects.filter(building=OuterRef("pk"), ended_on__isnull=True)
    return (
        visible_buildings(user)
        .filter(unit__path__startswith=unit.path)
        .annotate(has_party_member=Exists(has_one))
        .prefetch_related(Prefetch("party_assignments", queryset=live_assignments(), to_attr="live_assignments"))
        .order_by("has_party_member", "unit__path", "name")
    )


def buildings_without_party_member(user, unit: Unit) -> QuerySet[Building]:
    has_one = BuildingAssignment.objects.filter(building=OuterRef("pk"), ended_on__isnull=True)
    return visible_buildings(user).filter(unit__path__startswith=unit.path).exclude(Exists(has_one)).order_by(
        "unit__path", "name"
    )


# --- totals ---------------------------------------------------------------------------------------


@dataclass
class Totals:
    minutes: int = 0
    times: int = 0
    volunteers: int = 0
    party_members: int = 0
    teams: int = 0
    members: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    def add(self, **values: int) -> None:
        for name, value in values.items():
            setattr(self, name, getattr(self, name) + (value or 0))


@dataclass
class Period:
    """A range of service dates (inclusive start, exclusive end); ``None`` ends mean open."""

    start: date | None = None
    end: date | None = None

    def q(self, prefix: str = "") -> Q:
        condition = Q()
        if self.start:
            condition &= Q(**{f"{prefix}served_on__gte": self.start})
        if self.end:
            condition &= Q(**{f"{prefix}served_on__lt": self.end})
        return condition


def ledger_under(user, unit: Unit, period: Period) -> QuerySet[HoursEntry]:
    return visible_hours(user).filter(unit_path__startswith=unit.path).filter(period.q()).order_by()


def _owner(paths: dict[str, Unit]):
    def find(path: str) -> Unit | None:
        end = path.find(PATH_SEPARATOR, 1)
        while end != -1:
            if (unit := paths.get(path[: end + 1])) is not None:
                return unit
            end = path.find(PATH_SEPARATOR, end + 1)
        return None

    return find


def totals_by_unit(user, unit: Unit, children: list[Unit], period: Period) -> tuple[Totals, dict[int, Totals]]:
    """Volunteers, party members, person-times and hours under ``unit`` and each of its children.

    Three grouped queries (volunteers, ledger and teams by unit path); rows are folded onto the
    child each path lies under, so the work grows with the tree only.
    """
    overall, rows = Totals(), {child.pk: Totals() for child in children}
    owner = _owner({child.path: child for child in children})

    def fold(path: str, **values) -> None:
        overall.add(**values)
        child = owner(path)
        if child is not None:
            rows[child.pk].add(**values)

    people = visible_volunteers(user).filter(unit_path__startswith=unit.path, status=V.ACTIVE).order_by()
    ledger = ledger_under(user, unit, period)
    # Without children only the unit's totals are asked for: no rows per unit path to group and fold.
    by_path = ("unit_path",) if children else ()
    # Counting the path (not the key) lets the active volunteers' covering index answer alone.
    counts = {"n": Count("unit_path"), "party": Count("unit_path", filter=Q(party_member=True))}
    for row in people.values(*by_path).annotate(**counts) if by_path else [people.aggregate(**counts)]:
        fold(row.get("unit_path", unit.path), volunteers=row["n"], party_members=row["party"])
    sums = {"m": Sum("minutes"), "t": Sum("times")}
    for row in ledger.values(*by_path).annotate(**sums) if by_path else [ledger.aggregate(**sums)]:
        fold(row.get("unit_path", unit.path), minutes=row["m"], times=row["t"])
    teams = visible_teams(user).filter(unit__path__startswith=unit.path, active=True).order_by()
    for row in teams.values("unit__path").annotate(n=Count("pk", distinct=True), members=Count("memberships")):
        fold(row["unit__path"], teams=row["n"], members=row["members"])
    return overall, rows


def corps_totals(user, unit: Unit, period: Period) -> Totals:
    """Active volunteers and party members under ``unit`` and the period's person-times and hours: two queries.

    The people come from the tallies (one row per community or grid: ``volunteers.tallies``), so
    this is for a unit inside the reader's own subtree (a dashboard's), where every volunteer is
    visible; ``totals_by_unit`` counts through the reader's scope.
    """
    people = VolunteerTally.objects.filter(unit_path__startswith=unit.path).aggregate(
        n=Sum("active"), party=Sum("party_members")
    )
    ledger = ledger_under(user, unit, period).aggregate(m=Sum("minutes"), t=Sum("times"))
    totals = Totals()
    totals.add(volunteers=people["n"], party_members=people["party"], minutes=ledger["m"], times=ledger["t"])
    return totals


def totals_by_team_kind(user, unit: Unit, period: Period) -> list[tuple[str, str, Totals]]:
    """Per team kind: teams, members, person-times and hours (credits without a team apart)."""
    by_kind: dict[str, Totals] = defaultdict(Totals)
    teams = visible_teams(user).filter(unit__path__startswith=unit.path, active=True).order_by()
    for row in teams.values("kind").annotate(n=Count("pk", distinct=True), members=Count("memberships")):
        by_kind[row["kind"]].add(teams=row["n"], members=row["members"])
    for row in ledger_under(user, unit, period).values("team__kind").annotate(m=Sum("minutes"), t=Sum("times")):
        by_kind[row["team__kind"] or ""].add(minutes=row["m"], times=row["t"])
    labels = dict(Team.Kind.choices)
    ordered = [(kind, labels[kind], by_kind[kind]) for kind in Team.Kind.values if kind in by_kind]
    if "" in by_kind:
        ordered.append(("", "", by_kind[""]))
    return ordered


def totals_by_team(user, unit: Unit, period: Period) -> list[dict]:
    rows = ledger_under(user, unit, period).filter(team__isnull=False).values("team_id", "team__name", "team__kind")
    return list(rows.annotate(minutes=Sum("minutes"), times=Sum("times")).order_by("-minutes", "team__name"))


def totals_by_volunteer(user, unit: Unit, period: Period, *, limit: int = 20) -> list[dict]:
    rows = ledger_under(user, unit, period).values("volunteer_id", "volunteer__name")
    rows = list(rows.annotate(minutes=Sum("minutes"), times=Sum("times")).order_by("-minutes", "volunteer__name")[:limit])
    for row in rows:  # only an anonymised volunteer has no name
        row["volunteer__name"] = row["volunteer__name"] or anonymised_label(row["volunteer_id"])
    return rows


def totals_by_month(entries: QuerySet[HoursEntry], *, months: int = 12) -> list[dict]:
    since = (timezone.localdate().replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    rows = entries.filter(served_on__gte=since).order_by().annotate(month=TruncMonth("served_on")).values("month")
    return list(rows.annotate(minutes=Sum("minutes"), times=Sum("times")).order_by("-month"))


def volunteer_totals(volunteer: Volunteer) -> Totals:
    sums = HoursEntry.objects.filter(volunteer=volunteer).aggregate(m=Sum("minutes"), t=Sum("times"))
    return Totals(minutes=sums["m"] or 0, times=sums["t"] or 0)


def ledger_of(volunteer: Volunteer, *, limit: int = 100) -> list[HoursEntry]:
    """The volunteer's latest ledger lines, credits with their net after corrections (two queries)."""
    lines = list(
        HoursEntry.objects.filter(volunteer=volunteer)
        .select_related("unit", "team", "created_by", "corrects")
        .order_by("-served_on", "-pk")[:limit]
    )
    credits = [line.pk for line in lines if line.kind != HoursEntry.Kind.CORRECTION]
    net: dict[int, list[int]] = {pk: [0, 0] for pk in credits}
    corrections = HoursEntry.objects.filter(corrects_id__in=credits).order_by().values("corrects_id")
    for row in corrections.annotate(m=Sum("minutes"), t=Sum("times")):
        net[row["corrects_id"]] = [row["m"], row["t"]]
    for line in lines:
        if line.pk in net:
            line.net_minutes = line.minutes + net[line.pk][0]
            line.voided = line.times + net[line.pk][1] <= 0
    return lines
