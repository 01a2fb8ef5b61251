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
from .rules import S, IllegalTransition, ensure


def _rated_since_resolved(case: Case) -> bool:
    """The resident rates each result once; a phone return visit by staff may rate again."""
    return bool(case.rated_at and case.resolved_at and case.rated_at >= case.resolved_at)


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
    if by is None and _rated_since_resolved(case):
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
