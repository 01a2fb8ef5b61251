"""Reads of households needing attention and their visits: personal data, staff in scope only.

Scoped like every object (``coordination.selectors.scoped``, on the household's grid or
community path): a sibling grid's household is simply not there; a department liaison sees
none.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Max, Min, Q, QuerySet

from communities.models import Unit
from communities.selectors import scope

from ..models import CareNeed, Visit

VISIT_RELATED = (
    "need", "need__unit", "need__household", "need__household__stairwell", "need__household__stairwell__building",
    "assigned_to", "volunteer", "recorded_by", "case",
)


def visible_needs(user) -> QuerySet[CareNeed]:
    return scope(CareNeed.objects.all(), user, path_field="unit_path")


def visible_visits(user) -> QuerySet[Visit]:
    return scope(Visit.objects.all(), user, path_field="need__unit_path")


def open_visits(user, *, today: date, overdue_only: bool = False) -> QuerySet[Visit]:
    """Visits not yet paid, the longest overdue first (one query, rows joined)."""
    visits = visible_visits(user).filter(visited_on__isnull=True, need__active=True)
    if overdue_only:
        visits = visits.filter(due_on__lt=today)
    return visits.select_related(*VISIT_RELATED).order_by("due_on", "pk")


def recent_visits(user, *, limit: int = 20) -> list[Visit]:
    rows = visible_visits(user).filter(visited_on__isnull=False).select_related(*VISIT_RELATED)
    return list(rows.order_by("-visited_on", "-pk")[:limit])


def need_list(user) -> QuerySet[CareNeed]:
    """Households needing attention with their next visit due and their last visit (one query)."""
    return (
        visible_needs(user)
        .filter(active=True)
        .select_related("unit", "household", "household__stairwell", "household__stairwell__building")
        .annotate(
            next_due=Min("visits__due_on", filter=Q(visits__visited_on__isnull=True)),
            last_visited=Max("visits__visited_on"),
        )
        .order_by("unit__path", "household__stairwell__building__name", "household__room")
    )


def overdue_counts(unit: Unit, *, today: date) -> int:
    """Overdue visits under a unit (for a grid's or community's dashboard; one query)."""
    return Visit.objects.filter(
        need__unit_path__startswith=unit.path, need__active=True, visited_on__isnull=True, due_on__lt=today
    ).count()


def history(visit: Visit) -> list[Visit]:
    """The household's earlier visits, newest first (one query)."""
    return list(
        Visit.objects.filter(need_id=visit.need_id, visited_on__isnull=False)
        .exclude(pk=visit.pk)
        .select_related("recorded_by", "volunteer", "case")
        .order_by("-visited_on", "-pk")[:12]
    )
