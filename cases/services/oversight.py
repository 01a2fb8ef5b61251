"""More time (延期, decided by the dispatching tier) and supervision (督办) by a higher tier."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Unit, path_within
from communities.selectors import in_subtree, posts_of

from ..models import Case, ExtensionRequest, Notification, Supervision
from ..refusals import required
from . import common
from .common import HANDLING_ROLES, compare_and_set, notify, record, staff_of
from .rules import IllegalTransition, ensure


@transaction.atomic
def request_extension(*, case: Case, by, new_due_at: datetime, reason: str) -> ExtensionRequest:
    """延期: ask the dispatching tier for more time."""
    case = common.lock(case)
    ensure(case, "request_extension", by=by)
    reason = required(reason, "reason", _("A reason is required to ask for more time."))
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
    case = common.lock(extension.case)
    ensure(case, "decide_extension", by=by)
    if extension.requested_by_id == by.pk:
        # Whatever posts the requester also holds (a handler who is also the street's dispatcher).
        raise IllegalTransition(
            _("You asked for this extension yourself; someone else of the dispatching unit decides it.")
        )
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
        compare_and_set(case, expect=case.status, resolve_due_at=extension.new_due_at)
        data["new_due_at"] = extension.new_due_at.isoformat()
    action = "extension_approved" if approve else "extension_refused"
    record(case, action=action, by=by, from_status=case.status, note=note.strip(), data=data)
    notify(
        [extension.requested_by_id], case=case, kind=Notification.Kind.EXTENSION_DECIDED,
        message=f"{case.code} {extension.get_decision_display()} {note.strip()}",
    )
    return extension


@transaction.atomic
def supervise(*, case: Case, by, unit: Unit, comment: str, due_at: datetime) -> Supervision:
    """督办: a higher tier flags the case with a comment and a due time."""
    case = common.lock(case)
    ensure(case, "supervise", by=by)
    comment = required(comment, "comment", _("Say what is expected."))
    if not path_within(case.unit_path, unit.path):
        raise ValidationError({"unit": _("The supervising unit must be above the handling unit.")})
    if not by.is_superuser and not any(post.unit_id == unit.pk for post in posts_of(by)):
        raise IllegalTransition(_("You can only supervise on behalf of a unit where you hold a post."))
    if due_at <= timezone.now():
        raise ValidationError({"due_at": _("The answer must be due in the future.")})
    supervision = Supervision.objects.create(case=case, unit=unit, by=by, comment=comment, due_at=due_at)
    if not case.is_supervised:
        compare_and_set(case, expect=case.status, is_supervised=True)
    record(
        case, action="supervised", by=by, from_status=case.status, note=comment,
        data={"supervision": supervision.pk, "unit": unit.name, "due_at": due_at.isoformat()},
    )
    recipients = [case.handler_id] if case.handler_id else staff_of(case.unit, HANDLING_ROLES)
    notify(recipients, case=case, kind=Notification.Kind.SUPERVISED, message=f"{case.code} {comment}", actor=by)
    return supervision


@transaction.atomic
def lift_supervision(*, supervision: Supervision, by, note: str = "") -> Supervision:
    case = common.lock(supervision.case)
    ensure(case, "lift_supervision", by=by)
    if not by.is_superuser and not in_subtree(by, supervision.unit.path):
        raise IllegalTransition(_("Only the supervising unit can lift its supervision."))
    updated = Supervision.objects.filter(pk=supervision.pk, lifted_at__isnull=True).update(lifted_at=timezone.now())
    if updated != 1:
        raise IllegalTransition(_("This supervision has already been lifted."))
    supervision.refresh_from_db()
    still = case.supervisions.filter(lifted_at__isnull=True).exists()
    if case.is_supervised != still:
        compare_and_set(case, expect=case.status, is_supervised=still)
    record(
        case, action="supervision_lifted", by=by, from_status=case.status, note=note.strip(),
        data={"supervision": supervision.pk},
    )
    return supervision
