"""The case page (/cases/<code>/), its POST actions and its photos."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST, require_safe

from communities import panels
from communities.selectors import unit_choices, visible_units

from .. import selectors, services
from ..models import Attachment, Case
from ..queries_staff import case_page_rows, case_sections, deadline_of, remember_unread, with_deadlines
from ..services import rules
from ..uploads import private_file_response
from .actions import ACTION_LIST, ACTIONS, UNIT_ACTIONS, run_action


def _case(user, code: str) -> Case:
    case = get_object_or_404(case_page_rows(user), code=code)
    remember_unread(user, case)
    return rules.known_visible(case, user)


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def detail(request: HttpRequest, code: str) -> HttpResponse:
    return render_case(request, _case(request.user, code))


def _action_forms(request: HttpRequest, case: Case, allowed: set[str]) -> dict[str, forms.Form]:
    units = visible_units(request.user).order_by("path")
    unit_list = unit_choices(request.user) if allowed & UNIT_ACTIONS else []
    return {
        name: ACTIONS[name].blank_form(request, case, units, unit_list)
        for name in allowed if name in ACTIONS
    }


MERGED_PAGE_SIZE = 20
DUPLICATE_PANEL_SIZE = 50


def _merged(request: HttpRequest, case: Case) -> dict:
    """The duplicates merged into the case: a count and a page of them, with their callers' ratings
    (none if the case row counted none, else one query whatever their number)."""
    count = case.__dict__.get("merged_count")
    if count is None:
        count = selectors.merged_summary(case)["count"]
    if not count:
        return {"merged": {"count": 0}}
    paginator = Paginator(selectors.merged_into(case, with_ratings=True), MERGED_PAGE_SIZE)
    paginator.count = count  # known already: no COUNT query of its own
    page = paginator.get_page(request.GET.get("merged"))
    page.object_list = rows = list(page.object_list)
    first = rows[0] if rows else None  # get_page keeps within the pages, each with rows
    summary = {"count": count, "rated": getattr(first, "merged_rated", 0),
               "rated_resolved": getattr(first, "merged_rated_resolved", 0),
               "satisfied": getattr(first, "merged_satisfied", 0)}
    return {"merged": summary, "merged_page": page}


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
    history = case_sections(case)  # before the actions: it leaves the co-handling rows they ask about
    allowed = services.allowed_actions(case, request.user)
    action_forms = _action_forms(request, case, allowed)
    if failed:
        action_forms[failed[0]] = failed[1]
    context = {
        "case": case,
        "deadline": deadline_of(case),
        **history,
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
