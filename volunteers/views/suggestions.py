"""建言献策: volunteers' suggestions, answered, or turned into a case in one step."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.pages import submit
from cases.selectors import visible_cases
from cases.services import may_take_in
from communities.selectors import visible_buildings

from .. import selectors, services
from ..forms import AnswerForm, SuggestionForm, ToCaseForm
from ..models import Suggestion, Volunteer
from .common import focus_unit, page_of

STATUS_TABS = [("open", _("Waiting for an answer")), ("answered", _("Answered")), ("case", _("Turned into a case")),
               ("all", _("All"))]


@require_safe
@login_required
@permission_required("volunteers.view_suggestion", raise_exception=True)
def suggestions(request: HttpRequest) -> HttpResponse:
    current = request.GET.get("status", "open")
    if current not in dict(STATUS_TABS):
        current = "open"
    rows = selectors.visible_suggestions(request.user)
    unit = focus_unit(request) if request.GET.get("unit") else None
    if unit is not None:
        rows = rows.filter(unit_path__startswith=unit.path)
    if current != "all":
        rows = rows.filter(status=current)
    context = {"tabs": STATUS_TABS, "current": current, "unit": unit,
               "page": page_of(request, rows.order_by("-submitted_at", "-pk"))}
    return render(request, "volunteers/suggestions.html", context)


def _suggestion_form(request: HttpRequest, data=None) -> SuggestionForm:
    volunteers = selectors.visible_volunteers(request.user).filter(
        status__in=[Volunteer.Status.ACTIVE, Volunteer.Status.PAUSED], anonymised_at__isnull=True
    ).order_by("unit_path", "name")
    return SuggestionForm(
        data, volunteers=volunteers, buildings=visible_buildings(request.user).order_by("unit__path", "name"),
        initial={"volunteer": request.GET.get("volunteer")},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("volunteers.add_suggestion", raise_exception=True)
def add(request: HttpRequest) -> HttpResponse:
    form = _suggestion_form(request, request.POST or None)
    done = submit(
        request, form, lambda: services.submit_suggestion(by=request.user, **form.cleaned_data),
        _("The suggestion was recorded."), lambda suggestion: suggestion,
    )
    return done or render(request, "volunteers/suggestion_form.html", {"form": form})


def _suggestion(request: HttpRequest, pk: int) -> Suggestion:
    return get_object_or_404(selectors.visible_suggestions(request.user), pk=pk)


@require_safe
@login_required
@permission_required("volunteers.view_suggestion", raise_exception=True)
def suggestion(request: HttpRequest, pk: int) -> HttpResponse:
    return render_suggestion(request, _suggestion(request, pk))


def render_suggestion(request: HttpRequest, item: Suggestion, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    context = {
        "suggestion": item,
        "answer_form": AnswerForm(),
        "case_form": ToCaseForm(initial={"title": item.title}),
        "may_make_case": may_take_in(user),
        # A new case waits at the street's dispatch desk: a community may not open it yet.
        "case_visible": bool(item.case_id) and visible_cases(user).filter(pk=item.case_id).exists(),
        **(forms or {}),
    }
    return render(request, "volunteers/suggestion_detail.html", context, status=status)


@require_POST
@login_required
@permission_required("volunteers.answer_suggestion", raise_exception=True)
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    item = _suggestion(request, pk)
    form = AnswerForm(request.POST)
    done = submit(
        request, form,
        lambda: services.answer_suggestion(suggestion=item, by=request.user, answer=form.cleaned_data["answer"]),
        _("The answer was saved."), item, refused_to=item,
    )
    return done or render_suggestion(request, item, forms={"answer_form": form}, status=400)


@require_POST
@login_required
@permission_required("volunteers.answer_suggestion", raise_exception=True)
def to_case(request: HttpRequest, pk: int) -> HttpResponse:
    item = _suggestion(request, pk)
    form = ToCaseForm(request.POST)
    done = submit(
        request, form, lambda: services.suggestion_to_case(suggestion=item, by=request.user, **form.cleaned_data),
        lambda case: _("Case %(code)s was registered from this suggestion.") % {"code": case.code},
        item, refused_to=item,
    )
    return done or render_suggestion(request, item, forms={"case_form": form}, status=400)
