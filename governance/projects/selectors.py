"""Reads of the livelihood project list that pages, the API, admin and dashboards share.

Scoping is the portal's one rule (``communities.selectors.scope`` on ``unit_path``; a liaison's
post opens no subtree there, as for cases). A unit named on an item (its owner unit, a
sub-item's unit or owner) reads the item too, but only the item's own unit changes it.

For the tier dashboards (a fixed number of queries whatever the data size):

- ``on_time_rate(unit, year)`` → ``OnTimeFigures`` of the unit's whole subtree (one query);
  ``on_time_by_child(unit, year)`` → ``[OnTimeFigures]``, the unit then each child (one query).
  Counted: top-level items (sub-items are parts of one item) whose deadline falls in the year,
  cancelled ones left out; on time = done on or before the deadline.
- ``dashboard_summary(unit, month)`` → ``ProjectSummary``: open, overdue, flagged (no update
  in that month), done in the month, and the year's on-time figures (two queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.rates import current_month, month_start, next_month
from cases.selectors import visible_cases
from communities.models import PATH_SEPARATOR, Unit
from communities.selectors import child_bucket, in_subtree, scope

from ..coordination.selectors import rate, visible_meetings, visible_whistles
from ..models import Project, ProjectUpdate

S = Project.Status


# A project's unit, its owner unit and its sub-items' units carry out its work: they read it.
NAMED_UNITS = ("owner_unit__path", "sub_items__unit_path", "sub_items__owner_unit__path")


def own_projects(user) -> QuerySet[Project]:
    """Items on the lists of the user's subtrees: those they may change (and offer as choices)."""
    return scope(Project.objects.all(), user, path_field="unit_path")


def visible_projects(user) -> QuerySet[Project]:
    """Items the user may read: their subtrees' own, and those naming a unit of their subtrees."""
    return scope(Project.objects.all(), user, path_field="unit_path", named=NAMED_UNITS)


# ---------------------------------------------------------------- the 月更新 rule


def updated_in(month: date):
    """An ``Exists`` that is true for items with an update dated in ``month``."""
    month = month_start(month)
    return Exists(ProjectUpdate.objects.filter(project=OuterRef("pk"), on__gte=month, on__lt=next_month(month)))


def flagged_q(month: date | None = None) -> Q:
    """Open items without an update dated in the month (the current month by default)."""
    return Q(status__in=Project.OPEN) & ~Q(updated_in(month or current_month()))


def late_q(today: date | None = None) -> Q:
    """Done after the deadline, or open past it."""
    today = today or timezone.localdate()
    return Q(status=S.DONE, done_on__gt=F("deadline")) | Q(status__in=Project.OPEN, deadline__lt=today)


def project_rows(projects: QuerySet[Project], *, month: date | None = None) -> QuerySet[Project]:
    """Items with what a list row shows joined: unit, owners, parent, this month's update, sub-item counts."""
    return projects.select_related("unit", "owner_user", "owner_department", "owner_unit", "parent").annotate(
        updated_this_month=updated_in(month or current_month()),
        n_sub_items=Count("sub_items", distinct=True),
        open_sub_items=Count("sub_items", filter=Q(sub_items__status__in=Project.OPEN), distinct=True),
    )


def project_list(
    user, *, status: str = "", flagged: bool = False, unit: Unit | None = None, year: int | None = None,
    top_level: bool = True,
) -> QuerySet[Project]:
    """The filtered list a staff page or the API shows (one query for the rows)."""
    projects = visible_projects(user)
    if top_level:
        projects = projects.filter(parent__isnull=True)
    if status:
        projects = projects.filter(status=status)
    if flagged:
        projects = projects.filter(flagged_q())
    if unit is not None:
        projects = projects.filter(unit_path__startswith=unit.path)
    if year:
        projects = projects.filter(deadline__year=year)
    return project_rows(projects).order_by("deadline", "pk")


def sub_items_of(project: Project, user) -> list[Project]:
    """The item's sub-items the user sees (a unit reading its own part of a higher tier's item
    sees neither its siblings' parts nor anything linked to them)."""
    parts = project.sub_items.all()
    if not in_subtree(user, project.unit.path):
        parts = parts.filter(pk__in=visible_projects(user).values("pk"))
    rows = list(project_rows(parts).order_by("deadline", "pk"))
    for row in rows:
        row.parent = project
    return rows


def links_of(project: Project, user) -> dict[str, QuerySet]:
    """The cases, meetings and whistles linked to the item, as far as the user sees them."""
    cases = project.cases.select_related("location_unit").order_by("-received_at")
    meetings = project.meetings.select_related("unit").order_by("-starts_at")
    whistles = project.whistles.select_related("case").order_by("-blown_at")
    if not in_subtree(user, project.unit.path):  # a named unit reading a higher tier's item
        cases = cases.filter(pk__in=visible_cases(user).values("pk"))
        meetings = meetings.filter(pk__in=visible_meetings(user).values("pk"))
        whistles = whistles.filter(pk__in=visible_whistles(user).values("pk"))
    return {"cases": cases, "meetings": meetings, "whistles": whistles}


def roll_up_parts(project: Project) -> list[tuple[int, int, str]]:
    return list(project.sub_items.values_list("progress", "weight", "status"))


# ---------------------------------------------------------------- on time


@dataclass
class OnTimeFigures:
    """A unit's list items due in one year (see the module docstring)."""

    unit: Unit
    year: int
    due: int = 0
    done_on_time: int = 0
    done_late: int = 0
    open_overdue: int = 0

    @property
    def done(self) -> int:
        return self.done_on_time + self.done_late

    @property
    def pending(self) -> int:
        """Open and not yet due: no verdict yet."""
        return self.due - self.done - self.open_overdue

    @property
    def rate(self) -> Decimal | None:
        """Done on time / items with a verdict (done, or open past the deadline)."""
        return rate(self.done_on_time, self.done + self.open_overdue)

    def add(self, row: dict) -> None:
        for name in ("due", "done_on_time", "done_late", "open_overdue"):
            setattr(self, name, getattr(self, name) + (row.get(name) or 0))


def _on_time_counts(today: date) -> dict:
    done = Q(status=S.DONE)
    return {
        "due": Count("pk"),
        "done_on_time": Count("pk", filter=done & Q(done_on__lte=F("deadline"))),
        "done_late": Count("pk", filter=done & Q(done_on__gt=F("deadline"))),
        "open_overdue": Count("pk", filter=Q(status__in=Project.OPEN, deadline__lt=today)),
    }


def _counted(unit: Unit, year: int) -> QuerySet[Project]:
    return Project.objects.filter(
        unit_path__startswith=unit.path, parent__isnull=True, deadline__year=year
    ).exclude(status=S.CANCELLED)


def on_time_rate(unit: Unit, year: int, *, today: date | None = None) -> OnTimeFigures:
    """On-time completion of the unit's subtree in ``year`` (one query)."""
    row = _counted(unit, year).aggregate(**_on_time_counts(today or timezone.localdate()))
    figures = OnTimeFigures(unit=unit, year=year)
    figures.add(row)
    return figures


def on_time_by_child(unit: Unit, year: int, *, today: date | None = None) -> list[OnTimeFigures]:
    """The unit (whole subtree) then each child, in display order (one query plus the children)."""
    children = list(unit.children.order_by("sort_order", "name"))
    rows = (
        _counted(unit, year)
        .annotate(bucket=child_bucket(unit, children, "unit_path"))
        .values("bucket")
        .annotate(**_on_time_counts(today or timezone.localdate()))
        .order_by()
    )
    figures = {u.pk: OnTimeFigures(unit=u, year=year) for u in [unit, *children]}
    for row in rows:
        figures[unit.pk].add(row)
        if row["bucket"] != unit.pk:
            figures[row["bucket"]].add(row)
    return list(figures.values())


@dataclass
class ProjectSummary:
    """A unit's list in one month, for a tier dashboard."""

    unit: Unit
    month: date
    open: int
    overdue: int
    flagged: int
    done_in_month: int
    year: OnTimeFigures


def dashboard_summary(unit: Unit, month: date, *, today: date | None = None) -> ProjectSummary:
    """Open, overdue and flagged items of the subtree, done in the month, and the year's on-time figures."""
    today = today or timezone.localdate()
    month = month_start(month)
    row = Project.objects.filter(unit_path__startswith=unit.path).aggregate(
        open=Count("pk", filter=Q(status__in=Project.OPEN)),
        overdue=Count("pk", filter=Q(status__in=Project.OPEN, deadline__lt=today)),
        flagged=Count("pk", filter=flagged_q(month)),
        done_in_month=Count("pk", filter=Q(status=S.DONE, done_on__gte=month, done_on__lt=next_month(month))),
    )
    return ProjectSummary(unit=unit, month=month, year=on_time_rate(unit, month.year, today=today), **row)


# ---------------------------------------------------------------- public pages


def public_units(community: Unit) -> Q:
    """Items residents of a community read: the community's own (and its grids'), and those of the
    street and the area above it (the area's charging piles are every community's business)."""
    above = [int(part) for part in community.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1]]
    return Q(unit_path__startswith=community.path) | Q(unit_id__in=above)


def published_projects(community: Unit) -> QuerySet[Project]:
    """Published top-level items a community's residents read; joins the owning organisation only."""
    return (
        Project.objects.filter(public_units(community), parent__isnull=True, published_at__isnull=False)
        .exclude(status=S.CANCELLED)
        .select_related("unit", "owner_department", "owner_unit")
        .order_by("status", "deadline", "pk")
    )


def public_updates(projects: list[Project]) -> list[ProjectUpdate]:
    """The public updates of published items and their sub-items, newest first (one query)."""
    return list(
        ProjectUpdate.objects.filter(Q(project__in=projects) | Q(project__parent__in=projects), public=True)
        .select_related("project")
        .order_by("-on", "-pk")
    )


def public_photo(pk: int) -> ProjectUpdate | None:
    """A public update's photo whose (parent) item is published and not cancelled."""
    published = Q(project__published_at__isnull=False, project__parent__isnull=True) | Q(
        project__parent__published_at__isnull=False
    )
    return (
        ProjectUpdate.objects.filter(published, pk=pk, public=True)
        .exclude(photo="")
        .exclude(project__status=S.CANCELLED)
        .first()
    )
