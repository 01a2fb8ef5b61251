"""Every change to a case: one function per transition, one transaction each.

Each transition is checked in one place (``TRANSITIONS`` and ``ensure``): the states it
may start from, the permission the actor needs and where the actor must sit in the tree.
The row is locked (``select_for_update``) and the write is a compare-and-set on the old
status, so two workers racing get one success and one clear ``IllegalTransition`` on
PostgreSQL and on SQLite alike. Each change appends an immutable ``TimelineEvent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Building, Post, Role, Unit
from communities.selectors import posts_of

from . import deadlines
from .models import (
    Case,
    Category,
    CoHandling,
    ContactRecord,
    ExtensionRequest,
    Notification,
    PhoneReveal,
    ReturnVisit,
    Supervision,
    TimelineEvent,
    Urgency,
)
from .selectors import GRANTS_ONLY_ROLES, case_roots, visible_cases

S = Case.Status
OPEN_HANDLING = frozenset({S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS})
NOT_FINISHED = frozenset({S.SUBMITTED, S.DISPATCHED, S.RETURNED, *OPEN_HANDLING})


class IllegalTransition(Exception):
    """A move the rules refuse; ``message`` is translated and can be shown to the user."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


# --- the transition table -------------------------------------------------------------

# Where the actor must sit, besides holding the permission:
#   "tree"       the case's handling unit is in the actor's subtree
#   "dispatcher" the case's dispatching unit is in the actor's subtree (the tier that dispatched)
#   "lead"       the actor's post is in the handling unit's subtree (or a guardian handle_case grant)
#   "handler"    "lead", or the actor's post is in a co-handling unit's subtree
#   "visible"    the actor sees the case (visible_cases)
#   "resident"   no staff actor needed
@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str | None  # None: the status does not change
    perm: str | None
    reach: str
    refusal: str  # shown when the case's status does not allow the move


def _rule(sources, target, perm, reach, refusal) -> Rule:
    return Rule(frozenset(sources), target, perm, reach, refusal)


TRANSITIONS: dict[str, Rule] = {
    "dispatch": _rule(
        {S.SUBMITTED, S.RETURNED, S.DISPATCHED}, S.DISPATCHED, "cases.dispatch_case", "tree",
        _("Only a new, returned or not yet accepted case can be dispatched; this one is %(status)s."),
    ),
    "reassign": _rule(
        {S.DISPATCHED, *OPEN_HANDLING}, S.DISPATCHED, "cases.dispatch_case", "dispatcher",
        _("Only a case being handled can be reassigned; this one is %(status)s."),
    ),
    "add_co_handler": _rule(
        NOT_FINISHED, None, "cases.dispatch_case", "tree",
        _("A co-handling unit can only be added while the case is open; this one is %(status)s."),
    ),
    "accept": _rule(
        {S.DISPATCHED}, S.ACCEPTED, "cases.handle_case", "lead",
        _("Only a dispatched case can be accepted; this one is %(status)s."),
    ),
    "return": _rule(
        {S.DISPATCHED, *OPEN_HANDLING}, S.RETURNED, "cases.handle_case", "lead",
        _("Only a case dispatched to your unit can be returned; this one is %(status)s."),
    ),
    "contact": _rule(
        OPEN_HANDLING, None, "cases.handle_case", "lead",
        _("Accept the case before recording contact with the caller; it is %(status)s."),
    ),
    "progress": _rule(
        OPEN_HANDLING, None, "cases.handle_case", "handler",
        _("Progress can only be added to a case being handled; this one is %(status)s."),
    ),
    "request_extension": _rule(
        OPEN_HANDLING, None, "cases.handle_case", "lead",
        _("An extension can only be requested while the case is being handled; it is %(status)s."),
    ),
    "decide_extension": _rule(
        NOT_FINISHED, None, "cases.decide_extension", "dispatcher",
        _("The case is %(status)s; its extension can no longer be decided."),
    ),
    "resolve": _rule(
        {S.CONTACTED, S.IN_PROGRESS}, S.RESOLVED, "cases.handle_case", "lead",
        _("Contact the caller before resolving the case; it is %(status)s."),
    ),
    "close": _rule(
        {S.RESOLVED, S.RETURNED}, S.CLOSED, "cases.dispatch_case", "dispatcher",
        _("Only a resolved or returned case can be closed; this one is %(status)s."),
    ),
    "supervise": _rule(
        NOT_FINISHED | {S.RESOLVED}, None, "cases.supervise_case", "visible",
        _("A %(status)s case cannot be put under supervision."),
    ),
    "lift_supervision": _rule(
        set(S.values), None, "cases.supervise_case", "visible", _("The case is %(status)s."),
    ),
    "rate": _rule(
        {S.RESOLVED, S.CLOSED}, None, None, "resident",
        _("Only a resolved case can be rated; this one is %(status)s."),
    ),
    "record_return_visit": _rule(
        {S.RESOLVED, S.CLOSED}, None, "cases.record_return_visit", "visible",
        _("Only a resolved case can be rated; this one is %(status)s."),
    ),
    "add_information": _rule(
        set(S.values) - {S.MERGED}, None, None, "resident",
        _("Information cannot be added to a %(status)s case."),
    ),
    "merge": _rule(
        NOT_FINISHED | {S.RESOLVED}, S.MERGED, "cases.dispatch_case", "tree",
        _("A %(status)s case cannot be merged."),
    ),
    "exclude_from_rates": _rule(
        set(S.values) - {S.MERGED}, None, "cases.dispatch_case", "dispatcher",
        _("A %(status)s case cannot be excluded from the rates."),
    ),
    "reveal_phone": _rule(
        set(S.values), None, "cases.reveal_phone", "lead", _("The case is %(status)s."),
    ),
}

REACH_REFUSALS = {
    "tree": _("This case is not in your part of the tree."),
    "dispatcher": _("Only the unit that dispatched this case can do that."),
    "lead": _("Only the handling unit can do that."),
    "handler": _("Only the handling or a co-handling unit can do that."),
    "visible": _("You cannot see this case."),
}


def _within(path: str, user) -> bool:
    """Is the unit at ``path`` in the user's subtrees?"""
    roots = case_roots(user)
    return roots is None or any(path.startswith(root) for root in roots)


def _posted_under(paths: list[str], user) -> bool:
    """Does the user hold a post (one that acts in the tree) on or under any of the units at ``paths``?"""
    units = [post.unit.path for post in posts_of(user) if post.role not in GRANTS_ONLY_ROLES]
    return any(unit.startswith(p) for unit in units for p in paths)


def _has_reach(case: Case, by, reach: str) -> bool:
    if by.is_superuser or reach == "resident":
        return True
    if reach == "visible":
        # Remembered on the instance: a case page asks for several actions at once.
        seen = case.__dict__.setdefault("_visible_to", {})
        if by.pk not in seen:
            seen[by.pk] = visible_cases(by).filter(pk=case.pk).exists()
        return seen[by.pk]
    if reach == "tree":
        return _within(case.unit_path, by)
    if reach == "dispatcher":
        dispatching = case.dispatching_unit.path if case.dispatching_unit_id else case.unit_path
        return _within(dispatching, by)
    if _posted_under([case.unit_path], by) or by.has_perm("cases.handle_case", case):
        return True
    if reach == "handler":
        co_paths = list(CoHandling.objects.filter(case=case).values_list("unit_path", flat=True))
        return _posted_under(co_paths, by)
    return False


def ensure(case: Case, action: str, *, by=None) -> Rule:
    """Raise IllegalTransition unless ``by`` may do ``action`` to ``case`` now."""
    rule = TRANSITIONS[action]
    if rule.reach != "resident" or by is not None:
        if by is None or not by.is_authenticated or not by.is_active:
            raise IllegalTransition(_("You need to be signed in to do that."))
        if rule.perm and not by.has_perm(rule.perm):
            raise IllegalTransition(_("Your role does not allow you to do that."))
    if case.status not in rule.sources:
        if action == "accept" and case.handler_id:
            raise IllegalTransition(
                _("This case has already been accepted by %(name)s.") % {"name": _name(case.handler)}
            )
        raise IllegalTransition(rule.refusal % {"status": case.get_status_display()})
    if by is not None and rule.reach != "resident" and not _has_reach(case, by, rule.reach):
        raise IllegalTransition(REACH_REFUSALS[rule.reach])
    return rule


def allowed_actions(case: Case, user) -> set[str]:
    """The actions ``user`` may take on ``case`` now (for showing only the buttons that work)."""
    allowed = set()
    for action, rule in TRANSITIONS.items():
        if rule.reach == "resident":
            continue
        try:
            ensure(case, action, by=user)
        except IllegalTransition:
            continue
        allowed.add(action)
    if "reveal_phone" in allowed and not (user.is_superuser or case.handler_id == user.pk):
        allowed.discard("reveal_phone")
    if "decide_extension" in allowed and not case.extensions.filter(decision=ExtensionRequest.Decision.PENDING).exists():
        allowed.discard("decide_extension")
    if "lift_supervision" in allowed and not case.supervisions.filter(lifted_at__isnull=True).exists():
        allowed.discard("lift_supervision")
    if "request_extension" in allowed and case.extensions.filter(decision=ExtensionRequest.Decision.PENDING).exists():
        allowed.discard("request_extension")
    return allowed


# --- helpers ---------------------------------------------------------------------------


def _name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("handler", "dispatching_unit").get(pk=case.pk)


def _compare_and_set(case: Case, *, expect: str, extra_filter: dict | None = None, **changes) -> Case:
    """Write ``changes`` only if the row still has status ``expect``; refuse the loser of a race."""
    changes["updated_at"] = timezone.now()
    if "unit" in changes:
        changes["unit_path"] = changes["unit"].path
    updated = Case.objects.filter(pk=case.pk, status=expect, **(extra_filter or {})).update(**changes)
    if updated != 1:
        current = Case.objects.select_related("handler").get(pk=case.pk)
        if current.handler_id and current.status == S.ACCEPTED and case.status == S.DISPATCHED:
            raise IllegalTransition(
                _("This case has already been accepted by %(name)s.") % {"name": _name(current.handler)}
            )
        raise IllegalTransition(
            _("Someone else changed this case just now (it is %(status)s); reload it and try again.")
            % {"status": current.get_status_display()}
        )
    for field, value in changes.items():
        setattr(case, field, value)
    return case


def record(
    case: Case, *, action: str, by=None, actor_label: str = "", from_status: str = "",
    to_status: str = "", note: str = "", public: bool = False, data: dict | None = None,
) -> TimelineEvent:
    """Append one line to the case's timeline."""
    return TimelineEvent.objects.create(
        case=case, at=timezone.now(), actor=by, actor_label=actor_label, action=action,
        from_status=from_status, to_status=to_status or from_status, note=note, public=public,
        data=data or {},
    )


def _store_photos(case: Case, photos, event: TimelineEvent, by=None, public: bool = True) -> None:
    if not photos:
        return
    from .uploads import store_photos  # owned by the public-intake part; imported when needed

    store_photos(case=case, photos=photos, event=event, by=by, public=public)


def _required(value: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(message)
    return value


def _notify(users, *, case: Case, kind: str, message: str) -> None:
    """One bulk insert, whatever the number of recipients."""
    text = (message or case.title)[:200]
    Notification.objects.bulk_create(
        [Notification(user_id=uid, case=case, kind=kind, message=text) for uid in sorted(set(users))]
    )


def _staff_of(unit: Unit | None, roles) -> list[int]:
    if unit is None:
        return []
    return list(
        Post.objects.active().filter(unit=unit, role__in=roles).values_list("user_id", flat=True)
    )


HANDLING_ROLES = (Role.CASEWORKER, Role.GRID_WORKER, Role.DISPATCHER)


def _unit_under(unit: Unit, user, message) -> None:
    if not _within(unit.path, user):
        raise IllegalTransition(message)


# --- intake ----------------------------------------------------------------------------


def street_of(unit: Unit) -> Unit:
    """The street containing ``unit`` (or the unit itself if it is the area or a street)."""
    if unit.level in (Unit.Level.AREA, Unit.Level.STREET):
        return unit
    return unit.ancestors().filter(level=Unit.Level.STREET).first() or unit


def _intake_place(location_unit: Unit, building: Building | None) -> Unit:
    if building is None:
        return location_unit
    if not building.unit.path.startswith(location_unit.path):
        raise ValidationError({"building": _("The building is not in the chosen place.")})
    return building.unit


def _validate_intake(source, category, title, description, kind, urgency, consent, resident_phone) -> None:
    errors = {}
    if source not in Case.Source.values:
        errors["source"] = _("Unknown channel.")
    if kind not in Case.Kind.values:
        errors["kind"] = _("Unknown request type.")
    if urgency is not None and urgency not in Urgency.values:
        errors["urgency"] = _("Unknown urgency.")
    if category is None or not isinstance(category, Category):
        errors["category"] = _("Choose a category.")
    if not (title or "").strip():
        errors["title"] = _("Give a short summary.")
    if not (description or "").strip():
        errors["description"] = _("Describe what happened.")
    if source == Case.Source.WEB and not consent:
        errors["consent"] = _("Your consent is needed to handle your request.")
    if resident_phone and not any(ch.isdigit() for ch in resident_phone):
        errors["resident_phone"] = _("Enter a phone number.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def intake(
    *, source: str, category: Category, title: str, description: str, location_unit: Unit,
    kind: str = Case.Kind.HELP, urgency: str | None = None, building: Building | None = None,
    address: str = "", resident_name: str = "", resident_phone: str = "", consent: bool = False,
    received_at: datetime | None = None, hotline_order_no: str | None = None,
    contact_due_at: datetime | None = None, resolve_due_at: datetime | None = None,
    by=None, actor_label: str = "", photos=(),
) -> Case:
    """A new request from any channel, waiting at its street's dispatch desk.

    A 12345 order number seen before returns the case already made from it.
    """
    hotline_order_no = (hotline_order_no or "").strip() or None
    if hotline_order_no:
        existing = Case.objects.filter(hotline_order_no=hotline_order_no).first()
        if existing is not None:
            return existing
    _validate_intake(source, category, title, description, kind, urgency, consent, resident_phone)
    place = _intake_place(location_unit, building)
    street = street_of(place)
    urgency = urgency or category.default_urgency
    received_at = received_at or timezone.now()
    contact_due, resolve_due = deadlines.due_dates(category, urgency, received_at)
    case = Case(
        source=source, kind=kind, category=category, urgency=urgency, title=title.strip(),
        description=description.strip(), location_unit=place, building=building,
        address=address.strip(), unit=street, dispatching_unit=street,
        resident_name=resident_name.strip(), resident_phone=resident_phone.strip(),
        consent_at=timezone.now() if consent else None, received_at=received_at,
        hotline_order_no=hotline_order_no, contact_due_at=contact_due_at or contact_due,
        resolve_due_at=resolve_due_at or resolve_due,
    )
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        # Another import of the same 12345 order won the race: hand back its case.
        if hotline_order_no:
            existing = Case.objects.filter(hotline_order_no=hotline_order_no).first()
            if existing is not None:
                return existing
        raise
    event = record(
        case, action="submitted", by=by, actor_label=actor_label, to_status=S.SUBMITTED, public=True,
        data={"source": source},
    )
    _store_photos(case, photos, event, by=by, public=True)
    return case


def route_suggestion(*, case: Case) -> Unit:
    """Where to dispatch: the most precise known place (building's grid → grid → community → street)."""
    if case.building_id:
        return case.building.unit
    return case.location_unit


# --- dispatch, accept, return ----------------------------------------------------------


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
    case = _lock(case)
    ensure(case, "dispatch", by=by)
    old = case.status
    _unit_under(to_unit, by, _("You can only dispatch to units in your part of the tree."))
    if old == S.DISPATCHED and not (to_unit.path.startswith(case.unit_path) and to_unit.pk != case.unit_id):
        raise IllegalTransition(_("A dispatched case can only be passed on to a unit below its handling unit."))
    changes = {"unit": to_unit, "status": S.DISPATCHED, "handler": None, "dispatched_at": timezone.now()}
    if old != S.DISPATCHED:
        changes["dispatching_unit"] = case.unit
    _compare_and_set(case, expect=old, **changes)
    co_added = _add_co_units(case, co_units)
    record(
        case, action="dispatched", by=by, from_status=old, to_status=S.DISPATCHED, note=note.strip(),
        public=True, data={"unit": to_unit.name, "co_units": [u.name for u in co_added]},
    )
    recipients = _staff_of(to_unit, HANDLING_ROLES)
    for unit in co_added:
        recipients += _staff_of(unit, HANDLING_ROLES)
    _notify(recipients, case=case, kind=Notification.Kind.DISPATCHED, message=f"{case.code} {case.title}")
    return case


@transaction.atomic
def reassign(*, case: Case, to_unit: Unit, by, note: str = "") -> Case:
    """改派: the dispatching tier sends a case under way to another unit."""
    case = _lock(case)
    ensure(case, "reassign", by=by)
    if to_unit.pk == case.unit_id:
        raise IllegalTransition(_("The case is already with %(unit)s.") % {"unit": to_unit.name})
    _unit_under(to_unit, by, _("You can only dispatch to units in your part of the tree."))
    old, old_unit = case.status, case.unit
    _compare_and_set(
        case, expect=old, unit=to_unit, status=S.DISPATCHED, handler=None, accepted_at=None,
        dispatched_at=timezone.now(),
    )
    record(
        case, action="reassigned", by=by, from_status=old, to_status=S.DISPATCHED, note=note.strip(),
        data={"from_unit": old_unit.name, "unit": to_unit.name},
    )
    _notify(
        _staff_of(to_unit, HANDLING_ROLES), case=case, kind=Notification.Kind.DISPATCHED,
        message=f"{case.code} {case.title}",
    )
    return case


@transaction.atomic
def add_co_handler(*, case: Case, unit: Unit, by) -> Case:
    """双派: another unit assists on this case and sees it."""
    case = _lock(case)
    ensure(case, "add_co_handler", by=by)
    if unit.pk == case.unit_id:
        raise IllegalTransition(_("%(unit)s is already the handling unit.") % {"unit": unit.name})
    if not _add_co_units(case, [unit]):
        raise IllegalTransition(_("%(unit)s already co-handles this case.") % {"unit": unit.name})
    record(case, action="co_handler_added", by=by, from_status=case.status, data={"unit": unit.name})
    _notify(
        _staff_of(unit, HANDLING_ROLES), case=case, kind=Notification.Kind.DISPATCHED,
        message=f"{case.code} {case.title}",
    )
    return case


@transaction.atomic
def accept(*, case: Case, by) -> Case:
    """接单: the handler takes the case; only one worker can."""
    case = _lock(case)
    ensure(case, "accept", by=by)
    _compare_and_set(
        case, expect=S.DISPATCHED, extra_filter={"handler__isnull": True},
        status=S.ACCEPTED, handler=by, accepted_at=timezone.now(),
    )
    record(case, action="accepted", by=by, from_status=S.DISPATCHED, to_status=S.ACCEPTED, public=True)
    return case


@transaction.atomic
def return_case(*, case: Case, by, reason: str) -> Case:
    """退单: not this unit's business; back to the dispatching unit's queue, with the reason."""
    case = _lock(case)
    ensure(case, "return", by=by)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("A reason is required to return a case.")})
    old, old_unit = case.status, case.unit
    back_to = case.dispatching_unit or case.unit
    _compare_and_set(case, expect=old, status=S.RETURNED, unit=back_to, handler=None, accepted_at=None)
    record(
        case, action="returned", by=by, from_status=old, to_status=S.RETURNED, note=reason.strip(),
        data={"from_unit": old_unit.name},
    )
    return case


# --- handling --------------------------------------------------------------------------


@transaction.atomic
def record_contact(
    *, case: Case, by, method: str, summary: str, arrangement: str = "", promised_date=None, at=None,
) -> Case:
    """首问负责制: the handler's contact with the caller (the first one stops the response clock)."""
    case = _lock(case)
    ensure(case, "contact", by=by)
    if method not in ContactRecord.Method.values:
        raise ValidationError({"method": _("Choose how the caller was contacted.")})
    summary = _required(summary, {"summary": _("Write down what was said.")})
    at = at or timezone.now()
    if at > timezone.now():
        raise ValidationError({"at": _("The contact cannot be in the future.")})
    ContactRecord.objects.create(
        case=case, by=by, at=at, method=method, summary=summary, arrangement=arrangement.strip(),
        promised_date=promised_date,
    )
    old = case.status
    if old == S.ACCEPTED:
        changes = {"status": S.CONTACTED}
        if case.contacted_at is None:
            changes["contacted_at"] = at
        _compare_and_set(case, expect=old, **changes)
    elif case.contacted_at is None:
        _compare_and_set(case, expect=old, contacted_at=at)
    first = old == S.ACCEPTED
    record(
        case, action="contacted" if first else "contact_added", by=by, from_status=old,
        to_status=case.status, note=summary, public=first,
        data={"method": method, "arrangement": arrangement.strip(),
              "promised_date": promised_date.isoformat() if promised_date else None},
    )
    return case


@transaction.atomic
def add_progress(*, case: Case, by, note: str, public: bool = False, photos=()) -> Case:
    """A progress note by the handling or a co-handling unit."""
    case = _lock(case)
    ensure(case, "progress", by=by)
    note = _required(note, {"note": _("Write what was done.")})
    old = case.status
    if old == S.CONTACTED:
        _compare_and_set(case, expect=old, status=S.IN_PROGRESS)
    event = record(case, action="progress", by=by, from_status=old, to_status=case.status, note=note, public=public)
    _store_photos(case, photos, event, by=by, public=public)
    return case


@transaction.atomic
def request_extension(*, case: Case, by, new_due_at: datetime, reason: str) -> ExtensionRequest:
    """延期: ask the dispatching tier for more time."""
    case = _lock(case)
    ensure(case, "request_extension", by=by)
    reason = _required(reason, {"reason": _("A reason is required to ask for more time.")})
    if case.resolve_due_at and new_due_at <= case.resolve_due_at:
        raise ValidationError({"new_due_at": _("The new deadline must be later than the current one.")})
    if new_due_at <= timezone.now():
        raise ValidationError({"new_due_at": _("The new deadline must be in the future.")})
    if case.extensions.filter(decision=ExtensionRequest.Decision.PENDING).exists():
        raise IllegalTransition(_("An extension request for this case is already waiting for a decision."))
    try:
        with transaction.atomic():
            extension = ExtensionRequest.objects.create(
                case=case, requested_by=by, reason=reason, new_due_at=new_due_at
            )
    except IntegrityError:
        raise IllegalTransition(_("An extension request for this case is already waiting for a decision.")) from None
    record(
        case, action="extension_requested", by=by, from_status=case.status, note=reason,
        data={"extension": extension.pk, "new_due_at": new_due_at.isoformat()},
    )
    return extension


@transaction.atomic
def decide_extension(*, extension: ExtensionRequest, by, approve: bool, note: str = "") -> ExtensionRequest:
    """The dispatching tier approves (the resolution deadline moves) or refuses."""
    case = _lock(extension.case)
    ensure(case, "decide_extension", by=by)
    decision = ExtensionRequest.Decision.APPROVED if approve else ExtensionRequest.Decision.REFUSED
    now = timezone.now()
    updated = ExtensionRequest.objects.filter(
        pk=extension.pk, decision=ExtensionRequest.Decision.PENDING
    ).update(decision=decision, decided_by=by, decided_at=now, decision_note=note.strip())
    if updated != 1:
        raise IllegalTransition(_("This extension request has already been decided."))
    extension.refresh_from_db()
    data = {"extension": extension.pk, "decision": decision}
    if approve:
        data["old_due_at"] = case.resolve_due_at.isoformat() if case.resolve_due_at else None
        _compare_and_set(case, expect=case.status, resolve_due_at=extension.new_due_at)
        data["new_due_at"] = extension.new_due_at.isoformat()
    action = "extension_approved" if approve else "extension_refused"
    record(case, action=action, by=by, from_status=case.status, note=note.strip(), data=data)
    _notify(
        [extension.requested_by_id], case=case, kind=Notification.Kind.EXTENSION_DECIDED,
        message=f"{case.code} {extension.get_decision_display()} {note.strip()}",
    )
    return extension


@transaction.atomic
def resolve(*, case: Case, by, result: str, nature: str) -> Case:
    """办结: the handler records the result and the nature of the request."""
    case = _lock(case)
    ensure(case, "resolve", by=by)
    errors = {}
    if not (result or "").strip():
        errors["result"] = _("Describe the result for the caller.")
    if nature not in Case.Nature.values:
        errors["nature"] = _("Choose the nature of the request.")
    if errors:
        raise ValidationError(errors)
    old = case.status
    _compare_and_set(
        case, expect=old, status=S.RESOLVED, result=result.strip(), nature=nature,
        resolved_at=timezone.now(),
    )
    record(
        case, action="resolved", by=by, from_status=old, to_status=S.RESOLVED, note=result.strip(),
        public=True, data={"nature": nature},
    )
    return case


@transaction.atomic
def close(*, case: Case, by, note: str = "") -> Case:
    """Close a resolved case (or a returned one that will not be handled, with a note)."""
    case = _lock(case)
    ensure(case, "close", by=by)
    old = case.status
    if old == S.RETURNED:
        note = _required(note, {"note": _("Say why a returned case is closed without handling.")})
    _compare_and_set(case, expect=old, status=S.CLOSED, closed_at=timezone.now())
    record(case, action="closed", by=by, from_status=old, to_status=S.CLOSED, note=note.strip(), public=True)
    return case


# --- supervision -----------------------------------------------------------------------


@transaction.atomic
def supervise(*, case: Case, by, unit: Unit, comment: str, due_at: datetime) -> Supervision:
    """督办: a higher tier flags the case with a comment and a due time."""
    case = _lock(case)
    ensure(case, "supervise", by=by)
    comment = _required(comment, {"comment": _("Say what is expected.")})
    if not case.unit_path.startswith(unit.path):
        raise ValidationError({"unit": _("The supervising unit must be above the handling unit.")})
    if not by.is_superuser and not any(post.unit_id == unit.pk for post in posts_of(by)):
        raise IllegalTransition(_("You can only supervise on behalf of a unit where you hold a post."))
    if due_at <= timezone.now():
        raise ValidationError({"due_at": _("The answer must be due in the future.")})
    supervision = Supervision.objects.create(case=case, unit=unit, by=by, comment=comment, due_at=due_at)
    if not case.is_supervised:
        _compare_and_set(case, expect=case.status, is_supervised=True)
    record(
        case, action="supervised", by=by, from_status=case.status, note=comment,
        data={"supervision": supervision.pk, "unit": unit.name, "due_at": due_at.isoformat()},
    )
    recipients = [case.handler_id] if case.handler_id else _staff_of(case.unit, HANDLING_ROLES)
    _notify(recipients, case=case, kind=Notification.Kind.SUPERVISED, message=f"{case.code} {comment}")
    return supervision


@transaction.atomic
def lift_supervision(*, supervision: Supervision, by, note: str = "") -> Supervision:
    case = _lock(supervision.case)
    ensure(case, "lift_supervision", by=by)
    updated = Supervision.objects.filter(pk=supervision.pk, lifted_at__isnull=True).update(lifted_at=timezone.now())
    if updated != 1:
        raise IllegalTransition(_("This supervision has already been lifted."))
    supervision.refresh_from_db()
    still = case.supervisions.filter(lifted_at__isnull=True).exists()
    if case.is_supervised != still:
        _compare_and_set(case, expect=case.status, is_supervised=still)
    record(
        case, action="supervision_lifted", by=by, from_status=case.status, note=note.strip(),
        data={"supervision": supervision.pk},
    )
    return supervision


# --- the caller: return visit, more information ----------------------------------------


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
    case = _lock(_lead_of(Case.objects.get(pk=case.pk)))
    ensure(case, "record_return_visit" if by is not None else "rate", by=by)
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
    _compare_and_set(case, expect=old, **changes)
    record(case, action="rated", by=by, actor_label=label, from_status=old, note=comment.strip(), public=True, data=data)
    if resolved:
        if old == S.RESOLVED:
            _compare_and_set(case, expect=old, status=S.CLOSED, closed_at=now)
            record(case, action="closed", by=by, actor_label=label, from_status=old, to_status=S.CLOSED, public=True)
        return case
    return _reopen(case, by=by, label=label, comment=comment)


def _reopen(case: Case, *, by, label, comment: str) -> Case:
    """"Not resolved": back to the dispatching unit as returned, for the dispatcher's review."""
    old = case.status
    back_to = case.dispatching_unit or case.unit
    _compare_and_set(case, expect=old, status=S.RETURNED, unit=back_to, handler=None, closed_at=None)
    record(
        case, action="reopened", by=by, actor_label=label, from_status=old, to_status=S.RETURNED,
        note=comment.strip(), public=True,
    )
    _notify(
        _staff_of(back_to, (Role.DISPATCHER,)), case=case, kind=Notification.Kind.REOPENED,
        message=f"{case.code} {comment.strip() or case.title}",
    )
    return case


@transaction.atomic
def add_information(*, case: Case, text: str, photos=()) -> Case:
    """The resident adds information (and photos) from the status page."""
    case = _lock(_lead_of(Case.objects.get(pk=case.pk)))
    ensure(case, "add_information")
    text = _required(text, {"text": _("Write the information to add.")})
    event = record(
        case, action="information_added", actor_label=str(_("Resident")), from_status=case.status,
        note=text, public=True,
    )
    _store_photos(case, photos, event, public=True)
    return case


# --- dispatcher's housekeeping ---------------------------------------------------------


@transaction.atomic
def merge(*, case: Case, into: Case, by, note: str = "") -> Case:
    """A duplicate joins its lead case; both timelines say so; later ratings go to the lead."""
    if case.pk == into.pk:
        raise IllegalTransition(_("A case cannot be merged into itself."))
    first, second = sorted([case.pk, into.pk])  # lock in a fixed order: no deadlock
    locked = {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
    case, into = locked[case.pk], locked[into.pk]
    ensure(case, "merge", by=by)
    if into.status in (S.MERGED, S.CLOSED):
        raise IllegalTransition(_("The lead case is %(status)s; choose an open case.") % {"status": into.get_status_display()})
    if not by.is_superuser and not _within(into.unit_path, by):
        raise IllegalTransition(REACH_REFUSALS["tree"])
    old = case.status
    _compare_and_set(case, expect=old, status=S.MERGED, merged_into=into)
    record(
        case, action="merged", by=by, from_status=old, to_status=S.MERGED, note=note.strip(), public=True,
        data={"into": into.code},
    )
    record(into, action="duplicate_merged", by=by, from_status=into.status, note=note.strip(), data={"case": case.code})
    return case


@transaction.atomic
def exclude_from_rates(*, case: Case, by, reason: str) -> Case:
    """Leave a case out of the 三率 (e.g. an unreasonable request), with the reason on record."""
    case = _lock(case)
    ensure(case, "exclude_from_rates", by=by)
    reason = _required(reason, {"reason": _("A reason is required to exclude a case from the rates.")})
    if case.excluded_from_rates:
        raise IllegalTransition(_("This case is already excluded from the rates."))
    _compare_and_set(
        case, expect=case.status, extra_filter={"excluded_from_rates": False},
        excluded_from_rates=True, exclusion_reason=reason[:200],
    )
    record(case, action="excluded_from_rates", by=by, from_status=case.status, note=reason)
    return case


@transaction.atomic
def reveal_phone(*, case: Case, by) -> str:
    """The caller's full number, for the current handler only; every reveal is logged."""
    case = _lock(case)
    ensure(case, "reveal_phone", by=by)
    if not by.is_superuser and case.handler_id != by.pk:
        raise IllegalTransition(_("Only the current handler can see the caller's full number."))
    PhoneReveal.objects.create(case=case, by=by)
    record(case, action="phone_revealed", by=by, from_status=case.status)
    return case.resident_phone
