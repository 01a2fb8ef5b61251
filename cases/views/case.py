"""The case page (/cases/<code>/), its POST actions and its photos."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST, require_safe

from communities import panels
from communities.selectors import visible_units

from .. import selectors, services
from ..models import Attachment, Case, ContactRecord, ExtensionRequest, ReturnVisit, Supervision
from ..queries_staff import deadline_of, labelled, with_deadlines
from ..services import rules
from ..uploads import private_file_response
from .actions import ACTION_LIST, ACTIONS, UNIT_ACTIONS, run_action


def _case(user, code: str) -> Case:
    """The case, its related rows and what the action menu asks about, in one query."""
    cases = selectors.visible_cases(user).select_related(
        "category", "unit", "location_unit", "building__unit", "dispatching_unit", "handler", "merged_into"
    ).annotate(
        has_pending_extension=Exists(ExtensionRequest.objects.filter(rules.pending_extension_q(), case=OuterRef("pk"))),
        has_open_supervision=Exists(Supervision.objects.filter(rules.open_supervision_q(), case=OuterRef("pk"))),
    )
    return rules.known_visible(get_object_or_404(cases, code=code), user)


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def detail(request: HttpRequest, code: str) -> HttpResponse:
    return render_case(request, _case(request.user, code))


def _action_forms(request: HttpRequest, case: Case, allowed: set[str]) -> dict[str, forms.Form]:
    units = visible_units(request.user).order_by("path")
    unit_list = list(units) if allowed & UNIT_ACTIONS else []
    return {
        name: ACTIONS[name].blank_form(request, case, units, unit_list)
        for name in allowed if name in ACTIONS
    }


def _history(case: Case) -> dict:
    events, photos = selectors.timeline_with_photos(case)
    return {
        "events": labelled(events),
        "co_handlings": case.co_handlings.select_related("unit").order_by("added_at"),
        "contacts": ContactRecord.objects.filter(case=case).select_related("by"),
        "supervisions": Supervision.objects.filter(case=case).select_related("unit", "by"),
        "extensions": ExtensionRequest.objects.filter(case=case).select_related("requested_by", "decided_by"),
        "return_visits": ReturnVisit.objects.filter(case=case).select_related("by"),
        "attachments": photos,
    }


MERGED_PAGE_SIZE = 20
DUPLICATE_PANEL_SIZE = 50


def _merged(request: HttpRequest, case: Case) -> dict:
    """The duplicates merged into the case: a count and a page of them (two queries whatever their number)."""
    summary = selectors.merged_summary(case)
    if not summary["count"]:
        return {"merged": summary}
    paginator = Paginator(selectors.merged_into(case), MERGED_PAGE_SIZE)
    paginator.count = summary["count"]  # known already: no COUNT query of its own
    return {"merged": summary, "merged_page": paginator.get_page(request.GET.get("merged"))}


def _duplicates(request: HttpRequest, case: Case) -> dict:
    """Likely duplicates, and the lead they are best merged into (perhaps older than the matches)."""
    if case.status == Case.Status.MERGED:
        return {"duplicates": [], "lead": None}
    matches = list(selectors.likely_duplicates(case, request.user)[: DUPLICATE_PANEL_SIZE + 1])
    lead = selectors.suggested_lead(case, request.user)
    return {
        "duplicates": with_deadlines(matches[:DUPLICATE_PANEL_SIZE]),
        "more_duplicates": len(matches) > DUPLICATE_PANEL_SIZE,
        "lead": lead,
        "to_merge": [c for c in [case, *matches[:DUPLICATE_PANEL_SIZE]] if lead and c.pk != lead.pk
                     and c.status in selectors.PROGRESS],
    }


def render_case(
    request: HttpRequest, case: Case, *, failed: tuple[str, forms.Form] | None = None,
    revealed_phone: str = "",
) -> HttpResponse:
    """The case page; ``failed`` is an action form that did not validate, shown open with its errors."""
    allowed = services.allowed_actions(case, request.user)
    action_forms = _action_forms(request, case, allowed)
    if failed:
        action_forms[failed[0]] = failed[1]
    context = {
        "case": case,
        "deadline": deadline_of(case),
        **_history(case),
        **_merged(request, case),
        **_duplicates(request, case),
        "forms": action_forms,
        "menu": [(a, action_forms[a.name]) for a in ACTION_LIST if a.menu and a.name in action_forms],
        "failed": failed[0] if failed else "",
        "revealed_phone": revealed_phone,
        "panels": panels.render("case_detail", request, case),
    }
    return render(request, "cases/detail.html", context)


@require_POST
@login_required
def case_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """One action of the catalogue: look up in scope, check its permission, run its form."""
    spec = ACTIONS[action]
    case = _case(request.user, code)
    if not spec.action.permitted(request.user):
        raise PermissionDenied
    form = spec.bound_form(request, case, visible_units(request.user))
    return run_action(request, case, spec, form, partial(render_case, request, case))


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def photo(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """A photo of a case the user can see (the resident's or staff's, public or not)."""
    case = get_object_or_404(selectors.visible_cases(request.user), code=code)
    attachment = get_object_or_404(Attachment, pk=pk, case=case)
    return private_file_response(
        attachment.file, content_type=attachment.content_type, filename=f"photo-{attachment.pk}.{attachment.extension}"
    )
