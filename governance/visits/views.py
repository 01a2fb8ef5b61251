"""Home visit pages: overdue and coming visits, flagging a household, recording a visit, raising a case."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.pages import submit
from cases.refusals import IllegalTransition
from communities.selectors import in_subtree

from ..coordination.views.common import page_of
from ..models import Visit
from . import selectors, services
from .forms import NeedForm, RaiseCaseForm, RecordVisitForm


@require_safe
@login_required
@permission_required("governance.view_visit", raise_exception=True)
def visit_list(request: HttpRequest) -> HttpResponse:
    user, today = request.user, timezone.localdate()
    show_households = request.GET.get("show") == "households"
    context = {
        "show_households": show_households,
        "today": today,
        "page": page_of(request, selectors.open_visits(user, today=today)),
        "overdue": selectors.open_visits(user, today=today, overdue_only=True).count(),
        "needs": page_of(request, selectors.need_list(user)) if show_households else None,
        "recent": selectors.recent_visits(user),
    }
    return render(request, "governance/proactive/visit_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.add_careneed", raise_exception=True)
def need_new(request: HttpRequest) -> HttpResponse:
    form = NeedForm(request.POST or None, user=request.user)
    done = submit(
        request, form, lambda: _flag(request, form), _("Household flagged; its first visit is scheduled."),
        "proactive:visits",
    )
    return done or render(request, "governance/proactive/need_form.html", {"form": form})


def _flag(request: HttpRequest, form: NeedForm):
    data = form.cleaned_data
    return services.flag_need(
        household=form.household, kind=data["kind"], person_name=data["person_name"], phone=data["phone"],
        note=data["note"], visit_every_days=data["visit_every_days"], first_visit_on=data["first_visit_on"],
        by=request.user,
    )


def _visit(request: HttpRequest, pk: int) -> Visit:
    return get_object_or_404(selectors.visible_visits(request.user).select_related(*selectors.VISIT_RELATED), pk=pk)


def render_visit(request: HttpRequest, visit: Visit, *, revealed_phone: str = "", **forms) -> HttpResponse:
    user = request.user
    may_record = user.has_perm("governance.record_visit") and in_subtree(user, visit.need.unit.path)
    context = {
        "visit": visit,
        "may_reveal": may_record,  # the visit's own rule: who may visit the household may call it
        "revealed_phone": revealed_phone,
        "today": timezone.localdate(),
        "history": selectors.history(visit),
        "record_form": forms.get("record_form") or (
            RecordVisitForm(initial={"visited_on": timezone.localdate()})
            if may_record and visit.visited_on is None else None
        ),
        "case_form": forms.get("case_form") or (
            RaiseCaseForm() if may_record and visit.visited_on and not visit.case_id else None
        ),
    }
    return render(request, "governance/proactive/visit_detail.html", context)


@require_safe
@login_required
@permission_required("governance.view_visit", raise_exception=True)
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_visit(request, _visit(request, pk))


@require_POST
@login_required
@permission_required("governance.view_visit", raise_exception=True)
def visit_reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    try:
        phone = services.reveal_phone(visit=visit, by=request.user)
    except IllegalTransition as error:  # logged by the service
        messages.error(request, error.message)
        return redirect(visit)
    return render_visit(request, visit, revealed_phone=phone)  # shown on this response only


@require_POST
@login_required
@permission_required("governance.record_visit", raise_exception=True)
def visit_record(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    form = RecordVisitForm(request.POST)
    done = submit(
        request, form, lambda: services.record_visit(visit=visit, by=request.user, **form.cleaned_data),
        _("Visit recorded; the next one is scheduled."), visit, refused_to=visit,
    )
    return done or render_visit(request, visit, record_form=form)


@require_POST
@login_required
@permission_required("governance.record_visit", raise_exception=True)
def visit_raise_case(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    form = RaiseCaseForm(request.POST)
    # The case waits at the street's dispatch desk, perhaps out of the visitor's sight: stay here.
    done = submit(
        request, form, lambda: services.raise_case(visit=visit, by=request.user, **form.cleaned_data),
        lambda case: _("Case %(code)s raised from the visit.") % {"code": case.code}, visit, refused_to=visit,
    )
    return done or render_visit(request, visit, case_form=form)
