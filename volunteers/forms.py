"""Forms of the staff pages. Forms only validate input; the services decide what is allowed.

Choices (units, buildings, teams, volunteers) are passed in already scoped by the view, so
a form never offers what the user may not see.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.widgets import DateInput, DateTimeInput, UnitChoiceField, unit_label
from cases.models import Category
from communities.models import Building, Unit

from .models import Activity, Skill, Team, Volunteer


class BuildingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Building) -> str:
        return f"{obj.name} · {obj.unit.name}"


class VolunteerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Volunteer) -> str:
        return f"{obj} · {obj.unit.name} · {obj.masked_phone}"


class HoursField(forms.DecimalField):
    """Hours as people say them (1.5), cleaned to whole minutes."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", Decimal("16"))
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_digits", 4)
        super().__init__(**kwargs)
        self.widget.attrs.update({"step": "0.25", "inputmode": "decimal"})

    def clean(self, value):
        hours = super().clean(value)
        return None if hours is None else int(round(hours * 60))


class VolunteerForm(forms.Form):
    """Staff add or edit a volunteer. On edit an empty phone keeps the number (shown masked)."""

    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(
        label=_("Mobile phone"), max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    unit = UnitChoiceField(label=_("Home community or grid"), queryset=Unit.objects.none())
    building = BuildingChoiceField(label=_("Building"), queryset=Building.objects.none(), required=False)
    party_member = forms.BooleanField(label=_("Party member"), required=False)
    party_since = forms.DateField(label=_("Party member since"), required=False, widget=DateInput())
    employer_party_org = forms.CharField(
        label=_("Reports from (party organisation)"), max_length=100, required=False,
        help_text=_("For in-service party members (在职党员报到): the party organisation of their employer."),
    )
    reported_on = forms.DateField(label=_("Reported to the community on"), required=False, widget=DateInput())
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills"), queryset=Skill.objects.order_by("sort_order", "code"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    availability = forms.CharField(
        label=_("Availability"), max_length=200, required=False, help_text=_("e.g. weekday mornings, weekends.")
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"), queryset=Team.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, units, buildings, teams=None, instance: Volunteer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["unit"].queryset = units.filter(level__in=[Unit.Level.COMMUNITY, Unit.Level.GRID])
        self.fields["building"].queryset = buildings
        if teams is None:
            del self.fields["teams"]
        else:
            self.fields["teams"].queryset = teams
        if instance is not None:
            self.fields["phone"].required = False
            self.fields["phone"].help_text = _("Leave empty to keep %(phone)s.") % {"phone": instance.masked_phone}

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if self.instance is not None and not data.get("phone"):
            data.pop("phone")
        data.pop("teams", None)
        return data


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why is the application declined?"), max_length=500)


class StatusForm(forms.Form):
    to = forms.ChoiceField(
        label=_("New status"),
        choices=[(s, label) for s, label in Volunteer.Status.choices if s not in ("applied", "declined")],
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class LinkLoginForm(forms.Form):
    username = forms.CharField(
        label=_("Login account (username)"), max_length=150, required=False,
        help_text=_("An account without a staff post. Leave empty to remove the link."),
    )


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Team.Kind.choices)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class MemberForm(forms.Form):
    volunteer = VolunteerChoiceField(label=_("Volunteer"), queryset=Volunteer.objects.none())

    def __init__(self, *args, volunteers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = volunteers


class LeaderForm(MemberForm):
    pass


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    place = forms.CharField(label=_("Place"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput())
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=10000)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, units, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["team"].queryset = teams

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        return cleaned


class SignUpForm(MemberForm):
    pass


class AttendanceForm(forms.Form):
    checked_in_at = forms.DateTimeField(label=_("Came at"), widget=DateTimeInput())
    checked_out_at = forms.DateTimeField(label=_("Left at"), widget=DateTimeInput())

    def clean(self):
        cleaned = super().clean()
        came, left = cleaned.get("checked_in_at"), cleaned.get("checked_out_at")
        if came and left and left <= came:
            self.add_error("checked_out_at", _("The check-out must come after the check-in."))
        return cleaned


class CorrectionForm(forms.Form):
    minutes = HoursField(label=_("Correct hours"), help_text=_("What the entry should have counted; 0 voids it."))
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ServiceCreditForm(forms.Form):
    description = forms.CharField(label=_("Service"), max_length=200, help_text=_("e.g. repaired a heating valve at home."))
    minutes = HoursField(label=_("Hours"), min_value=Decimal("0.25"))
    served_on = forms.DateField(label=_("Date"), widget=DateInput())
    unit = UnitChoiceField(label=_("Served in"), queryset=Unit.objects.none())

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class TaskForm(forms.Form):
    volunteer = VolunteerChoiceField(label=_("Volunteer"), queryset=Volunteer.objects.none(), widget=forms.RadioSelect)
    description = forms.CharField(
        label=_("What should the volunteer do?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, volunteers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = volunteers


class TaskReportForm(forms.Form):
    report = forms.CharField(label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    minutes = HoursField(label=_("Hours spent"), min_value=Decimal("0.25"))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class AssignBuildingForm(forms.Form):
    building = BuildingChoiceField(label=_("Building"), queryset=Building.objects.none())
    volunteer = VolunteerChoiceField(label=_("Party member"), queryset=Volunteer.objects.none())
    since = forms.DateField(label=_("Since"), required=False, widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, buildings, volunteers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["volunteer"].queryset = volunteers


class SuggestionForm(forms.Form):
    volunteer = VolunteerChoiceField(label=_("Volunteer"), queryset=Volunteer.objects.none())
    title = forms.CharField(label=_("Summary"), max_length=120)
    text = forms.CharField(label=_("Suggestion"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    building = BuildingChoiceField(label=_("Building"), queryset=Building.objects.none(), required=False)

    def __init__(self, *args, volunteers=None, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        if volunteers is None:
            del self.fields["volunteer"]
        else:
            self.fields["volunteer"].queryset = volunteers
        self.fields["building"].queryset = buildings


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ToCaseForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none())
    title = forms.CharField(label=_("Case summary"), max_length=120, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(active=True).order_by("sort_order", "code")


class PeriodForm(forms.Form):
    """A date range for totals; empty ends are open."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("Until"), required=False, widget=DateInput())
    unit = forms.ModelChoiceField(
        label=_("Unit"), queryset=Unit.objects.none(), required=False, to_field_name="code", empty_label=None
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].label_from_instance = unit_label

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise ValidationError(_("The end of the period comes before its start."))
        return cleaned


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_("CSV (UTF-8 or GBK) or .xlsx, at most 5 MB, with the column headers below."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    dry_run = forms.BooleanField(label=_("Only check the file, import nothing"), required=False)
