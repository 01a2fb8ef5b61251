"""Forms of the coordination pages. They validate input; the services decide what is allowed.

Every choice offered comes from a scoping selector, so a form never lists another
subtree's units, buildings, departments or partners.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.widgets import DateInput, DateTimeInput, UnitChoiceField
from communities import names
from communities.models import PATH_SEPARATOR, Building, Unit
from communities.selectors import scope, visible_departments, visible_partners, visible_posts

from ..models import ActionItem, AgendaItem, Ballot, Decision, Elector, Meeting, Participant, Poll, Summons, Whistle
from ..models.polls import validate_fraction
from .services.meetings import ACTION_MOVES


def own_units(user):
    """Units in the user's own subtrees (where they may act), tree order."""
    return scope(Unit.objects.all(), user, path_field="path").order_by("path")


def own_buildings(user):
    return scope(Building.objects.select_related("unit"), user, path_field="unit__path").order_by(
        "unit__path", "name"
    )


class BuildingChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Building) -> str:
        return f"{obj.unit.name} · {obj.name}"


# --------------------------------------------------------------------------- whistles


class WhistleForm(forms.Form):
    unit = UnitChoiceField(label=_("Blown by"), queryset=Unit.objects.none(), empty_label=None)
    reason = forms.ChoiceField(label=_("Reason"), choices=Whistle.Reason.choices, widget=forms.RadioSelect)
    description = forms.CharField(label=_("What is needed"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    report_within_minutes = forms.IntegerField(
        label=_("Report within (minutes)"), required=False, min_value=5, max_value=60 * 24 * 30,
        help_text=_("Blank: 30 minutes for an emergency, 24 hours for joint enforcement, 48 hours otherwise."),
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments summoned"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    partners = forms.ModelMultipleChoiceField(
        label=_("Partners summoned"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        ancestor_ids = [int(pk) for pk in case.unit_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
        units = own_units(user).filter(pk__in=ancestor_ids, level__in=[Unit.Level.STREET, Unit.Level.COMMUNITY])
        self.fields["unit"].queryset = units.order_by("-depth")
        self.fields["departments"].queryset = visible_departments(user).order_by("name")
        self.fields["partners"].queryset = visible_partners(user).filter(
            unit__pk__in=ancestor_ids
        ).order_by("unit__path", "name")

    def clean(self):
        data = super().clean()
        if not data.get("departments") and not data.get("partners"):
            raise ValidationError(_("Summon at least one department or partner."))
        return data

    @property
    def report_within(self) -> timedelta | None:
        minutes = self.cleaned_data.get("report_within_minutes")
        return timedelta(minutes=minutes) if minutes else None


class ReportForm(forms.Form):
    presence = forms.ChoiceField(label=_("How"), choices=Summons.Presence.choices, widget=forms.RadioSelect)
    reporter_name = forms.CharField(
        label=_("Who came"), max_length=100, required=False, help_text=_("Blank: your own name.")
    )
    at = forms.DateTimeField(label=_("When"), required=False, widget=DateTimeInput(), help_text=_("Blank: now."))
    commitment = forms.CharField(
        label=_("What you will do"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommitmentForm(forms.Form):
    commitment = forms.CharField(label=_("What is being done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ResponseRatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Response rating"), choices=Summons.RATING_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000)


class JustificationForm(forms.Form):
    justification = forms.ChoiceField(
        label=_("Was the whistle justified?"), choices=Summons.Justification.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000)


# --------------------------------------------------------------------------- meetings


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Subject"), max_length=120)
    format = forms.ChoiceField(label=_("Format"), choices=Meeting.Format.choices)
    level = forms.ChoiceField(label=_("Level"), choices=Meeting.Level.choices)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), empty_label=None)
    building = forms.ModelChoiceField(label=_("Building"), queryset=Building.objects.none(), required=False)
    place = forms.CharField(label=_("Place"), max_length=200, help_text=_("e.g. the stone table on the community square"))
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends"), required=False, widget=DateTimeInput())
    case = forms.CharField(
        label=_("Case on the agenda"), max_length=16, required=False,
        help_text=_("Tracking code of a case to put on the agenda (optional)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = own_units(user)
        self.fields["building"].queryset = own_buildings(user)

    def clean(self):
        data = super().clean()
        if data.get("ends_at") and data.get("starts_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("A meeting ends after it starts."))
        return data


class ParticipantForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Participant.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("A person or an organisation; blank for a department or partner chosen below."))
    department = forms.ModelChoiceField(label=_("Department"), queryset=None, required=False)
    partner = forms.ModelChoiceField(label=_("Partner organisation"), queryset=None, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = visible_departments(user).order_by("name")
        self.fields["partner"].queryset = visible_partners(user).order_by("unit__path", "name")

    def clean(self):
        data = super().clean()
        if not (data.get("name") or "").strip() and not data.get("department") and not data.get("partner"):
            raise ValidationError(_("Give a name, or choose a department or partner."))
        if data.get("department") and data.get("partner"):
            raise ValidationError(_("Choose a department or a partner, not both."))
        return data


class AgendaItemForm(forms.Form):
    topic = forms.CharField(label=_("Topic"), max_length=200, required=False)
    case = forms.CharField(label=_("Case tracking code"), max_length=16, required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("topic") or "").strip() and not (data.get("case") or "").strip():
            raise ValidationError(_("Give the topic (or a case's tracking code)."))
        return data


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 6}))
    attended = forms.ModelMultipleChoiceField(
        label=_("Who attended"), queryset=Participant.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, meeting: Meeting, participants, agenda, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("minutes", meeting.minutes)
        kwargs["initial"].setdefault("attended", [p.pk for p in participants if p.attended])
        super().__init__(*args, **kwargs)
        self.fields["attended"].queryset = Participant.objects.filter(meeting=meeting)
        self.fields["attended"].choices = [(p.pk, f"{p.get_kind_display()} · {p.name}") for p in participants]
        for item in agenda:
            self.fields[f"discussion_{item.pk}"] = forms.CharField(
                label=_("Discussion: %(topic)s") % {"topic": item.topic}, required=False,
                initial=item.discussion, widget=forms.Textarea(attrs={"rows": 2}),
            )

    def discussions(self) -> dict[int, str]:
        return {
            int(name.removeprefix("discussion_")): value
            for name, value in self.cleaned_data.items() if name.startswith("discussion_")
        }


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("Decision"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    agenda_item = forms.ModelChoiceField(label=_("On agenda item"), queryset=AgendaItem.objects.none(), required=False)

    def __init__(self, *args, meeting: Meeting, agenda, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agenda_item"].queryset = AgendaItem.objects.filter(meeting=meeting)
        self.fields["agenda_item"].choices = [("", "—")] + [(a.pk, f"{a.position}. {a.topic}") for a in agenda]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return names.display_name(obj)


class ActionItemForm(forms.Form):
    decision = forms.ModelChoiceField(label=_("Decision"), queryset=Decision.objects.none(), empty_label=None)
    description = forms.CharField(label=_("What is to be done"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    due_on = forms.DateField(label=_("Due"), widget=DateInput())
    owner_user = PersonChoiceField(label=_("Owner: a person"), queryset=None, required=False)
    owner_unit = UnitChoiceField(label=_("Owner: a unit"), queryset=Unit.objects.none(), required=False)
    owner_department = forms.ModelChoiceField(label=_("Owner: a department"), queryset=None, required=False)
    owner_partner = forms.ModelChoiceField(label=_("Owner: a partner organisation"), queryset=None, required=False)
    public_owner = forms.CharField(
        label=_("Owner as shown on the public notice"), max_length=100, required=False,
        help_text=_("Leave blank to show the organisation's name (a person is never named)."),
    )

    OWNERS = ("owner_user", "owner_unit", "owner_department", "owner_partner")

    def __init__(self, *args, user, meeting: Meeting, decisions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].queryset = Decision.objects.filter(meeting=meeting)
        self.fields["decision"].choices = [(d.pk, str(d)) for d in decisions]
        people = visible_posts(user).filter(active=True).values("user_id")
        self.fields["owner_user"].queryset = get_user_model().objects.filter(pk__in=people, is_active=True).order_by(
            "username"
        )
        self.fields["owner_unit"].queryset = own_units(user)
        self.fields["owner_department"].queryset = visible_departments(user).order_by("name")
        self.fields["owner_partner"].queryset = visible_partners(user).order_by("unit__path", "name")

    def clean(self):
        data = super().clean()
        if sum(1 for name in self.OWNERS if data.get(name)) != 1:
            raise ValidationError(_("Choose exactly one owner: a person or an organisation."))
        return data


class ActionUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    note = forms.CharField(label=_("Update"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, item: ActionItem, **kwargs):
        super().__init__(*args, **kwargs)
        moves = [(s, ActionItem.Status(s).label) for s in ActionItem.Status.values if s in ACTION_MOVES[item.status]]
        self.fields["status"].choices = [("", _("(unchanged)"))] + moves


class NoticeForm(forms.Form):
    summary = forms.CharField(
        label=_("Public summary"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000,
        help_text=_("What residents read on the public notice. No names or phone numbers."),
    )


# --------------------------------------------------------------------------- polls


class PollForm(forms.Form):
    title = forms.CharField(label=_("Subject"), max_length=120)
    question = forms.CharField(label=_("Question put to the households"), widget=forms.Textarea(attrs={"rows": 2}))
    buildings = BuildingChoiceField(label=_("Buildings"), queryset=Building.objects.none())
    stairwell_numbers = forms.CharField(
        label=_("Units"), required=False, max_length=100,
        help_text=_("e.g. 5 or 1,2,3; blank for every unit (one building only)."),
    )
    rule = forms.ChoiceField(label=_("Rule"), choices=Poll.Rule.choices, widget=forms.RadioSelect,
                             initial=Poll.Rule.YANSHAN)
    participation_headcount = forms.CharField(label=_("Participation by headcount"), required=False, max_length=9)
    participation_area = forms.CharField(label=_("Participation by area"), required=False, max_length=9)
    approval_headcount = forms.CharField(label=_("Approval by headcount (of participants)"), required=False, max_length=9)
    approval_area = forms.CharField(label=_("Approval by area (of participants)"), required=False, max_length=9)
    agree_headcount = forms.CharField(label=_("Agreement of all households"), required=False, max_length=9)
    agree_area = forms.CharField(label=_("Agreement by area of the whole"), required=False, max_length=9)
    not_objecting_headcount = forms.CharField(label=_("Non-objection of all households"), required=False, max_length=9)
    max_objections = forms.IntegerField(label=_("Objections allowed"), required=False, min_value=0)
    opens_on = forms.DateField(label=_("Opens"), widget=DateInput())
    closes_on = forms.DateField(label=_("Closes"), widget=DateInput())
    case = forms.CharField(label=_("Case"), max_length=16, required=False,
                           help_text=_("Tracking code of the request this poll answers (optional)."))

    CUSTOM_FIELDS = (*Poll.THRESHOLD_FIELDS, "max_objections")

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("opens_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["buildings"].queryset = own_buildings(user)
        for name in Poll.THRESHOLD_FIELDS:
            self.fields[name].help_text = _("Used with the custom rule; a fraction such as 2/3.")

    def clean_stairwell_numbers(self) -> list[int]:
        text = self.cleaned_data.get("stairwell_numbers", "").replace("，", ",")
        try:
            return sorted({int(part) for part in text.split(",") if part.strip()})
        except ValueError:
            raise ValidationError(_("Write unit numbers separated by commas, e.g. 1,2,3.")) from None

    def clean(self):
        data = super().clean()
        if data.get("rule") == Poll.Rule.CUSTOM:
            for name in Poll.THRESHOLD_FIELDS:
                value = (data.get(name) or "").strip()
                if value:
                    try:
                        validate_fraction(value)
                    except ValidationError as error:
                        self.add_error(name, error)
        if data.get("opens_on") and data.get("closes_on") and data["closes_on"] < data["opens_on"]:
            self.add_error("closes_on", _("A poll closes on or after the day it opens."))
        return data

    def thresholds(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.CUSTOM_FIELDS}


class ElectorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Elector) -> str:
        return _("unit %(unit)s · floor %(floor)s · room %(room)s") % {
            "unit": obj.stairwell_number, "floor": obj.floor, "room": obj.room}


class BallotForm(forms.Form):
    elector = ElectorChoiceField(label=_("Household"), queryset=Elector.objects.none())
    choice = forms.ChoiceField(label=_("Vote"), choices=Ballot.Choice.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(label=_("How"), choices=Ballot.Method.choices, initial=Ballot.Method.DOOR_TO_DOOR)
    collected_at = forms.DateTimeField(label=_("When"), required=False, widget=DateTimeInput(), help_text=_("Blank: now."))
    collector_name = forms.CharField(
        label=_("Collected by"), max_length=100, required=False,
        help_text=_("Blank: yourself. A building head or volunteer without an account: their name."),
    )
    witness = forms.CharField(label=_("Witness"), max_length=100, required=False)
    signed_by = forms.CharField(label=_("Signed by"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, poll: Poll, electors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["elector"].queryset = Elector.objects.filter(poll=poll)
        if electors is not None:  # labels from rows already read (no query per option)
            field = self.fields["elector"]
            field.choices = [("", field.empty_label)] + [(e.pk, field.label_from_instance(e)) for e in electors]


class CorrectionForm(forms.Form):
    choice = forms.ChoiceField(label=_("Corrected vote"), choices=Ballot.Choice.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason for the correction"), max_length=200)
    method = forms.ChoiceField(label=_("How"), choices=Ballot.Method.choices)
    collected_at = forms.DateTimeField(label=_("When"), required=False, widget=DateTimeInput(), help_text=_("Blank: now."))
    collector_name = forms.CharField(label=_("Collected by"), max_length=100, required=False)
    witness = forms.CharField(label=_("Witness"), max_length=100, required=False)
