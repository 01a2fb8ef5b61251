"""Work queues (tabs, filters, search, pages of 50) and their CSV / .xlsx exports."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import cached_property
from django.shortcuts import render
from django.views.decorators.http import require_safe

from communities.pages import PAGE_SIZE, page_of

from .. import search, selectors
from ..filters import CaseFilter
from ..queries_staff import default_queue, queue_rows, queue_rows_of, with_deadlines
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


# A search counts its hits up to here and then says "1,000+": a term found in half the cases
# must not cost a count of them all.
SEARCH_COUNT_CAP = 1000


class SearchPaginator(Paginator):
    """A search's pages: a count that stops at ``cap`` + 1 rows (``capped`` then says there are
    more); each page's keys read first, then its rows by key (``queue_rows_of``).

    When the capped count says the term is common, the keys are first looked for in ``newest``
    (the same cases, matched among the newest by a walk in date order, which stops at the page);
    through the text index (every match read, then sorted) only if the term is rare, or the walk
    does not fill the page. See ``cases.search``. A short term's rows are only walked anyway
    (no ``newest``)."""

    def __init__(self, rows, per_page: int, cap: int, *, newest: Callable[[], QuerySet] | None = None) -> None:
        super().__init__(rows, per_page)
        self.cap = cap
        self.newest = newest

    @cached_property
    def count(self) -> int:
        # Unordered: the database stops at the cap in whatever order it finds rows (sorting
        # first would read every match).
        return self.object_list.order_by()[: self.cap + 1].count()

    def page(self, number):
        # A page past a capped count is still full (Paginator would cut it at the count).
        number = self.validate_number(number)
        bottom, top = (number - 1) * self.per_page, number * self.per_page
        keys: list[int] = []
        if self.capped and self.newest is not None:
            keys = list(self.newest().values_list("pk", flat=True)[bottom:top])
        if len(keys) < self.per_page and self.count:
            keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(queue_rows_of(keys), number, self)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def cap_label(self) -> str:
        return f"{self.cap:,}"


@require_safe
@login_required
@permission_required("cases.view_case", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    name, case_filter = filtered_queue(request)
    rows = queue_rows(case_filter.qs)
    term = request.GET.get("q", "").strip()
    if term:
        newest = None if search.is_short(term) else lambda: case_filter.qs_searching_newest(search.NEWEST_FIRST)
        page = SearchPaginator(rows, PAGE_SIZE, SEARCH_COUNT_CAP, newest=newest).get_page(request.GET.get("page"))
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
