"""What the staff pages share: the unit a page is about, pages of rows, where a button goes back to."""

from __future__ import annotations

from datetime import date

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from communities.models import Unit
from communities.pages import PAGE_SIZE, page_of  # noqa: F401  (re-exported to the views)
from communities.selectors import tree_roots, visible_units

from ..forms import PeriodForm
from ..selectors import Period


def focus_unit(request: HttpRequest) -> Unit | None:
    """The unit named by ``?unit=<code>`` (404 outside the user's tree), else the user's own top unit."""
    code = request.GET.get("unit", "").strip()
    if code:
        try:
            return visible_units(request.user).get(code=code)
        except Unit.DoesNotExist:
            raise Http404 from None
    roots = tree_roots(request.user)
    return roots[0] if roots else None


def period_form(request: HttpRequest) -> tuple[PeriodForm, Period, Unit | None]:
    """The totals pages' filter: a unit of the user's tree and a date range (default: this year)."""
    units = visible_units(request.user).order_by("path")
    data = request.GET if request.GET else None
    form = PeriodForm(data, units=units)
    period = Period(start=date(timezone.localdate().year, 1, 1))
    unit = focus_unit(request) if "unit" in request.GET else None
    if form.is_valid():
        period = Period(start=form.cleaned_data["start"], end=_exclusive(form.cleaned_data["end"]))
        unit = form.cleaned_data["unit"] or unit
    if unit is None:
        roots = tree_roots(request.user)
        unit = roots[0] if roots else None
    if not form.is_bound:
        form = PeriodForm(initial={"start": period.start, "unit": unit.code if unit else None}, units=units)
    return form, period, unit


def _exclusive(end: date | None) -> date | None:
    return None if end is None else date.fromordinal(end.toordinal() + 1)


def back_to(request: HttpRequest, default: str) -> str:
    """The form's ``next`` if it is a path on this site, else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default
