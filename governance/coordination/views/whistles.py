"""Whistle pages: the list, blowing one on a case, and one whistle with its summonses."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.models import Case
from cases.pages import submit
from cases.selectors import visible_cases

from .. import selectors, services
from ...models import Summons, Whistle
from ..forms import CommitmentForm, JustificationForm, ReportForm, ResponseRatingForm, WhistleForm
from .common import page_of


@require_safe
@login_required
@permission_required("governance.view_whistle", raise_exception=True)
def whistle_list(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("show") == "all"
    user = request.user
    context = {
        "page": page_of(request, selectors.whistle_list(user, active_only=not show_all)),
        "show_all": show_all,
        "summonses": list(selectors.department_summonses(user)) if user.has_perm("governance.report_summons") else [],
    }
    for summons in context["summonses"]:
        summons.state = selectors.report_state(summons)
    return render(request, "governance/coordination/whistle_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.add_whistle", raise_exception=True)
def blow(request: HttpRequest, code: str) -> HttpResponse:
    """Blow a whistle on one case: the reason, who is summoned, by when they must report."""
    case = get_object_or_404(visible_cases(request.user).select_related("unit"), code=code)
    form = WhistleForm(request.POST or None, user=request.user, case=case)
    done = submit(
        request, form, lambda: _blow(request, case, form),
        _("Whistle blown: those summoned have been told when to report."), lambda whistle: whistle, refused_to=case,
    )
    return done or render(request, "governance/coordination/whistle_form.html", {"case": case, "form": form})


def _blow(request: HttpRequest, case: Case, form: WhistleForm) -> Whistle:
    data = form.cleaned_data
    return services.blow_whistle(
        case=case, unit=data["unit"], reason=data["reason"], description=data["description"],
        departments=data["departments"], partners=data["partners"], report_within=form.report_within, by=request.user,
    )


def _whistle(request: HttpRequest, pk: int) -> Whistle:
    return get_object_or_404(
        selectors.visible_whistles(request.user).select_related("case", "unit", "blown_by"), pk=pk
    )


@require_safe
@login_required
@permission_required("governance.view_whistle", raise_exception=True)
def whistle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_whistle(request, _whistle(request, pk))


def _forms_for(request: HttpRequest, whistle: Whistle, summons: Summons, can_assess: bool) -> dict[str, forms.Form]:
    user = request.user
    is_open = whistle.case.status not in Case.FINISHED
    available: dict[str, forms.Form] = {}
    if is_open and summons.reported_at is None and services.may_report(user, summons):
        available["report"] = ReportForm(prefix=f"s{summons.pk}")
    if is_open and summons.reported_at and services.may_report(user, summons):
        available["commitment"] = CommitmentForm(prefix=f"s{summons.pk}", initial={"commitment": summons.commitment})
    if can_assess and summons.response_rating is None and summons.state != "waiting":
        available["rate"] = ResponseRatingForm(prefix=f"s{summons.pk}")
    if not summons.justification and services.speaks_for(user, summons):
        available["justify"] = JustificationForm(prefix=f"s{summons.pk}")
    return available


def render_whistle(request: HttpRequest, whistle: Whistle, *, failed: tuple[int, str, forms.Form] | None = None):
    summonses = selectors.summonses_of(whistle)
    can_assess = services.may_assess(request.user, whistle)
    for summons in summonses:
        summons.forms = _forms_for(request, whistle, summons, can_assess)
        if failed and failed[0] == summons.pk:
            summons.forms[failed[1]] = failed[2]
            summons.failed = failed[1]
    context = {"whistle": whistle, "case": whistle.case, "summonses": summonses, "is_open": whistle.case.status not in Case.FINISHED}
    return render(request, "governance/coordination/whistle_detail.html", context)


ACTIONS = {
    "report": (ReportForm, _("Report recorded."),
               lambda s, u, d: services.report(summons=s, by=u, presence=d["presence"], at=d["at"],
                                               reporter_name=d["reporter_name"], commitment=d["commitment"])),
    "commitment": (CommitmentForm, _("Saved."),
                   lambda s, u, d: services.update_commitment(summons=s, by=u, commitment=d["commitment"])),
    "rate": (ResponseRatingForm, _("Response rated."),
             lambda s, u, d: services.rate_response(summons=s, by=u, rating=d["rating"], comment=d["comment"])),
    "justify": (JustificationForm, _("Whistle rated."),
                lambda s, u, d: services.rate_justification(
                    summons=s, by=u, justification=d["justification"], comment=d["comment"])),
}


@require_POST
@login_required
@permission_required("governance.view_whistle", raise_exception=True)
def summons_action(request: HttpRequest, pk: int, summons_pk: int, action: str) -> HttpResponse:
    """One action on one summons: look up in scope, validate, call one service, message, back."""
    if action not in ACTIONS:
        raise Http404
    whistle = _whistle(request, pk)
    summons = get_object_or_404(Summons.objects.select_related("department", "partner"), pk=summons_pk, whistle=whistle)
    summons.whistle = whistle
    form_class, success, perform = ACTIONS[action]
    form = form_class(request.POST, prefix=f"s{summons.pk}")
    done = submit(
        request, form, lambda: perform(summons, request.user, form.cleaned_data), success, whistle, refused_to=whistle,
    )
    return done or render_whistle(request, whistle, failed=(summons.pk, action, form))
