"""Deadline reminders and escalation, run periodically by ``manage.py send_reminders``.

Nothing here decides whether a case is overdue — selectors compute that at read time —
so a missed run only delays a notice. Each reminder is sent once per case, user and kind
(a unique constraint on Notification backs this up), and a case is escalated once: its
non-public "escalated" timeline event marks it. The queries are a fixed handful whatever
the number of cases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from communities.models import Post, Role

from .models import Case, Notification, TimelineEvent

WINDOW = timedelta(hours=2)
ESCALATED = "escalated"
REMINDER_ROLES = [Role.CASEWORKER]
FALLBACK_ROLES = [Role.DISPATCHER, Role.DIRECTOR]  # when a unit has no caseworker
ESCALATION_ROLES = [Role.DISPATCHER, Role.DIRECTOR]
ACTOR_LABEL = _("Deadline monitor")


@dataclass
class ReminderRun:
    contact_due: int = 0  # cases that got a new first-contact reminder
    resolve_due: int = 0  # cases that got a new resolution reminder
    escalated: int = 0  # cases escalated in this run
    notifications: int = 0  # notifications created in this run


@transaction.atomic
def send_reminders(*, now: datetime | None = None) -> ReminderRun:
    now = now or timezone.now()
    run = ReminderRun()
    with translation.override(settings.LANGUAGE_CODE):
        _remind_due_soon(now, run)
        _escalate_overdue(now, run)
    return run


def _users_at(unit_ids: Iterable[int], roles: list[str]) -> dict[int, list[int]]:
    """Active users holding one of ``roles`` at each unit, in the order of ``roles`` (one query)."""
    if not unit_ids:
        return {}
    rows = (
        Post.objects.active()
        .filter(unit_id__in=set(unit_ids), role__in=roles, user__is_active=True)
        .values_list("unit_id", "role", "user_id")
        .order_by("unit_id", "user_id")
    )
    by_role: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for unit_id, role, user_id in rows:
        if user_id not in by_role[unit_id][role]:
            by_role[unit_id][role].append(user_id)
    return {unit_id: _ordered(found, roles) for unit_id, found in by_role.items()}


def _ordered(found: dict[str, list[int]], roles: list[str]) -> list[int]:
    users: list[int] = []
    for role in roles:
        users += [user_id for user_id in found.get(role, []) if user_id not in users]
    return users


def _due(when: datetime) -> str:
    return timezone.localtime(when).strftime("%m-%d %H:%M")


def _short(title: str) -> str:
    return title if len(title) <= 40 else title[:39] + "…"


# ---------------------------------------------------------------- due soon


def _remind_due_soon(now: datetime, run: ReminderRun) -> None:
    soon = now + WINDOW
    cases = list(
        Case.objects.exclude(status__in=Case.FINISHED)
        .filter(
            Q(contacted_at__isnull=True, contact_due_at__gt=now, contact_due_at__lte=soon)
            | Q(resolve_due_at__gt=now, resolve_due_at__lte=soon)
        )
        .only("pk", "code", "title", "unit_id", "handler_id", "contacted_at", "contact_due_at", "resolve_due_at")
        .order_by()
    )
    if not cases:
        return
    recipients = _reminder_recipients(cases)
    wanted = []
    for case in cases:
        for kind, due in _due_kinds(case, now, soon):
            wanted += [(case, user_id, kind, due) for user_id in recipients.get(case.pk, [])]
    sent = _create_once(wanted, kinds=[Notification.Kind.CONTACT_DUE, Notification.Kind.RESOLVE_DUE])
    run.notifications += len(sent)
    run.contact_due += len({n.case_id for n in sent if n.kind == Notification.Kind.CONTACT_DUE})
    run.resolve_due += len({n.case_id for n in sent if n.kind == Notification.Kind.RESOLVE_DUE})


def _due_kinds(case: Case, now: datetime, soon: datetime) -> list[tuple[str, datetime]]:
    kinds = []
    if case.contacted_at is None and case.contact_due_at and now < case.contact_due_at <= soon:
        kinds.append((Notification.Kind.CONTACT_DUE, case.contact_due_at))
    if case.resolve_due_at and now < case.resolve_due_at <= soon:
        kinds.append((Notification.Kind.RESOLVE_DUE, case.resolve_due_at))
    return kinds


def _reminder_recipients(cases: list[Case]) -> dict[int, list[int]]:
    """The handler; or else the handling unit's caseworkers; or else its dispatchers and directors."""
    unhandled_units = {case.unit_id for case in cases if case.handler_id is None}
    caseworkers = _users_at(unhandled_units, REMINDER_ROLES)
    missing = unhandled_units - set(caseworkers)
    fallback = _users_at(missing, FALLBACK_ROLES)
    return {
        case.pk: [case.handler_id] if case.handler_id
        else caseworkers.get(case.unit_id) or fallback.get(case.unit_id, [])
        for case in cases
    }


def _message(kind: str, case: Case, due: datetime) -> str:
    values = {"code": case.code, "title": _short(case.title), "due": _due(due)}
    if kind == Notification.Kind.CONTACT_DUE:
        return _t("First contact for %(code)s “%(title)s” is due at %(due)s.") % values
    if kind == Notification.Kind.RESOLVE_DUE:
        return _t("%(code)s “%(title)s” must be resolved by %(due)s.") % values
    return _t("Overdue: %(code)s “%(title)s” at %(unit)s was due %(due)s.") % {
        **values, "unit": case.unit.name
    }


def _create_once(wanted: list[tuple[Case, int, str, datetime]], *, kinds: list[str]) -> list[Notification]:
    """Create the notifications not sent before (one query to check, one to insert)."""
    if not wanted:
        return []
    existing = set(
        Notification.objects.filter(case_id__in={case.pk for case, *_ in wanted}, kind__in=kinds)
        .values_list("case_id", "user_id", "kind")
    )
    new = [
        Notification(user_id=user_id, case=case, kind=kind, message=_message(kind, case, due)[:200])
        for case, user_id, kind, due in wanted
        if (case.pk, user_id, kind) not in existing
    ]
    # ignore_conflicts: a concurrent run may have inserted the same reminder meanwhile.
    return Notification.objects.bulk_create(new, ignore_conflicts=True) if new else []


# ---------------------------------------------------------------- overdue


def _escalate_overdue(now: datetime, run: ReminderRun) -> None:
    already = TimelineEvent.objects.filter(case=OuterRef("pk"), action=ESCALATED)
    cases = list(
        Case.objects.exclude(status__in=Case.FINISHED)
        .filter(resolve_due_at__lt=now)
        .filter(~Exists(already))
        .select_related("unit__parent")
        .order_by()
    )
    if not cases:
        return
    targets = {case.pk: case.unit.parent or case.unit for case in cases}
    recipients = _users_at({unit.pk for unit in targets.values()}, ESCALATION_ROLES)
    TimelineEvent.objects.bulk_create([_escalation_event(case, targets[case.pk], now) for case in cases])
    wanted = [
        (case, user_id, Notification.Kind.OVERDUE, case.resolve_due_at)
        for case in cases
        for user_id in recipients.get(targets[case.pk].pk, [])
    ]
    sent = _create_once(wanted, kinds=[Notification.Kind.OVERDUE])
    run.escalated += len(cases)
    run.notifications += len(sent)


def _escalation_event(case: Case, target, now: datetime) -> TimelineEvent:
    return TimelineEvent(
        case=case, at=now, actor=None, actor_label=str(ACTOR_LABEL), action=ESCALATED,
        from_status=case.status, to_status=case.status, public=False,
        note=_t("Overdue since %(due)s; escalated to %(unit)s.")
        % {"due": _due(case.resolve_due_at), "unit": target.name},
        data={"to_unit": target.code, "resolve_due_at": case.resolve_due_at.isoformat()},
    )
