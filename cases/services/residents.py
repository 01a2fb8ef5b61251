"""The caller's part: the return-visit rating (回访) and information added from the status page."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Role

from ..models import Case, Notification, ReturnVisit
from . import common
from .common import attach_photos, compare_and_set, notify, record, required, staff_of
from .rules import S, TRANSITIONS, IllegalTransition, ensure


def _rated_since_resolved(case: Case) -> bool:
    # ``resolved_at`` is when the result was recorded (not the day given as resolved): a rating
    # of an earlier result, made before this one was recorded, does not count against it.
    return bool(case.rated_at and case.resolved_at and case.rated_at >= case.resolved_at)


def resident_may_rate(case: Case) -> bool:
    """The one rule for the resident's own rating, used by the status page and by ``rate``.

    A resolved or closed case (closed by the dispatcher without waiting included) may be rated
    once per result: a rating of an earlier result (which reopened the case) does not count,
    a rating of this one does. Staff may call back and rate again (``record_return_visit``).
    """
    return case.status in TRANSITIONS["rate"].sources and not _rated_since_resolved(case)


def _lead_of(case: Case) -> Case:
    seen = set()
    while case.status == S.MERGED and case.merged_into_id and case.pk not in seen:
        seen.add(case.pk)
        case = case.merged_into
    return case


@transaction.atomic
def rate(
    *, case: Case, resolved: bool, satisfaction: str, channel: str, by=None, comment: str = "",
) -> Case:
    """回访: the caller's rating. Resolved → closed; not resolved → reopened for the dispatcher.

    A merged case's rating goes to its lead. Every rating stays in ReturnVisit; the
    case holds the latest, which is what the rates count.
    """
    case = common.lock(_lead_of(Case.objects.get(pk=case.pk)))
    ensure(case, "record_return_visit" if by is not None else "rate", by=by)
    if by is None and not resident_may_rate(case):
        raise IllegalTransition(_("This case has already been rated. Thank you."))
    if satisfaction not in Case.Satisfaction.values:
        raise ValidationError({"satisfaction": _("Choose how satisfied the caller is.")})
    if channel not in ReturnVisit.Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    now = timezone.now()
    visit = ReturnVisit.objects.create(
        case=case, at=now, channel=channel, by=by, resolved=bool(resolved), satisfaction=satisfaction,
        comment=comment.strip(),
    )
    old = case.status
    changes = {"rated_at": now, "rated_resolved": bool(resolved), "satisfaction": satisfaction}
    data = {"return_visit": visit.pk, "resolved": bool(resolved), "satisfaction": satisfaction, "channel": channel}
    label = "" if by else str(_("Resident"))
    compare_and_set(case, expect=old, **changes)
    record(case, action="rated", by=by, actor_label=label, from_status=old, note=comment.strip(), public=True, data=data)
    if resolved:
        if old == S.RESOLVED:
            compare_and_set(case, expect=old, status=S.CLOSED, closed_at=now)
            record(case, action="closed", by=by, actor_label=label, from_status=old, to_status=S.CLOSED, public=True)
        return case
    return _reopen(case, by=by, label=label, comment=comment)


def _reopen(case: Case, *, by, label, comment: str) -> Case:
    """"Not resolved": back to the dispatching unit as returned, for the dispatcher's review."""
    old = case.status
    back_to = case.dispatching_unit or case.unit
    compare_and_set(case, expect=old, status=S.RETURNED, unit=back_to, handler=None, closed_at=None)
    record(
        case, action="reopened", by=by, actor_label=label, from_status=old, to_status=S.RETURNED,
        note=comment.strip(), public=True,
    )
    notify(
        staff_of(back_to, (Role.DISPATCHER,)), case=case, kind=Notification.Kind.REOPENED,
        message=f"{case.code} {comment.strip() or case.title}", actor=by,
    )
    return case


@transaction.atomic
def add_information(*, case: Case, text: str, photos=()) -> Case:
    """The resident adds information (and photos) from the status page."""
    case = common.lock(_lead_of(Case.objects.get(pk=case.pk)))
    ensure(case, "add_information")
    text = required(text, {"text": _("Write the information to add.")})
    event = record(
        case, action="information_added", actor_label=str(_("Resident")), from_status=case.status,
        note=text, public=True,
    )
    attach_photos(case, photos, event, public=True)
    return case
