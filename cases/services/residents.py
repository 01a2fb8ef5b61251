"""The caller's part: the return-visit rating (回访) and information added from the status page."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Role

from ..models import Case, Notification, ReturnVisit
from ..refusals import required
from ..selectors import lead_of
from . import common
from .common import attach_photos, compare_and_set, notify, record, staff_of
from .rules import S, TRANSITIONS, IllegalTransition, ensure


def _rated_since_resolved(case: Case) -> bool:
    # ``resolved_at`` is when the result was recorded (not the day given as resolved): a rating
    # of an earlier result, made before this one was recorded, does not count against it.
    return bool(case.rated_at and case.resolved_at and case.rated_at >= case.resolved_at)


def _caller_has_rated(own: Case, lead: Case) -> bool:
    """Has the caller of ``own`` rated the lead's current result? (``own`` is the lead or a case merged into it.)

    Each caller's rating is kept on their own case (a merged caller's too); the lead also holds the
    latest rating of any of its callers, which is what the rates count, once.
    """
    if own.pk != lead.pk:
        return bool(own.rated_at and lead.resolved_at and own.rated_at >= lead.resolved_at)
    if not _rated_since_resolved(lead):
        return False
    if lead.return_visits.filter(at__gte=lead.resolved_at).exists():
        return True
    # The lead's rating came from a merged caller, not from the lead's own caller.
    return not lead.merged_cases.filter(rated_at__gte=lead.resolved_at).exists()


def resident_may_rate(case: Case) -> bool:
    """The one rule for the resident's own rating, used by the status page and by ``rate``.

    A resolved or closed case (closed by the dispatcher without waiting included) may be rated
    once per result: a rating of an earlier result (which reopened the case) does not count, a
    rating of this one does. A merged case's caller rates the result of its lead, once. Staff may
    call back and rate again (``record_return_visit``).
    """
    lead = lead_of(case)
    return lead.status in TRANSITIONS["rate"].sources and not _caller_has_rated(case, lead)


@transaction.atomic
def rate(
    *, case: Case, resolved: bool, satisfaction: str, channel: str, by=None, comment: str = "",
) -> Case:
    """回访: the caller's rating. Resolved → closed; not resolved → reopened for the dispatcher.

    A merged case's caller rates its lead's result: the rating is kept on the caller's own
    case (its ReturnVisit, its rating fields, its public timeline) and becomes the lead's
    current rating, which the rates count once, on the lead. Returns the lead.
    """
    own = Case.objects.select_related("merged_into").get(pk=case.pk)
    lead = lead_of(own)
    if own.pk != lead.pk:
        # Lock both in key order (no deadlock with a merge, which does the same).
        locked = {c.pk: c for c in Case.objects.select_for_update(of=("self",)).filter(
            pk__in=[own.pk, lead.pk]).select_related("handler", "dispatching_unit").order_by("pk")}
        own, case = locked[own.pk], locked[lead.pk]
        if own.status != S.MERGED or own.merged_into_id != case.pk:
            raise IllegalTransition(_("Someone else changed this case just now; reload it and try again."))
    else:
        case = own = common.lock(lead)
    ensure(case, "record_return_visit" if by is not None else "rate", by=by)
    if by is None and _caller_has_rated(own, case):
        raise IllegalTransition(_("This case has already been rated. Thank you."))
    if satisfaction not in Case.Satisfaction.values:
        raise ValidationError({"satisfaction": _("Choose how satisfied the caller is.")})
    if channel not in ReturnVisit.Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    now = timezone.now()
    visit = ReturnVisit.objects.create(
        case=own, at=now, channel=channel, by=by, resolved=bool(resolved), satisfaction=satisfaction,
        comment=comment.strip(),
    )
    old = case.status
    changes = {"rated_at": now, "rated_resolved": bool(resolved), "satisfaction": satisfaction}
    data = {"return_visit": visit.pk, "resolved": bool(resolved), "satisfaction": satisfaction, "channel": channel}
    label = "" if by else str(_("Resident"))
    compare_and_set(case, expect=old, **changes)
    if own.pk != case.pk:
        compare_and_set(own, expect=S.MERGED, **changes)
        record(own, action="rated", by=by, actor_label=label, from_status=S.MERGED, note=comment.strip(),
               public=True, data=data)
        # On the lead for staff only: its own caller sees their own rating, not their neighbours'.
        record(case, action="rated", by=by, actor_label=label, from_status=old, note=comment.strip(),
               data={**data, "case": own.code})
    else:
        record(case, action="rated", by=by, actor_label=label, from_status=old, note=comment.strip(), public=True,
               data=data)
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
    case = common.lock(lead_of(Case.objects.get(pk=case.pk)))
    ensure(case, "add_information")
    text = required(text, "text", _("Write the information to add."))
    event = record(
        case, action="information_added", actor_label=str(_("Resident")), from_status=case.status,
        note=text, public=True,
    )
    attach_photos(case, photos, event, public=True)
    return case
