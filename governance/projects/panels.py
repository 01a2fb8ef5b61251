"""Sections the project list adds to earlier apps' pages (communities.panels), a fixed number of queries each."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from cases.models import Case
from communities import panels
from communities.models import Unit

from ..formats import percent
from ..models import Project
from . import selectors


def case_panel(request: HttpRequest, case: Case) -> str | None:
    """The list items this case is linked to, with their progress (one query)."""
    if not request.user.has_perm("governance.view_project") or not panels.flag(case, "panel_projects"):
        return None
    items = list(selectors.project_rows(selectors.visible_projects(request.user).filter(cases=case)).order_by("deadline"))
    if not items:
        return None
    return render_to_string("governance/projects/_case_panel.html", {"items": items}, request=request)


def unit_panel(request: HttpRequest, unit: Unit) -> str | None:
    """The unit's list in figures: open, overdue, no update this month, this year's on-time rate (two queries)."""
    if not request.user.has_perm("governance.view_project"):
        return None
    summary = selectors.dashboard_summary(unit, timezone.localdate())
    if not (summary.open or summary.year.due):
        return None
    context = {"unit": unit, "summary": summary, "on_time": percent(summary.year.rate)}
    return render_to_string("governance/projects/_unit_panel.html", context, request=request)


def register_all() -> None:
    panels.register("case_detail", order=60)(case_panel)
    panels.register_flag("case_detail", "panel_projects", lambda: Exists(
        Project.cases.through.objects.filter(case_id=OuterRef("pk"))
    ))
    panels.register("unit_detail", order=60)(unit_panel)
