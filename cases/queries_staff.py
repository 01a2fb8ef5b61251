"""Reads and presentation helpers that only the staff pages need.

Scoping and the lifecycle's own reads live in cases.selectors; what is here only
shapes already-scoped data for the pages (row columns, badges, the default tab).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from communities.models import Role
from communities.selectors import roles_of

from . import selectors, services, timeline
from .models import Case, Notification

DUE_SOON = timedelta(hours=2)

# The tab a role opens on: the work that is theirs to do first.
DEFAULT_QUEUE_BY_ROLE = [
    (Role.DISPATCHER, "to_dispatch"),
    (Role.CASEWORKER, "mine"),
    (Role.GRID_WORKER, "mine"),
    (Role.DEPARTMENT_LIAISON, "unit"),
    (Role.SUPERVISOR, "overdue"),
    (Role.SECRETARY, "overdue"),
    (Role.DIRECTOR, "overdue"),
    (Role.DEPUTY_DIRECTOR, "overdue"),
]
FALLBACK_QUEUE = "unit"


def default_queue(user) -> str:
    roles = roles_of(user)
    for role, name in DEFAULT_QUEUE_BY_ROLE:
        if role in roles:
            return name
    return FALLBACK_QUEUE


def queue_rows(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """What a queue row and an export line show, joined in one query."""
    return queryset.select_related("category", "unit", "location_unit", "building")


@dataclass(frozen=True)
class Deadline:
    """How a case stands against its clock, for a badge."""

    state: str  # "overdue", "due_soon", "contact_overdue", "" (on time or finished)
    label: str
    due_at: datetime | None


def deadline_of(case: Case, now: datetime | None = None) -> Deadline:
    now = now or timezone.now()
    due = case.resolve_due_at
    if case.status in Case.FINISHED:
        return Deadline("", "", due)
    if selectors.is_overdue(case, now=now):
        return Deadline("overdue", _("Overdue"), due)
    if case.contacted_at is None and case.contact_due_at and case.contact_due_at < now:
        return Deadline("contact_overdue", _("Contact overdue"), case.contact_due_at)
    if due and due - now <= DUE_SOON:
        return Deadline("due_soon", _("Due within 2 h"), due)
    return Deadline("", "", due)


def with_deadlines(cases, now: datetime | None = None) -> list[Case]:
    now = now or timezone.now()
    rows = list(cases)
    for case in rows:
        case.deadline = deadline_of(case, now)
    return rows


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def nav_counts(request) -> dict:
    """Context processor: the unread-notification badge, counted only if a page shows it, and
    whether the "New case" link is shown (``services.may_take_in``, read only if asked)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "cases_unread": SimpleLazyObject(lambda: unread_count(user)),
        "cases_may_take_in": SimpleLazyObject(lambda: services.may_take_in(user)),
    }


def notifications_of(user) -> QuerySet[Notification]:
    """The user's notifications, unread first, newest first."""
    from django.db.models import F

    return (
        Notification.objects.filter(user=user)
        .select_related("case")
        .only("kind", "message", "created_at", "read_at", "case__code", "case__title")
        .order_by(F("read_at").desc(nulls_first=True), "-created_at")
    )


def labelled(events: list) -> list:
    """Timeline events with a readable ``label`` and ``to_label`` (the state they led to), the actor's
    name and the time in the local zone (``at_iso``, ``at_text``): set here once rather than worked out
    by the template's filters for each of hundreds of lines."""
    states = dict(Case.Status.choices)
    for event in events:
        at = timezone.localtime(event.at)
        event.at_iso, event.at_text = at.isoformat(), at.strftime("%Y-%m-%d %H:%M")
        event.actor_name = (event.actor.get_full_name() or event.actor.get_username()) if event.actor_id else ""
        event.label = timeline.label(event.action)
        moved = event.to_status and event.to_status != event.from_status
        event.to_label = states.get(event.to_status, event.to_status) if moved else ""
    return events
