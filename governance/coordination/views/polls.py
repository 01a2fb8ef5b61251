"""Consent poll pages: the list, opening one, the result with its arithmetic, ballots, the visit list."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.pages import submit
from cases.selectors import visible_cases

from .. import selectors, services
from ...models import Ballot, Poll
from ..forms import BallotForm, CorrectionForm, PollForm, own_buildings
from .common import page_of


@require_safe
@login_required
@permission_required("governance.view_poll", raise_exception=True)
def poll_list(request: HttpRequest) -> HttpResponse:
    polls = selectors.poll_list(request.user).order_by("-opens_on", "-pk")
    return render(request, "governance/coordination/poll_list.html", {"page": page_of(request, polls)})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.add_poll", raise_exception=True)
def poll_new(request: HttpRequest) -> HttpResponse:
    initial = {"case": request.GET.get("case", "")}
    if building := own_buildings(request.user).filter(pk=_int(request.GET.get("building"))).first():
        initial["buildings"] = [building.pk]
    form = PollForm(request.POST or None, user=request.user, initial=initial)
    done = submit(
        request, form, lambda: _open(request, form),
        _("Poll opened: the households of the electorate are listed for visits."), lambda poll: poll,
    )
    return done or render(request, "governance/coordination/poll_form.html", {"form": form})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _open(request: HttpRequest, form: PollForm) -> Poll:
    data = form.cleaned_data
    code = (data["case"] or "").strip().upper()
    case = visible_cases(request.user).filter(code=code).first() if code else None
    if code and case is None:
        raise ValidationError({"case": _("No case with this tracking code is visible to you.")})
    return services.open_poll(
        title=data["title"], question=data["question"], buildings=data["buildings"],
        stairwell_numbers=data["stairwell_numbers"], rule=data["rule"], thresholds=form.thresholds(),
        opens_on=data["opens_on"], closes_on=data["closes_on"], case=case, by=request.user,
    )


def _poll(request: HttpRequest, pk: int) -> Poll:
    return get_object_or_404(selectors.visible_polls(request.user).select_related("unit", "case", "closed_by"), pk=pk)


def render_poll(request: HttpRequest, poll: Poll, *, ballot_form: forms.Form | None = None) -> HttpResponse:
    progress = selectors.poll_progress(poll)
    to_visit = [e for stairwell in progress for e in stairwell.to_visit]
    may_collect = services.may_collect(request.user, poll) and poll.status == Poll.Status.OPEN
    initial = {"elector": _int(request.GET.get("elector"))}
    context = {
        "poll": poll,
        "outcome": selectors.poll_outcome(poll),
        "progress": progress,
        "ballots": selectors.ballot_history(poll),
        "form": ballot_form or (BallotForm(poll=poll, electors=to_visit, initial=initial) if may_collect else None),
        "may_collect": may_collect,
        "may_close": services.may_close(request.user, poll) and poll.status == Poll.Status.OPEN,
        "buildings": poll.buildings.all(),
    }
    return render(request, "governance/coordination/poll_detail.html", context)


@require_safe
@login_required
@permission_required("governance.view_poll", raise_exception=True)
def poll_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_poll(request, _poll(request, pk))


@require_POST
@login_required
@permission_required("governance.record_ballot", raise_exception=True)
def ballot_new(request: HttpRequest, pk: int) -> HttpResponse:
    poll = _poll(request, pk)
    form = BallotForm(request.POST, poll=poll)
    done = submit(
        request, form, lambda: _record(request, poll, form.cleaned_data), _("Ballot recorded."), poll,
        refusal_field="elector",
    )
    return done or render_poll(request, poll, ballot_form=form)


def _record(request: HttpRequest, poll: Poll, d: dict) -> Ballot:
    return services.record_ballot(
        poll=poll, elector=d["elector"], choice=d["choice"], method=d["method"],
        collected_at=d["collected_at"], collector_name=d["collector_name"], witness=d["witness"],
        signed_by=d["signed_by"], note=d["note"], by=request.user,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.record_ballot", raise_exception=True)
def ballot_correct(request: HttpRequest, pk: int, ballot_pk: int) -> HttpResponse:
    """Correct a household's ballot; the reason is kept with the replaced ballot in the history."""
    poll = _poll(request, pk)
    ballot = get_object_or_404(Ballot.objects.select_related("elector"), pk=ballot_pk, poll=poll)
    initial = {"choice": ballot.choice, "method": ballot.method, "witness": ballot.witness}
    form = CorrectionForm(request.POST or None, initial=initial)
    done = submit(
        request, form, lambda: _correct(request, ballot, form.cleaned_data),
        _("Ballot corrected; the earlier one is kept in the history."), poll, refused_to=poll,
    )
    context = {"poll": poll, "ballot": ballot, "form": form}
    return done or render(request, "governance/coordination/ballot_correct.html", context)


def _correct(request: HttpRequest, ballot: Ballot, d: dict) -> Ballot:
    return services.correct_ballot(
        ballot=ballot, choice=d["choice"], reason=d["reason"], method=d["method"],
        collected_at=d["collected_at"], collector_name=d["collector_name"], witness=d["witness"], by=request.user,
    )


@require_safe
@login_required
@permission_required("governance.view_poll", raise_exception=True)
def visit_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The door-to-door list: households not reached yet, by unit and floor (printable)."""
    poll = _poll(request, pk)
    progress = selectors.poll_progress(poll)
    context = {"poll": poll, "stairwells": [s for s in progress if s.to_visit], "progress": progress}
    return render(request, "governance/coordination/visit_list.html", context)


@require_POST
@login_required
@permission_required("governance.close_poll", raise_exception=True)
def poll_close(request: HttpRequest, pk: int) -> HttpResponse:
    poll = _poll(request, pk)
    return submit(request, None, lambda: services.close_poll(poll=poll, by=request.user),
                  _("Poll closed: the result is frozen."), poll)
