"""Sections the volunteer corps adds to earlier apps' pages (``communities.panels``).

Registered in ``VolunteersConfig.ready``. Each runs a fixed number of queries.
- "case_detail": the building's responsible party members (党员包楼), the suggestion the case
  came from, the case's volunteer tasks, and the hand-over form with suggested volunteers.
- "building_detail": the building's responsible party members.
- "workspace": for a volunteer who signs in (no staff post), the way to their own page.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.template.loader import render_to_string

from cases.models import Case
from communities.models import Building
from communities.panels import flag, register, register_flag, register_related
from communities.selectors import posts_of

from . import selectors
from .forms import TaskForm
from .models import BuildingAssignment, Suggestion, Task


def _may_see_corps(request: HttpRequest) -> bool:
    return request.user.has_perm("volunteers.view_volunteer")


def _task_form(request: HttpRequest, case: Case) -> tuple[TaskForm | None, list, list, bool]:
    if case.status in Case.FINISHED or not request.user.has_perm("volunteers.assign_task"):
        return None, [], [], False
    skills = selectors.skills_for(case)
    candidates = selectors.suggest_volunteers(case, skills=skills)
    # Nobody in reach has the skills: the nearest volunteers are offered, so the work still gets done.
    nearest_only = bool(skills) and not any(candidate.matched for candidate in candidates)
    form = getattr(request, "volunteer_task_form", None) or TaskForm(volunteers=selectors.task_candidates(case))
    return form, candidates, skills, nearest_only


def _origin(case: Case) -> Suggestion | None:
    """The suggestion the case came from: joined with the case page's row (no query of its own)."""
    try:
        return case.suggestion
    except Suggestion.DoesNotExist:
        return None


@register("case_detail", order=50)
def case_panel(request: HttpRequest, case: Case) -> str | None:
    if not _may_see_corps(request):
        return None
    form, candidates, skills, nearest_only = _task_form(request, case)
    context = {
        "case": case,
        # Each read only if the case row says there is one (the flags registered below).
        "party_members": selectors.party_members_of(case.building)
        if case.building_id and flag(case, "panel_party_members") else [],
        "origin": _origin(case),
        "tasks": list(Task.objects.filter(case=case).select_related("volunteer").order_by("assigned_at", "pk"))
        if flag(case, "panel_tasks") else [],
        "form": form, "candidates": candidates, "skills": skills, "nearest_only": nearest_only,
    }
    return render_to_string("volunteers/panels/case.html", context, request=request)


register_flag("case_detail", "panel_party_members", lambda: Exists(
    BuildingAssignment.objects.filter(building=OuterRef("building_id"), ended_on__isnull=True)
))
register_flag("case_detail", "panel_tasks", lambda: Exists(Task.objects.filter(case=OuterRef("pk"))))
register_related("case_detail", "suggestion__volunteer")


@register("building_detail", order=50)
def building_panel(request: HttpRequest, building: Building) -> str | None:
    if not _may_see_corps(request):
        return None
    context = {"building": building, "party_members": selectors.party_members_of(building)}
    return render_to_string("volunteers/panels/building.html", context, request=request)


@register("workspace", order=50)
def workspace_panel(request: HttpRequest, obj=None) -> str | None:
    """Staff have posts and their own tools; a volunteer's login lands here after signing in."""
    if posts_of(request.user):
        return None
    volunteer = selectors.volunteer_of(request.user)
    if volunteer is None:
        return None
    return render_to_string("volunteers/panels/workspace.html", {"volunteer": volunteer}, request=request)
