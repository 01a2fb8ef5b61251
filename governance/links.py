"""Addresses of the case queue, filtered to what a dashboard number counts.

The queue's filters are ``cases.filters.CaseFilter`` (``handled_in``, ``category``, ``q``,
``received_after``/``received_before``, ``overdue``) over one of ``cases.selectors.QUEUES``.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from urllib.parse import urlencode

from django.urls import get_script_prefix, reverse


ALL_CASES_QUEUE = "all"  # every case whatever its state: what the volume figures count
UNIT_PARAM = "handled_in"  # the dashboards count cases by handling unit, as this filter does


def queue_url(
    queue: str,
    *,
    place: int | None = None,
    received: tuple[date, date] | None = None,
    category: int | None = None,
    search: str = "",
    overdue: bool = False,
    located: bool = False,
) -> str:
    """The queue named ``queue``, filtered; ``place`` is a unit's primary key: the cases handled
    there, or with ``located`` those handled or located there (hotspots and themes count places)."""
    params: dict[str, object] = {"queue": queue}
    if place is not None:
        params["place" if located else UNIT_PARAM] = place
    if received is not None:
        params["received_after"], params["received_before"] = (day.isoformat() for day in received)
    if category is not None:
        params["category"] = category
    if search:
        params["q"] = search
    if overdue:
        params["overdue"] = "yes"
    return f"{_queue_path(get_script_prefix())}?{urlencode(params)}"


@lru_cache(maxsize=8)
def _queue_path(script_prefix: str) -> str:
    """The queue's address, reversed once (a dashboard links to it a hundred times)."""
    return reverse("cases:queue")


def received_url(
    place: int, first: date, last: date, *, category: int | None = None, search: str = "", located: bool = False
) -> str:
    """Cases received in the unit ``place`` between two days (both included)."""
    return queue_url(
        ALL_CASES_QUEUE, place=place, received=(first, last), category=category, search=search, located=located
    )
