"""议事协商: convene a meeting, invite, set the agenda, minute it, decide, follow action items to done."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from cases.refusals import IllegalTransition, ensure_perm, ensure_within, required
from cases.selectors import visible_cases
from cases.services import record
from communities.models import Building, Department, PartnerOrganisation, Unit
from communities.selectors import in_subtree, scope, visible_departments, visible_partners

from .. import groups
from ...models import ActionItem, ActionUpdate, AgendaItem, Decision, Meeting, Participant

M = Meeting.Status
A = ActionItem.Status
# Where an action item may go from each status (done and dropped are final).
ACTION_MOVES = {
    A.OPEN: {A.IN_PROGRESS, A.DONE, A.DROPPED},
    A.IN_PROGRESS: {A.DONE, A.DROPPED},
    A.DONE: set(),
    A.DROPPED: set(),
}


def may_organise(by, meeting: Meeting) -> bool:
    return by.has_perm("governance.change_meeting") and in_subtree(by, meeting.unit.path)


def _ensure_organiser(by, meeting: Meeting) -> None:
    ensure_perm(by, "governance.change_meeting", _("You may not change meetings."))
    ensure_within(by, meeting.unit, _("Only the meeting's own unit can change it."))


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("unit").get(pk=meeting.pk)


def _meeting_date(meeting: Meeting) -> str:
    return timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def create_meeting(
    *, title: str, format: str, level: str, unit: Unit, place: str, starts_at: datetime, by,
    ends_at: datetime | None = None, building: Building | None = None, convener=None,
) -> Meeting:
    ensure_perm(by, "governance.add_meeting", _("You may not convene meetings."))
    ensure_within(by, unit, _("You can only convene meetings in your own part of the tree."))
    if building is not None and not building.unit.is_within(unit):
        raise ValidationError({"building": _("The building is not in %(unit)s.") % {"unit": unit.name}})
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError({"ends_at": _("A meeting ends after it starts.")})
    meeting = Meeting(
        title=(title or "").strip(), format=format, level=level, unit=unit, place=(place or "").strip(),
        starts_at=starts_at, ends_at=ends_at, building=building, convener=convener or by, created_by=by,
    )
    meeting.full_clean(exclude=["unit_path"])
    meeting.save()
    return meeting


@transaction.atomic
def invite(
    *, meeting: Meeting, kind: str, by, name: str = "",
    department: Department | None = None, partner: PartnerOrganisation | None = None,
) -> Participant:
    """Invite a party; an invited department's liaisons see the meeting (a grant to its group)."""
    meeting = _lock(meeting)
    _ensure_organiser(by, meeting)
    if meeting.status == M.CANCELLED:
        raise IllegalTransition(_("The meeting was cancelled."))
    if department is not None and not visible_departments(by).filter(pk=department.pk).exists():
        raise ValidationError({"department": _("A department you cannot call on was chosen.")})
    if partner is not None and not visible_partners(by).filter(pk=partner.pk).exists():
        raise ValidationError({"partner": _("A partner organisation you cannot call on was chosen.")})
    name = (name or "").strip() or str(department or partner or "")
    participant = Participant(meeting=meeting, kind=kind, name=name, department=department, partner=partner)
    participant.full_clean()
    participant.save()
    if department is not None:
        groups.grant_to_department(obj=meeting, department=department, perm="view_meeting")
    return participant


@transaction.atomic
def add_agenda_item(*, meeting: Meeting, by, topic: str = "", case: Case | None = None) -> AgendaItem:
    """A case or a free topic on the agenda; the case's timeline shows the meeting."""
    meeting = _lock(meeting)
    _ensure_organiser(by, meeting)
    if meeting.status == M.CANCELLED:
        raise IllegalTransition(_("The meeting was cancelled."))
    if case is not None and not visible_cases(by).filter(pk=case.pk).exists():
        raise ValidationError({"case": _("You cannot see this case.")})
    topic = (topic or "").strip() or (case.title if case else "")
    topic = required(topic, "topic", _("Give the topic (or choose a case)."))
    position = meeting.agenda.count() + 1
    item = AgendaItem.objects.create(meeting=meeting, position=position, case=case, topic=topic[:200])
    if case is not None:
        record(
            case, action="meeting_agenda", by=by,
            note=gettext("On the agenda of %(meeting)s (%(when)s, %(place)s)") % {
                "meeting": meeting.title, "when": _meeting_date(meeting), "place": meeting.place,
            },
            data={"meeting": meeting.pk, "agenda_item": item.pk},
        )
    return item


@transaction.atomic
def record_minutes(
    *, meeting: Meeting, by, minutes: str, attended: list[int] | None = None,
    discussions: dict[int, str] | None = None,
) -> Meeting:
    """The meeting was held: minutes, who came (participant ids), what was said per agenda item."""
    meeting = _lock(meeting)
    _ensure_organiser(by, meeting)
    if meeting.status == M.CANCELLED:
        raise IllegalTransition(_("A cancelled meeting has no minutes."))
    if meeting.starts_at > timezone.now():
        raise IllegalTransition(_("The meeting has not started yet."))
    minutes = required(minutes, "minutes", _("Write the minutes."))
    now = timezone.now()
    updated = Meeting.objects.filter(pk=meeting.pk, status__in=[M.PLANNED, M.HELD]).update(
        status=M.HELD, minutes=minutes, held_at=meeting.held_at or now, updated_at=now,
    )
    if updated != 1:
        raise IllegalTransition(_("Someone else changed this meeting just now; reload it and try again."))
    if attended is not None:
        participants = Participant.objects.filter(meeting=meeting)
        participants.filter(pk__in=attended).update(attended=True)
        participants.exclude(pk__in=attended).update(attended=False)
    for pk, text in (discussions or {}).items():
        AgendaItem.objects.filter(meeting=meeting, pk=pk).update(discussion=text.strip())
    meeting.refresh_from_db()
    return meeting


@transaction.atomic
def cancel_meeting(*, meeting: Meeting, by, reason: str) -> Meeting:
    meeting = _lock(meeting)
    _ensure_organiser(by, meeting)
    reason = required(reason, "reason", _("Say why the meeting is cancelled."))
    updated = Meeting.objects.filter(pk=meeting.pk, status=M.PLANNED).update(
        status=M.CANCELLED, cancel_reason=reason[:200], updated_at=timezone.now()
    )
    if updated != 1:
        raise IllegalTransition(_("Only a planned meeting can be cancelled; this one is %(status)s.")
                                % {"status": meeting.get_status_display()})
    meeting.refresh_from_db()
    return meeting


@transaction.atomic
def add_decision(*, meeting: Meeting, by, text: str, agenda_item: AgendaItem | None = None) -> Decision:
    """A decision of a held meeting; one on a case's agenda item goes on the case's timeline."""
    meeting = _lock(meeting)
    _ensure_organiser(by, meeting)
    if meeting.status != M.HELD:
        raise IllegalTransition(_("Record the minutes before the decisions."))
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        raise ValidationError({"agenda_item": _("That agenda item belongs to another meeting.")})
    text = required(text, "text", _("Write what was decided."))
    decision = Decision.objects.create(meeting=meeting, agenda_item=agenda_item, text=text)
    if agenda_item is not None and agenda_item.case_id:
        record(
            agenda_item.case, action="meeting_decision", by=by,
            note=gettext("%(meeting)s decided: %(text)s") % {"meeting": meeting.title, "text": text},
            data={"meeting": meeting.pk, "decision": decision.pk},
        )
    return decision


def _owner(by, *, owner_user, owner_department, owner_partner, owner_unit) -> dict:
    owners = {
        "owner_user": owner_user, "owner_department": owner_department,
        "owner_partner": owner_partner, "owner_unit": owner_unit,
    }
    chosen = [name for name, value in owners.items() if value is not None]
    if len(chosen) != 1:
        raise ValidationError({"owner_user": _("Choose exactly one owner: a person or an organisation.")})
    if owner_department is not None and not visible_departments(by).filter(pk=owner_department.pk).exists():
        raise ValidationError({"owner_department": _("A department you cannot call on was chosen.")})
    if owner_partner is not None and not visible_partners(by).filter(pk=owner_partner.pk).exists():
        raise ValidationError({"owner_partner": _("A partner organisation you cannot call on was chosen.")})
    if owner_unit is not None and not scope(Unit.objects.filter(pk=owner_unit.pk), by, path_field="path").exists():
        raise ValidationError({"owner_unit": _("A unit outside your part of the tree was chosen.")})
    return owners


@transaction.atomic
def add_action_item(
    *, decision: Decision, by, description: str, due_on: date, owner_user=None,
    owner_department: Department | None = None, owner_partner: PartnerOrganisation | None = None,
    owner_unit: Unit | None = None, public_owner: str = "",
) -> ActionItem:
    """Who does what by when, for one decision."""
    meeting = _lock(decision.meeting)
    _ensure_organiser(by, meeting)
    if meeting.status != M.HELD:
        raise IllegalTransition(_("Record the minutes before the action items."))
    description = required(description, "description", _("Say what is to be done."))
    owners = _owner(by, owner_user=owner_user, owner_department=owner_department,
                    owner_partner=owner_partner, owner_unit=owner_unit)
    if owner_user is not None and not get_user_model().objects.filter(pk=owner_user.pk, is_active=True).exists():
        raise ValidationError({"owner_user": _("That person's account is not active.")})
    item = ActionItem(
        decision=decision, meeting=meeting, description=description, due_on=due_on,
        public_owner=(public_owner or "").strip(), created_by=by, **owners,
    )
    item.full_clean(exclude=["unit_path"])
    item.save()
    if owner_department is not None:
        groups.grant_to_department(obj=meeting, department=owner_department, perm="view_meeting")
    return item


def may_update_action(by, item: ActionItem) -> bool:
    if not by.has_perm("governance.change_actionitem"):
        return False
    if in_subtree(by, item.meeting.unit.path) or item.owner_user_id == by.pk:
        return True
    return bool(item.owner_department_id) and item.owner_department_id in groups.liaison_departments(by)


@transaction.atomic
def update_action_item(*, item: ActionItem, by, note: str, status: str = "") -> ActionItem:
    """An update on an action item, moving it on if ``status`` is given; done and dropped are final."""
    item = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("meeting", "meeting__unit", "decision__agenda_item__case")
        .get(pk=item.pk)
    )
    if not may_update_action(by, item):
        raise IllegalTransition(_("Only the meeting's unit or the item's owner can update it."))
    note = required(note, "note", _("Say what happened."))
    old = item.status
    if old in ActionItem.FINISHED:
        raise IllegalTransition(_("This action item is %(status)s.") % {"status": item.get_status_display()})
    status = status or old
    if status not in A.values:
        raise ValidationError({"status": _("Choose a status.")})
    if status != old and status not in ACTION_MOVES[old]:
        raise IllegalTransition(
            _("An action item that is %(old)s cannot become %(new)s.")
            % {"old": item.get_status_display(), "new": A(status).label}
        )
    now = timezone.now()
    changes = {"status": status, "updated_at": now}
    if status == A.DONE:
        changes["done_at"] = now
    if ActionItem.objects.filter(pk=item.pk, status=old).update(**changes) != 1:
        raise IllegalTransition(_("Someone else changed this action item just now; reload it and try again."))
    ActionUpdate.objects.create(action_item=item, at=now, by=by, note=note, from_status=old,
                                to_status=status if status != old else "")
    for name, value in changes.items():
        setattr(item, name, value)
    _record_done_on_case(item, by=by, note=note)
    return item


def _record_done_on_case(item: ActionItem, *, by, note: str) -> None:
    agenda_item = item.decision.agenda_item
    if item.status != A.DONE or agenda_item is None or agenda_item.case_id is None:
        return
    record(
        agenda_item.case, action="meeting_action_done", by=by,
        note=gettext("Done: %(what)s — %(note)s") % {"what": item.description, "note": note},
        data={"meeting": item.meeting_id, "action_item": item.pk},
    )


@transaction.atomic
def publish_notice(*, meeting: Meeting, by, summary: str) -> Meeting:
    """Publish (or republish) the meeting's outcome on its public notice page."""
    meeting = _lock(meeting)
    ensure_perm(by, "governance.publish_notice", _("You may not publish meeting notices."))
    ensure_within(by, meeting.unit, _("Only the meeting's own unit can publish its notice."))
    if meeting.status != M.HELD:
        raise IllegalTransition(_("Only a meeting that was held has an outcome to publish."))
    summary = required(summary, "summary", _("Write what residents should know."))
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(
        notice_summary=summary, notice_published_at=meeting.notice_published_at or now, updated_at=now
    )
    meeting.refresh_from_db()
    return meeting
