"""Sections this app adds to earlier apps' pages (communities.panels), each a fixed number of queries."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.template.loader import render_to_string

from cases.models import Case
from communities import panels
from communities.models import Building
from communities.selectors import in_subtree

from ..models import AgendaItem, Poll, Whistle
from . import selectors


def case_panel(request: HttpRequest, case: Case) -> str | None:
    """Whistles blown on the case, meetings that discussed it, polls it led to (≤ 6 queries)."""
    user = request.user
    if not user.has_perm("governance.view_whistle"):
        return None
    own = in_subtree(user, case.unit_path)
    context = {
        "case": case,
        # Each list read only if the case row says it has one (``register_all``'s flags).
        "whistles": selectors.whistles_of_case(case) if panels.flag(case, "panel_whistles") else [],
        "meetings": selectors.meetings_of_case(user, case) if panels.flag(case, "panel_meetings") else [],
        "polls": list(selectors.visible_polls(user).filter(case=case).order_by("opens_on"))
        if panels.flag(case, "panel_polls") else [],
        "can_blow": own and case.status not in Case.FINISHED and user.has_perm("governance.add_whistle"),
        "can_meet": own and user.has_perm("governance.add_meeting"),
        "can_poll": own and case.building_id is not None and user.has_perm("governance.add_poll"),
    }
    return render_to_string("governance/coordination/_case_panel.html", context, request=request)


def building_panel(request: HttpRequest, building: Building) -> str | None:
    """Consent polls of this building (one query), and a way to open one."""
    user = request.user
    if not user.has_perm("governance.view_poll"):
        return None
    polls = list(selectors.poll_list(user).filter(buildings=building).order_by("-opens_on", "-pk"))
    can_poll = user.has_perm("governance.add_poll") and in_subtree(user, building.unit.path)
    if not polls and not can_poll:
        return None
    context = {"building": building, "polls": polls, "can_poll": can_poll}
    return render_to_string("governance/coordination/_building_panel.html", context, request=request)


def workspace_panel(request: HttpRequest, obj) -> str | None:
    """A liaison's open summonses, the report deadline first in mind (one query, none for others)."""
    user = request.user
    if not user.has_perm("governance.report_summons"):
        return None
    rows = list(selectors.department_summonses(user)[:20])
    for summons in rows:
        summons.state = selectors.report_state(summons)
    return render_to_string("governance/coordination/_workspace_panel.html", {"summonses": rows}, request=request)


def register_all() -> None:
    panels.register("case_detail", order=50)(case_panel)
    panels.register_flag("case_detail", "panel_whistles", lambda: Exists(Whistle.objects.filter(case=OuterRef("pk"))))
    panels.register_flag("case_detail", "panel_meetings", lambda: Exists(AgendaItem.objects.filter(case=OuterRef("pk"))))
    panels.register_flag("case_detail", "panel_polls", lambda: Exists(Poll.objects.filter(case=OuterRef("pk"))))
    panels.register("building_detail", order=50)(building_panel)
    panels.register("workspace", order=20)(workspace_panel)
