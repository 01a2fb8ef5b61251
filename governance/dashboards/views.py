"""The tier dashboards, their .xlsx export and the printable monthly report (成绩单).

A unit is looked up through ``selectors.dashboard_units``: another subtree's unit, or a
tier above the user's own, answers 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from cases import rates
from communities.models import Unit
from communities.selectors import breadcrumbs

from . import exports, presentation, sections, selectors
from ..months import chosen_month


def _board(request: HttpRequest, code: str):
    unit = get_object_or_404(selectors.dashboard_units(request.user), code=code)
    month, form = chosen_month(request.GET)
    return selectors.dashboard(request.user, unit, month), form


def _context(request: HttpRequest, board, form) -> dict:
    month = board.month
    following = rates.next_month(month)
    return {
        "board": board,
        "unit": board.unit,
        "form": form,
        "month_label": rates.month_label(month),
        "previous_url": presentation.dashboard_url(board.unit, rates.previous_month(month)),
        "next_url": presentation.dashboard_url(board.unit, following) if following <= rates.current_month() else "",
        "breadcrumbs": breadcrumbs(request.user, board.unit),
        "sections": sections.for_dashboard(request.user, board),
        **presentation.tables(board),
    }


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    """/dashboards/ opens the dashboard of the user's highest unit."""
    unit = selectors.top_unit(request.user)
    if unit is None:
        raise Http404
    return redirect("dashboards:unit", code=unit.code)


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def unit_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    board, form = _board(request, code)
    return render(request, "governance/dashboards/dashboard.html", _context(request, board, form))


@require_safe
@login_required
@permission_required("cases.export_case", raise_exception=True)
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The page's tables as an .xlsx workbook (phones masked)."""
    board, _form = _board(request, code)
    return exports.xlsx_response(board, sections.for_dashboard(request.user, board))


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def report(request: HttpRequest, code: str) -> HttpResponse:
    """The printable A4 monthly report: the ranking and the trends, no navigation."""
    board, form = _board(request, code)
    context = _context(request, board, form)
    context["level_label"] = Unit.Level(board.unit.level).label
    return render(request, "governance/dashboards/report.html", context)
