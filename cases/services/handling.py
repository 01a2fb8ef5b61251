"""The handling unit's work: accept, first contact, progress, resolve; the caller's number."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.phones import log_refused_reveal, log_reveal

from .. import rates, selectors
from ..models import Case, CoHandling, ContactRecord, PhoneReveal
from ..refusals import required
from . import common
from .common import attach_photos, compare_and_set, record
from .rules import S, IllegalTransition, acts_as_lead, ensure, own_co_handlings


@transaction.atomic
def accept(*, case: Case, by) -> Case:
    """接单: the handler takes the case; only one worker can."""
    case = common.lock(case)
    ensure(case, "accept", by=by)
    compare_and_set(
        case, expect=S.DISPATCHED, extra_filter={"handler__isnull": True},
        status=S.ACCEPTED, handler=by, accepted_at=timezone.now(),
    )
    record(case, action="accepted", by=by, from_status=S.DISPATCHED, to_status=S.ACCEPTED, public=True)
    return case


@transaction.atomic
def record_contact(
    *, case: Case, by, method: str, summary: str, arrangement: str = "", promised_date=None, at=None,
) -> Case:
    """首问负责制: the handler's contact with the caller (the first one stops the response clock)."""
    case = common.lock(case)
    ensure(case, "contact", by=by)
    if method not in ContactRecord.Method.values:
        raise ValidationError({"method": _("Choose how the caller was contacted.")})
    summary = required(summary, "summary", _("Write down what was said."))
    at = at or timezone.now()
    if at > timezone.now():
        raise ValidationError({"at": _("The contact cannot be in the future.")})
    ContactRecord.objects.create(
        case=case, by=by, at=at, method=method, summary=summary, arrangement=arrangement.strip(),
        promised_date=promised_date,
    )
    old = case.status
    details = {"method": method, "arrangement": arrangement.strip(),
               "promised_date": promised_date.isoformat() if promised_date else None}
    if not acts_as_lead(case, by):
        # A co-handling unit's contact is its part of the work: the handling unit's own first
        # contact (首问负责制, the response clock) is still due.
        units = [co.unit.name for co in own_co_handlings(case, by, open_only=False)]
        record(
            case, action="contact_added", by=by, from_status=old, note=summary,
            data={**details, "co_handling": units},
        )
        return case
    if old == S.ACCEPTED:
        changes = {"status": S.CONTACTED}
        if case.contacted_at is None:
            changes["contacted_at"] = at
        compare_and_set(case, expect=old, **changes)
    elif case.contacted_at is None:
        compare_and_set(case, expect=old, contacted_at=at)
    first = old == S.ACCEPTED
    record(
        case, action="contacted" if first else "contact_added", by=by, from_status=old,
        to_status=case.status, note=summary, public=first, data=details,
    )
    return case


@transaction.atomic
def add_progress(*, case: Case, by, note: str, public: bool = False, photos=()) -> Case:
    """A progress note by the handling or a co-handling unit."""
    case = common.lock(case)
    ensure(case, "progress", by=by)
    note = required(note, "note", _("Write what was done."))
    old = case.status
    if old == S.CONTACTED:
        compare_and_set(case, expect=old, status=S.IN_PROGRESS)
    event = record(case, action="progress", by=by, from_status=old, to_status=case.status, note=note, public=public)
    attach_photos(case, photos, event, by=by, public=public)
    return case


@transaction.atomic
def finish_co_handling(*, case: Case, by, note: str) -> Case:
    """A co-handling unit (协办) reports its own part done; the handling unit still resolves the case."""
    case = common.lock(case)
    ensure(case, "finish_co_handling", by=by)
    note = required(note, "note", _("Say what your unit did."))
    mine = own_co_handlings(case, by)
    if not mine:
        raise IllegalTransition(_("Your unit does not co-handle this case, or its part is already done."))
    now = timezone.now()
    updated = CoHandling.objects.filter(pk__in=[co.pk for co in mine], done_at__isnull=True).update(
        done_at=now, done_by=by, done_note=note
    )
    if updated != len(mine):
        raise IllegalTransition(_("Someone in your unit reported this part done just now; reload the case."))
    units = list(
        CoHandling.objects.filter(pk__in=[co.pk for co in mine]).order_by("unit__path").values_list("unit__name", flat=True)
    )
    record(case, action="co_handling_done", by=by, from_status=case.status, note=note, data={"units": units})
    return case


def check_resolved_on(case: Case, resolved_on: date | None) -> date:
    """The day the case was resolved: today (Beijing time) if not given; never in the future nor
    before the day it was received."""
    today = timezone.now().astimezone(rates.RATE_TZ).date()
    if resolved_on is None:
        return today
    if resolved_on > today:
        raise ValidationError({"resolved_on": _("The resolution date cannot be in the future.")})
    received = case.received_at.astimezone(rates.RATE_TZ).date()
    if resolved_on < received:
        raise ValidationError({
            "resolved_on": _("The resolution date cannot be before the case was received (%(day)s).")
            % {"day": received.isoformat()}
        })
    return resolved_on


@transaction.atomic
def resolve(*, case: Case, by, result: str, nature: str, resolved_on: date | None = None) -> Case:
    """办结: the handler records the result, the nature of the request and the day it was resolved
    (today unless given). The click time is kept too (``resolved_at`` and the timeline)."""
    case = common.lock(case)
    ensure(case, "resolve", by=by)
    errors = {}
    if not (result or "").strip():
        errors["result"] = _("Describe the result for the caller.")
    if nature not in Case.Nature.values:
        errors["nature"] = _("Choose the nature of the request.")
    try:
        resolved_on = check_resolved_on(case, resolved_on)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    old = case.status
    compare_and_set(
        case, expect=old, status=S.RESOLVED, result=result.strip(), nature=nature,
        resolved_at=timezone.now(), resolved_on=resolved_on,
    )
    record(
        case, action="resolved", by=by, from_status=old, to_status=S.RESOLVED, note=result.strip(),
        public=True, data={"nature": nature, "resolved_on": resolved_on.isoformat()},
    )
    return case


# Once the case is finished, the caller's number is no longer needed to handle it: say why.
REVEAL_NEEDS_REASON = Case.FINAL


def reveal_phone(*, case: Case, by, reason: str = "") -> str:
    """The caller's full number, for the current handler only; after the case is closed, with a
    reason. Every reveal, and every refused try, is in the security log (who, when, which case,
    from which address)."""
    subject = {"case": case.code, "field": "resident_phone"}
    try:
        return _reveal_phone(case=case, by=by, reason=reason.strip(), subject=subject)
    except IllegalTransition as refusal:
        log_refused_reveal(by=by, subject=subject, why=refusal.message)
        raise
    except ValidationError as refusal:
        log_refused_reveal(by=by, subject=subject, why="; ".join(refusal.messages))
        raise


@transaction.atomic
def _reveal_phone(*, case: Case, by, reason: str, subject: dict) -> str:
    case = common.lock(case)
    ensure(case, "reveal_phone", by=by)
    if not selectors.can_see_full_phone(by, case):
        raise IllegalTransition(_("Only the current handler can see the caller's full number."))
    if case.status in REVEAL_NEEDS_REASON and not reason:
        raise ValidationError({"reason": _("The case is finished: say why you need the caller's number.")})
    PhoneReveal.objects.create(case=case, by=by, reason=reason)
    record(case, action="phone_revealed", by=by, from_status=case.status, note=reason)
    log_reveal(by=by, subject=subject, reason=reason)
    return case.resident_phone
