"""The dispatching tier's moves: dispatch, reassign, co-handling, merge, exclusion, close;
and the handling unit's 退单 back to it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Unit, path_within
from communities.selectors import in_subtree

from ..models import Case, CoHandling, Notification
from ..refusals import ensure_within, required
from . import common
from .common import HANDLING_ROLES, compare_and_set, notify, record, staff_of
from .rules import REACH_REFUSALS, S, IllegalTransition, ensure


def _add_co_units(case: Case, units) -> list[Unit]:
    added = []
    for unit in units:
        if unit.pk == case.unit_id:
            continue
        _, created = CoHandling.objects.get_or_create(case=case, unit=unit)
        if created:
            added.append(unit)
    return added


@transaction.atomic
def dispatch(*, case: Case, to_unit: Unit, by, note: str = "", co_units=()) -> Case:
    """派单: send the case to a handling unit (and any co-handling units)."""
    case = common.lock(case)
    ensure(case, "dispatch", by=by)
    old = case.status
    ensure_within(by, to_unit, _("You can only dispatch to units in your part of the tree."))
    if old == S.DISPATCHED and not (path_within(to_unit.path, case.unit_path) and to_unit.pk != case.unit_id):
        raise IllegalTransition(_("A dispatched case can only be passed on to a unit below its handling unit."))
    changes = {"unit": to_unit, "status": S.DISPATCHED, "handler": None, "dispatched_at": timezone.now()}
    if old != S.DISPATCHED:
        changes["dispatching_unit"] = case.unit
    compare_and_set(case, expect=old, **changes)
    co_added = _add_co_units(case, co_units)
    record(
        case, action="dispatched", by=by, from_status=old, to_status=S.DISPATCHED, note=note.strip(),
        public=True, data={"unit": to_unit.name, "co_units": [u.name for u in co_added]},
    )
    recipients = staff_of(to_unit, HANDLING_ROLES)
    for unit in co_added:
        recipients += staff_of(unit, HANDLING_ROLES)
    notify(recipients, case=case, kind=Notification.Kind.DISPATCHED, message=f"{case.code} {case.title}", actor=by)
    return case


@transaction.atomic
def reassign(*, case: Case, to_unit: Unit, by, note: str = "") -> Case:
    """改派: the dispatching tier sends a case under way to another unit."""
    case = common.lock(case)
    ensure(case, "reassign", by=by)
    if to_unit.pk == case.unit_id:
        raise IllegalTransition(_("The case is already with %(unit)s.") % {"unit": to_unit.name})
    ensure_within(by, to_unit, _("You can only dispatch to units in your part of the tree."))
    old, old_unit = case.status, case.unit
    compare_and_set(
        case, expect=old, unit=to_unit, status=S.DISPATCHED, handler=None, accepted_at=None,
        dispatched_at=timezone.now(),
    )
    record(
        case, action="reassigned", by=by, from_status=old, to_status=S.DISPATCHED, note=note.strip(),
        data={"from_unit": old_unit.name, "unit": to_unit.name},
    )
    notify(
        staff_of(to_unit, HANDLING_ROLES), case=case, kind=Notification.Kind.DISPATCHED,
        message=f"{case.code} {case.title}", actor=by,
    )
    return case


@transaction.atomic
def add_co_handler(*, case: Case, unit: Unit, by) -> Case:
    """双派: another unit assists on this case and sees it."""
    case = common.lock(case)
    ensure(case, "add_co_handler", by=by)
    if unit.pk == case.unit_id:
        raise IllegalTransition(_("%(unit)s is already the handling unit.") % {"unit": unit.name})
    if not _add_co_units(case, [unit]):
        raise IllegalTransition(_("%(unit)s already co-handles this case.") % {"unit": unit.name})
    record(case, action="co_handler_added", by=by, from_status=case.status, data={"unit": unit.name})
    notify(
        staff_of(unit, HANDLING_ROLES), case=case, kind=Notification.Kind.DISPATCHED,
        message=f"{case.code} {case.title}", actor=by,
    )
    return case


@transaction.atomic
def return_case(*, case: Case, by, reason: str) -> Case:
    """退单: not this unit's business; back to the dispatching unit's queue, with the reason."""
    case = common.lock(case)
    ensure(case, "return", by=by)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("A reason is required to return a case.")})
    old, old_unit = case.status, case.unit
    back_to = case.dispatching_unit or case.unit
    compare_and_set(case, expect=old, status=S.RETURNED, unit=back_to, handler=None, accepted_at=None)
    record(
        case, action="returned", by=by, from_status=old, to_status=S.RETURNED, note=reason.strip(),
        data={"from_unit": old_unit.name},
    )
    return case


@transaction.atomic
def close(*, case: Case, by, note: str = "") -> Case:
    """Close a resolved case (or a returned one that will not be handled, with a note)."""
    case = common.lock(case)
    ensure(case, "close", by=by)
    old = case.status
    if old == S.RETURNED:
        note = required(note, "note", _("Say why a returned case is closed without handling."))
    compare_and_set(case, expect=old, status=S.CLOSED, closed_at=timezone.now())
    record(case, action="closed", by=by, from_status=old, to_status=S.CLOSED, note=note.strip(), public=True)
    return case


def _lock_for_merge(keys) -> dict[int, Case]:
    # One statement, rows locked in key order: two merges never wait for each other in a cycle.
    return {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=set(keys)).order_by("pk")}


def _ensure_lead(into: Case, by) -> None:
    if into.status in Case.FINAL:
        raise IllegalTransition(_("The lead case is %(status)s; choose an open case.") % {"status": into.get_status_display()})
    if not by.is_superuser and not in_subtree(by, into.unit_path):
        raise IllegalTransition(REACH_REFUSALS["tree"])


def _merge_one(case: Case, into: Case, *, by, note: str) -> Case:
    """The duplicate's own part of a merge (both rows locked, the lead checked)."""
    if case.pk == into.pk:
        raise IllegalTransition(_("A case cannot be merged into itself."))
    ensure(case, "merge", by=by)
    old = case.status
    # Merged into a lead already resolved, the caller waits for the return visit of its result at once.
    awaits = into.status == S.RESOLVED and (case.rated_at is None or case.rated_at < into.resolved_at)
    compare_and_set(case, expect=old, status=S.MERGED, merged_into=into, awaits_visit=awaits)
    record(
        case, action="merged", by=by, from_status=old, to_status=S.MERGED, note=note.strip(), public=True,
        data={"into": into.code},
    )
    return case


@transaction.atomic
def merge(*, case: Case, into: Case, by, note: str = "") -> Case:
    """A duplicate joins its lead case; both timelines say so; later ratings go to the lead."""
    if case.pk == into.pk:
        raise IllegalTransition(_("A case cannot be merged into itself."))
    locked = _lock_for_merge([case.pk, into.pk])
    case, into = locked[case.pk], locked[into.pk]
    ensure(case, "merge", by=by)
    _ensure_lead(into, by)
    _merge_one(case, into, by=by, note=note)
    record(into, action="duplicate_merged", by=by, from_status=into.status, note=note.strip(), data={"case": case.code})
    return case


@transaction.atomic
def merge_duplicates(*, into: Case, cases, by, note: str = "") -> list[Case]:
    """Merge several duplicates into one lead at once: all of them or none.

    Each duplicate is merged as by ``merge`` (its own "merged" event); the lead gets one
    "duplicates_merged" event naming them all, not one line per duplicate. If any of them
    may not be merged, nothing is, and the refusal names each with its reason.
    """
    keys = {case.pk for case in cases}
    if not keys:
        raise ValidationError({"cases": _("Choose the cases to merge into this one.")})
    locked = _lock_for_merge(keys | {into.pk})
    into = locked[into.pk]
    ensure(into, "merge_duplicates", by=by)
    _ensure_lead(into, by)
    duplicates = sorted((locked[pk] for pk in keys), key=lambda case: (case.received_at, case.pk))
    refusals = []
    for case in duplicates:
        if case.pk == into.pk:
            refusals.append(f"{case.code}: {_('A case cannot be merged into itself.')}")
            continue
        try:
            ensure(case, "merge", by=by)
        except IllegalTransition as error:
            refusals.append(f"{case.code}: {error.message}")
    if refusals:
        raise IllegalTransition(
            _("Nothing was merged: %(count)d of the %(total)d cases cannot be merged into %(lead)s. %(reasons)s")
            % {"count": len(refusals), "total": len(duplicates), "lead": into.code, "reasons": " ".join(refusals)}
        )
    merged = [_merge_one(case, into, by=by, note=note) for case in duplicates]
    codes = [case.code for case in merged]
    record(
        into, action="duplicates_merged", by=by, from_status=into.status, note=note.strip(),
        data={"cases": codes, "count": len(codes)},
    )
    return merged


@transaction.atomic
def exclude_from_rates(*, case: Case, by, reason: str) -> Case:
    """Leave a case out of the 三率 (e.g. an unreasonable request), with the reason on record."""
    case = common.lock(case)
    ensure(case, "exclude_from_rates", by=by)
    reason = required(reason, "reason", _("A reason is required to exclude a case from the rates."))
    if case.excluded_from_rates:
        raise IllegalTransition(_("This case is already excluded from the rates."))
    compare_and_set(
        case, expect=case.status, extra_filter={"excluded_from_rates": False},
        excluded_from_rates=True, exclusion_reason=reason[:200],
    )
    record(case, action="excluded_from_rates", by=by, from_status=case.status, note=reason)
    return case
