"""Work queues (tabs, filters, search, pages of 50) and their CSV / .xlsx exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from communities.pages import PAGE_SIZE, page_of

from .. import search, selectors
from ..filters import CaseFilter
from ..queries_staff import SearchPaginator, default_queue, queue_rows, with_deadlines
from . import exports


def _queue_name(request: HttpRequest) -> str:
    name = request.GET.get("queue") or default_queue(request.user)
    if name not in dict(selectors.QUEUES):
        raise Http404
    return name


def filtered_queue(request: HttpRequest) -> tuple[str, CaseFilter]:
    """The queue named in the query string (or the role's default), with its filters applied."""
    name = _queue_name(request)
    return name, CaseFilter(request.GET or None, queryset=selectors.queue(request.user, name), request=request)


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    name, case_filter = filtered_queue(request)
    rows = queue_rows(case_filter.qs)
    term = request.GET.get("q", "").strip()
    if term:
        newest = None if search.is_short(term) else lambda: case_filter.qs_searching_newest(search.NEWEST_FIRST)
        page = SearchPaginator(rows, PAGE_SIZE, newest=newest).get_page(request.GET.get("page"))
    else:
        page = page_of(request, rows)
    context = {
        "queues": selectors.QUEUES,
        "current": name,
        "filter": case_filter,
        "page": page,
        "short_search": search.is_short(term),
        "short_search_window": f"{search.SHORT_TERM_WINDOW:,}",
        "rows": with_deadlines(page.object_list),
    }
    return render(request, "cases/queue.html", context)


@require_safe
@login_required
@permission_required("cases.export_case", raise_exception=True)
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The current queue with its filters, every page of it, phones masked."""
    name, case_filter = filtered_queue(request)
    cases = queue_rows(case_filter.qs)
    if fmt == "xlsx":
        return exports.xlsx_response(cases, queue=name)
    return exports.csv_response(cases, queue=name)
