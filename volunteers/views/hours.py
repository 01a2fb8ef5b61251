"""Hours and person-times: a unit's ledger and totals, and the street / 工委 overview."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from communities.selectors import visible_children

from .. import selectors
from .common import page_of, period_form


@require_safe
@login_required
@permission_required("volunteers.view_hoursentry", raise_exception=True)
def hours(request: HttpRequest) -> HttpResponse:
    form, period, unit = period_form(request)
    context = {"form": form, "unit": unit}
    if unit is not None:
        ledger = selectors.ledger_under(request.user, unit, period)
        overall, _rows = selectors.totals_by_unit(request.user, unit, [], period)
        context.update(
            overall=overall,
            people=selectors.totals_by_volunteer(request.user, unit, period),
            teams=selectors.totals_by_team(request.user, unit, period),
            months=selectors.totals_by_month(selectors.ledger_under(request.user, unit, selectors.Period())),
            page=page_of(request, ledger.select_related("volunteer", "unit", "team", "created_by").order_by("-served_on", "-pk")),
        )
    return render(request, "volunteers/hours.html", context)


@require_safe
@login_required
@permission_required("volunteers.view_hoursentry", raise_exception=True)
def totals(request: HttpRequest) -> HttpResponse:
    form, period, unit = period_form(request)
    context = {"form": form, "unit": unit}
    if unit is not None:
        children = visible_children(request.user, [unit])[unit.pk]
        overall, by_child = selectors.totals_by_unit(request.user, unit, children, period)
        context.update(
            overall=overall,
            children=[(child, by_child[child.pk]) for child in children],
            kinds=selectors.totals_by_team_kind(request.user, unit, period),
        )
    return render(request, "volunteers/totals.html", context)
