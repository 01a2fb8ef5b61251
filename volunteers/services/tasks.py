"""Tasks from cases: a caseworker hands part of a case to a volunteer, who reports back.

Both the hand-over and the report are written to the case's timeline (``cases.services.record``)
in the same transaction, and the report credits the volunteer's hours.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import services as case_services
from cases.models import Case
from cases.refusals import IllegalTransition, required
from cases.selectors import visible_cases

from ..models import HoursEntry, Task, Volunteer
from .common import NOT_ALLOWED, NOT_HERE, ensure_not_anonymised, within_reach

TS = Task.Status
MAX_MINUTES = 16 * 60


def _ensure_may_assign(by, case: Case) -> None:
    if not by.has_perm("volunteers.assign_task"):
        raise IllegalTransition(NOT_ALLOWED)
    if not visible_cases(by).filter(pk=case.pk).exists():
        raise IllegalTransition(NOT_HERE)


@transaction.atomic
def assign_task(*, case: Case, volunteer: Volunteer, description: str, by) -> Task:
    _ensure_may_assign(by, case)
    description = required(description, "description", _("Say what the volunteer should do."))
    if case.status in Case.FINISHED:
        raise IllegalTransition(_("The case is %(status)s: no more tasks.") % {"status": case.get_status_display()})
    if volunteer.status != Volunteer.Status.ACTIVE:
        raise ValidationError({"volunteer": _("Only an active volunteer can take a task.")})
    if not within_reach(volunteer, case.location_unit):
        raise ValidationError({"volunteer": _("%(name)s does not live near this case.") % {"name": volunteer.name}})
    task = Task.objects.create(
        case=case, volunteer=volunteer, description=description, assigned_at=timezone.now(), assigned_by=by
    )
    case_services.record(
        case, action="volunteer_task", by=by, note=description,
        data={"task": task.pk, "volunteer": volunteer.name},
    )
    return task


def _lock(task: Task) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("case", "case__location_unit", "volunteer").get(pk=task.pk)


def _ensure_may_act(by, task: Task) -> None:
    # The volunteer reports on their own task; staff who may hand tasks on this case act for them.
    if task.volunteer.user_id and by.pk == task.volunteer.user_id:
        return
    _ensure_may_assign(by, task.case)


def _move(task: Task, refusal, **changes) -> Task:
    if Task.objects.filter(pk=task.pk, status=TS.ASSIGNED).update(**changes) != 1:
        raise IllegalTransition(refusal)
    for name, value in changes.items():
        setattr(task, name, value)
    return task


@transaction.atomic
def report_task(*, task: Task, report: str, minutes: int, by) -> Task:
    """The volunteer's report: on the case timeline, and their minutes in the ledger."""
    task = _lock(task)
    _ensure_may_act(by, task)
    ensure_not_anonymised(task.volunteer)
    report = required(report, "report", _("Say what was done."))
    if not minutes or minutes < 1 or minutes > MAX_MINUTES:
        raise ValidationError({"minutes": _("Between 1 minute and 16 hours.")})
    refusal = _("This task is %(status)s: it cannot be reported again.") % {"status": task.get_status_display()}
    _move(task, refusal, status=TS.DONE, report=report, reported_at=timezone.now(), reported_by=by)
    HoursEntry.objects.create(
        volunteer=task.volunteer, kind=HoursEntry.Kind.TASK, minutes=minutes, times=1,
        served_on=timezone.localdate(), unit=task.case.location_unit, task=task,
        description=task.case.title[:200], created_by=by,
    )
    case_services.record(
        task.case, action="volunteer_report", by=by, actor_label=task.volunteer.name, note=report,
        data={"task": task.pk, "volunteer": task.volunteer.name, "minutes": minutes},
    )
    return task


@transaction.atomic
def cancel_task(*, task: Task, by, reason: str) -> Task:
    task = _lock(task)
    _ensure_may_assign(by, task.case)
    reason = required(reason, "reason", _("Say why the task is withdrawn."))
    refusal = _("This task is %(status)s: it cannot be withdrawn.") % {"status": task.get_status_display()}
    _move(task, refusal, status=TS.CANCELLED, report=reason, reported_at=timezone.now(), reported_by=by)
    case_services.record(
        task.case, action="volunteer_task_withdrawn", by=by, note=reason,
        data={"task": task.pk, "volunteer": task.volunteer.name},
    )
    return task


__all__ = ["assign_task", "report_task", "cancel_task"]
