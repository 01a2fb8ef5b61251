"""Meeting pages: the list, convening, one meeting with its agenda, minutes and decisions,
action items followed to done, and the public notice of a meeting's outcome."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.pages import submit
from cases.selectors import visible_cases
from communities.selectors import visible_units

from .. import selectors, services
from ...models import ActionItem, AgendaItem, Decision, Meeting, Participant
from ..forms import (
    ActionItemForm,
    ActionUpdateForm,
    AgendaItemForm,
    CancelForm,
    DecisionForm,
    MeetingForm,
    MinutesForm,
    NoticeForm,
    ParticipantForm,
)
from .common import page_of

WHEN = {"upcoming": _("Upcoming"), "past": _("Held and past"), "": _("All")}
ACTION_FILTERS = {
    "overdue": _("Overdue"),
    "open": _("Not done yet"),
    "done": _("Done"),
    "all": _("All"),
}


@require_safe
@login_required
@permission_required("governance.view_meeting", raise_exception=True)
def meeting_list(request: HttpRequest) -> HttpResponse:
    when = request.GET.get("when", "")
    when = when if when in WHEN else ""
    context = {"page": page_of(request, selectors.meeting_list(request.user, when=when)), "when": when, "tabs": WHEN}
    return render(request, "governance/coordination/meeting_list.html", context)


def _case_by_code(user, code: str):
    code = (code or "").strip().upper()
    return visible_cases(user).filter(code=code).first() if code else None


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.add_meeting", raise_exception=True)
def meeting_new(request: HttpRequest) -> HttpResponse:
    initial = {"case": request.GET.get("case", "")}
    if unit := visible_units(request.user).filter(code=request.GET.get("unit", "")).first():
        initial["unit"] = unit.pk
    form = MeetingForm(request.POST or None, user=request.user, initial=initial)
    done = submit(
        request, form, lambda: _create(request, form.cleaned_data),
        _("Meeting convened. Invite the parties and set the agenda."), lambda meeting: meeting,
    )
    return done or render(request, "governance/coordination/meeting_form.html", {"form": form})


def _create(request: HttpRequest, data: dict) -> Meeting:
    """The meeting, with the case named in the form (if any) as its first agenda item."""
    case = _case_by_code(request.user, data["case"])
    if data["case"] and case is None:
        raise ValidationError({"case": _("No case with this tracking code is visible to you.")})
    meeting = services.create_meeting(
        title=data["title"], format=data["format"], level=data["level"], unit=data["unit"],
        building=data["building"], place=data["place"], starts_at=data["starts_at"],
        ends_at=data["ends_at"], by=request.user,
    )
    if case is not None:
        services.add_agenda_item(meeting=meeting, case=case, by=request.user)
    return meeting


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    meetings = selectors.visible_meetings(request.user).select_related("unit", "building", "convener")
    return get_object_or_404(meetings, pk=pk)


def _rows(meeting: Meeting) -> dict:
    participants = list(Participant.objects.filter(meeting=meeting).select_related("department", "partner"))
    agenda = list(AgendaItem.objects.filter(meeting=meeting).select_related("case"))
    decisions = list(Decision.objects.filter(meeting=meeting).select_related("agenda_item"))
    items = selectors.action_item_rows(ActionItem.objects.filter(meeting=meeting)).order_by("due_on", "pk")
    by_decision: dict[int, list[ActionItem]] = defaultdict(list)
    for item in items:
        item.meeting = meeting
        by_decision[item.decision_id].append(item)
    for decision in decisions:
        decision.items = by_decision[decision.pk]
    return {"participants": participants, "agenda": agenda, "decisions": decisions}


def _blank_forms(request: HttpRequest, meeting: Meeting, rows: dict) -> dict[str, forms.Form]:
    user, status = request.user, meeting.status
    if not services.may_organise(user, meeting) or status == Meeting.Status.CANCELLED:
        return {}
    found = {
        "invite": ParticipantForm(user=user),
        "agenda": AgendaItemForm(),
        "minutes": MinutesForm(meeting=meeting, participants=rows["participants"], agenda=rows["agenda"]),
    }
    if status == Meeting.Status.PLANNED:
        found["cancel"] = CancelForm()
    if status == Meeting.Status.HELD:
        found["decision"] = DecisionForm(meeting=meeting, agenda=rows["agenda"])
        if rows["decisions"]:
            found["action_item"] = ActionItemForm(user=user, meeting=meeting, decisions=rows["decisions"])
        if user.has_perm("governance.publish_notice"):
            found["notice"] = NoticeForm(initial={"summary": meeting.notice_summary or _notice_draft(rows)})
    return found


def _notice_draft(rows: dict) -> str:
    return "\n".join(f"{n}. {decision.text}" for n, decision in enumerate(rows["decisions"], start=1))


def render_meeting(request: HttpRequest, meeting: Meeting, *, failed: tuple[str, forms.Form] | None = None):
    rows = _rows(meeting)
    meeting_forms = _blank_forms(request, meeting, rows)
    if failed:
        meeting_forms[failed[0]] = failed[1]
    context = {"meeting": meeting, **rows, "forms": meeting_forms, "failed": failed[0] if failed else ""}
    return render(request, "governance/coordination/meeting_detail.html", context)


@require_safe
@login_required
@permission_required("governance.view_meeting", raise_exception=True)
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_meeting(request, _meeting(request, pk))


def _bound(action: str, request: HttpRequest, meeting: Meeting) -> forms.Form:
    user, data = request.user, request.POST
    if action == "invite":
        return ParticipantForm(data, user=user)
    if action == "agenda":
        return AgendaItemForm(data)
    if action == "cancel":
        return CancelForm(data)
    if action == "notice":
        return NoticeForm(data)
    rows = _rows(meeting)
    if action == "minutes":
        return MinutesForm(data, meeting=meeting, participants=rows["participants"], agenda=rows["agenda"])
    if action == "decision":
        return DecisionForm(data, meeting=meeting, agenda=rows["agenda"])
    return ActionItemForm(data, user=user, meeting=meeting, decisions=rows["decisions"])


def _perform(action: str, request: HttpRequest, meeting: Meeting, form: forms.Form):
    d, by = form.cleaned_data, request.user
    if action == "invite":
        return services.invite(meeting=meeting, kind=d["kind"], name=d["name"], department=d["department"],
                               partner=d["partner"], by=by)
    if action == "agenda":
        case = _case_by_code(by, d["case"])
        if d["case"] and case is None:
            raise ValidationError({"case": _("No case with this tracking code is visible to you.")})
        return services.add_agenda_item(meeting=meeting, topic=d["topic"], case=case, by=by)
    if action == "minutes":
        return services.record_minutes(meeting=meeting, minutes=d["minutes"], by=by,
                                       attended=[p.pk for p in d["attended"]], discussions=form.discussions())
    if action == "cancel":
        return services.cancel_meeting(meeting=meeting, reason=d["reason"], by=by)
    if action == "decision":
        return services.add_decision(meeting=meeting, text=d["text"], agenda_item=d["agenda_item"], by=by)
    if action == "notice":
        return services.publish_notice(meeting=meeting, summary=d["summary"], by=by)
    return services.add_action_item(
        decision=d["decision"], description=d["description"], due_on=d["due_on"], by=by,
        owner_user=d["owner_user"], owner_unit=d["owner_unit"], owner_department=d["owner_department"],
        owner_partner=d["owner_partner"], public_owner=d["public_owner"],
    )


MEETING_ACTIONS = {
    "invite": _("Party invited."),
    "agenda": _("Added to the agenda."),
    "minutes": _("Minutes saved."),
    "cancel": _("Meeting cancelled."),
    "decision": _("Decision recorded."),
    "action_item": _("Action item added."),
    "notice": _("Public notice published."),
}


@require_POST
@login_required
@permission_required("governance.change_meeting", raise_exception=True)
def meeting_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in MEETING_ACTIONS:
        raise Http404
    meeting = _meeting(request, pk)
    form = _bound(action, request, meeting)
    done = submit(
        request, form, lambda: _perform(action, request, meeting, form), MEETING_ACTIONS[action],
        meeting, refused_to=meeting,
    )
    return done or render_meeting(request, meeting, failed=(action, form))


# --------------------------------------------------------------------------- action items


def _filtered_items(user, name: str):
    items = selectors.visible_action_items(user)
    if name == "overdue":
        return items.filter(selectors.overdue_action_q())
    if name == "open":
        return items.exclude(status__in=ActionItem.FINISHED)
    if name == "done":
        return items.filter(status=ActionItem.Status.DONE)
    return items


@require_safe
@login_required
@permission_required("governance.view_actionitem", raise_exception=True)
def action_item_list(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("show", "overdue")
    name = name if name in ACTION_FILTERS else "overdue"
    items = selectors.action_item_rows(_filtered_items(request.user, name)).order_by("due_on", "pk")
    context = {"page": page_of(request, items), "show": name, "tabs": ACTION_FILTERS,
               "today": timezone.localdate()}
    return render(request, "governance/coordination/action_item_list.html", context)


def _item(request: HttpRequest, pk: int) -> ActionItem:
    return get_object_or_404(selectors.action_item_rows(selectors.visible_action_items(request.user)), pk=pk)


def render_item(request: HttpRequest, item: ActionItem, form: forms.Form | None = None) -> HttpResponse:
    may_update = services.may_update_action(request.user, item) and item.status not in ActionItem.FINISHED
    context = {
        "item": item,
        "updates": item.updates.select_related("by").order_by("at", "pk"),
        "form": form or (ActionUpdateForm(item=item) if may_update else None),
        "overdue": ActionItem.objects.filter(pk=item.pk).filter(selectors.overdue_action_q()).exists(),
    }
    return render(request, "governance/coordination/action_item_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@permission_required("governance.view_actionitem", raise_exception=True)
def action_item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    if request.method != "POST":
        return render_item(request, item)
    form = ActionUpdateForm(request.POST, item=item)
    done = submit(
        request, form,
        lambda: services.update_action_item(item=item, note=form.cleaned_data["note"],
                                            status=form.cleaned_data["status"], by=request.user),
        _("Update recorded."), item, refused_to=item,
    )
    return done or render_item(request, item, form)


# --------------------------------------------------------------------------- public notice


def _attending_kinds(meeting: Meeting) -> list[str]:
    kinds = Participant.objects.filter(meeting=meeting).exclude(attended=False)
    return list(kinds.order_by("kind").values_list("kind", flat=True).distinct())


@require_safe
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    """A meeting's published outcome for residents: what was decided, who does what by when.

    Shows organisations only: no participant names, no convener, no person owning an item.
    """
    meeting = selectors.published_notice(pk)
    if meeting is None:
        raise Http404
    items = selectors.action_item_rows(ActionItem.objects.filter(meeting=meeting)).order_by("due_on", "pk")
    context = {
        "meeting": meeting,
        "decisions": Decision.objects.filter(meeting=meeting).order_by("pk"),
        "items": list(items),
        "kinds": [Participant.Kind(kind).label for kind in _attending_kinds(meeting)],
    }
    return render(request, "governance/coordination/notice.html", context)
