"""Sections that other parts of the portal add to a dashboard once they hold data.

Whistles (吹哨报到), meetings and their action items, the volunteer corps and the
buildings without a responsible party member (党员包楼) and the livelihood project list
(民生项目清单) each answer through their own selectors. A section appears only when its
figures are not all zero — never with placeholder numbers — and each costs one cheap
"is there anything?" query when empty, a fixed few when not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases import rates
from cases.rates import RATE_TZ
from governance.coordination import selectors as coordination
from governance.models import Meeting, Project
from governance.projects import selectors as projects
from volunteers import selectors as volunteers

from ..formats import percent
from .selectors import WORKER_LEVELS


@dataclass
class Figure:
    label: str | Promise
    value: int | str
    url: str = ""


@dataclass
class Section:
    key: str
    title: str | Promise
    figures: list[Figure] = field(default_factory=list)
    headers: list[str | Promise] = field(default_factory=list)
    rows: list[list[object]] = field(default_factory=list)  # a table under the figures

    @property
    def has_data(self) -> bool:
        return any(figure.value not in (0, "", None) for figure in self.figures) or bool(self.rows)


def _url(name: str, **params) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


def _month_range(board) -> tuple[datetime, datetime]:
    return rates.month_bounds(board.month)


def whistles(user, board) -> Section | None:
    """吹哨报到: whistles blown in the month under the unit, reports on time, each department's answer."""
    report = coordination.whistle_month_report(board.unit, board.month, now=board.now)
    if report is None:
        return None
    total = report.total
    return Section(
        "whistles", _("Whistles and reports"),
        figures=[
            Figure(_("Whistles blown"), total.whistles, _url("coordination:whistles")),
            Figure(_("Cases with a whistle"), f"{total.whistled_cases} ({percent(total.whistle_rate)})"),
            Figure(_("Departments and partners summoned"), total.summoned),
            Figure(_("Reported on time"), percent(total.on_time_rate)),
            Figure(_("Reported late"), total.late),
            Figure(_("Not reported"), total.missing),
        ],
        headers=[_("Department"), _("Summoned"), _("Reported on time"), _("Not reported"), _("Average rating")],
        rows=[
            [row.name, row.summoned, percent(row.on_time_rate), row.missing,
             row.average_rating_display if row.average_rating_display is not None else "—"]
            for row in report.departments
        ],
    )


def meetings(user, board) -> Section | None:
    """议事协商: meetings held in the month, those planned, and action items still open or overdue."""
    unit = board.unit
    start, end = _month_range(board)
    # Only meetings from the month's start or from now, and unfinished items, are read: both
    # tables keep every meeting and item ever held (the indexes on start and on open items).
    held = coordination.visible_meetings(user).filter(
        unit_path__startswith=unit.path, starts_at__gte=min(start, board.now)
    ).aggregate(
        held=Count("pk", filter=Q(status=Meeting.Status.HELD, starts_at__gte=start, starts_at__lt=end)),
        planned=Count("pk", filter=Q(status=Meeting.Status.PLANNED, starts_at__gte=board.now)),
    )
    items = coordination.visible_action_items(user).filter(unit_path__startswith=unit.path).exclude(
        status__in=coordination.ActionItem.FINISHED
    ).aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=coordination.overdue_action_q(board.now.astimezone(RATE_TZ).date())),
    )
    return Section(
        "meetings", _("Deliberation meetings and action items"),
        figures=[
            Figure(_("Meetings held this month"), held["held"], _url("coordination:meetings", when="past")),
            Figure(_("Meetings planned"), held["planned"], _url("coordination:meetings", when="upcoming")),
            Figure(_("Action items open"), items["open"], _url("coordination:action_items", show="open")),
            Figure(_("Action items overdue"), items["overdue"], _url("coordination:action_items", show="overdue")),
        ],
    )


def volunteer_corps(user, board) -> Section | None:
    """The volunteer corps: active volunteers and party members, person-times and hours in the month."""
    unit = board.unit
    period = volunteers.Period(start=board.month, end=rates.next_month(board.month))
    overall = volunteers.corps_totals(user, unit, period)
    last_day = rates.next_month(board.month) - timedelta(days=1)
    totals = _url("volunteers:totals", unit=unit.code, start=board.month.isoformat(), end=last_day.isoformat())
    return Section(
        "volunteers", _("Volunteers"),
        figures=[
            Figure(_("Active volunteers"), overall.volunteers, _url("volunteers:roster")),
            Figure(_("Party members among them"), overall.party_members),
            Figure(_("Person-times this month"), overall.times, totals),
            Figure(_("Service hours this month"), overall.hours if overall.minutes else 0, totals),
        ],
    )


def buildings_without_party_member(user, board) -> Section | None:
    """党员包楼, on community and grid pages: buildings nobody answers for yet (once the scheme runs here)."""
    unit = board.unit
    if unit.level not in WORKER_LEVELS:
        return None
    if not volunteers.live_assignments().filter(building__unit__path__startswith=unit.path).exists():
        return None
    buildings = volunteers.buildings_without_party_member(user, unit)
    first = list(buildings[:10])
    link = _url("volunteers:buildings", unit=unit.code)
    return Section(
        "party_buildings", _("Buildings without a responsible party member"),
        figures=[Figure(_("Buildings without one"), buildings.count() if len(first) == 10 else len(first), link)],
        headers=[_("Building"), _("Grid or community")],
        rows=[[building.name, building.unit.name] for building in first],
    )


def project_list(user, board) -> Section | None:
    """民生项目清单: items open, overdue and without this month's update; the year's on-time rate."""
    unit = board.unit
    if not Project.objects.filter(unit_path__startswith=unit.path).exists():
        return None
    summary = projects.dashboard_summary(unit, board.month, today=board.now.astimezone(RATE_TZ).date())
    year = summary.year
    return Section(
        "projects", _("Livelihood project list"),
        figures=[
            Figure(_("Items open"), summary.open, _url("projects:list", unit=unit.code)),
            Figure(_("Past their deadline"), summary.overdue),
            Figure(_("No update this month"), summary.flagged, _url("projects:list", unit=unit.code, flagged="on")),
            Figure(_("Done this month"), summary.done_in_month),
            Figure(_("On time in %(year)s") % {"year": year.year}, percent(year.rate),
                   _url("projects:list", unit=unit.code, year=year.year)),
        ],
    )


Provider = Callable[[object, object], Section | None]
PROVIDERS: list[Provider] = [whistles, meetings, project_list, volunteer_corps, buildings_without_party_member]


def for_dashboard(user, board) -> list[Section]:
    """The sections with data for this dashboard (each provider runs a fixed number of queries)."""
    found = (provider(user, board) for provider in PROVIDERS)
    return [section for section in found if section is not None and section.has_data]

