"""Home visits name the building heads (volunteers) who go: they take part in the volunteers' retention.

A visit still open, or due or paid within the retention period, keeps its volunteer's data; when a
volunteer is anonymised, the visitor's name written on their visits goes with the rest.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from volunteers import retention

from ..models import Visit


def recent_visits(before: datetime) -> QuerySet[Visit]:
    day = timezone.localdate(before)
    return Visit.objects.filter(Q(visited_on__isnull=True) | Q(visited_on__gte=day) | Q(due_on__gte=day))


def forget_visitors(volunteer_ids: list[int]) -> int:
    return Visit.objects.filter(volunteer_id__in=volunteer_ids).exclude(visitor_name="").update(visitor_name="")


def register() -> None:
    retention.holds_volunteer_data(recent=recent_visits, scrub=forget_visitors)
