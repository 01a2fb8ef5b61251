"""Forms of the project list pages. They validate input; ``services`` decides what is allowed.

Every choice offered comes from a scoping selector, so no form lists another subtree's
units, staff, departments, suggestions or meetings.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.widgets import DateInput, UnitChoiceField
from cases.uploads import DecodePhotosLastMixin, check_photos
from communities.models import Unit
from communities.selectors import scope, visible_departments, visible_posts
from volunteers.models import Suggestion

from ..coordination.forms import PersonChoiceField, own_units
from ..coordination.selectors import visible_meetings
from ..models import Project
from ..themes.selectors import visible_themes


class ProjectForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Residents read the title and this text once the item is published: no names or phone numbers."),
    )
    unit = UnitChoiceField(label=_("On the list of"), queryset=Unit.objects.none(), empty_label=None)
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)
    owner_user = PersonChoiceField(label=_("Owner: a person"), queryset=None, required=False)
    owner_department = forms.ModelChoiceField(label=_("Owner: a department"), queryset=None, required=False)
    owner_unit = UnitChoiceField(label=_("Owner: a unit"), queryset=Unit.objects.none(), required=False)
    budget = forms.DecimalField(label=_("Budget (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2)
    weight = forms.IntegerField(
        label=_("Weight"), min_value=1, max_value=1000, initial=1,
        help_text=_("A sub-item's share of its item's progress (e.g. its number of charging piles); 1 for equal shares."),
    )
    source = forms.ChoiceField(label=_("Found by"), choices=Project.Source.choices)
    source_suggestion = forms.ModelChoiceField(label=_("From the suggestion"), queryset=None, required=False)
    source_meeting = forms.ModelChoiceField(label=_("From the meeting"), queryset=None, required=False)
    source_theme = forms.ModelChoiceField(label=_("From the monthly theme"), queryset=None, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        people = visible_posts(user).filter(active=True).values("user_id")
        self.fields["owner_user"].queryset = get_user_model().objects.filter(
            pk__in=people, is_active=True
        ).order_by("username")
        self.fields["unit"].queryset = own_units(user)
        self.fields["owner_unit"].queryset = own_units(user)
        self.fields["owner_department"].queryset = visible_departments(user).order_by("name")
        suggestions = scope(Suggestion.objects.all(), user, path_field="unit_path")
        self.fields["source_suggestion"].queryset = suggestions.order_by("-submitted_at")
        self.fields["source_meeting"].queryset = visible_meetings(user).order_by("-starts_at")
        self.fields["source_theme"].queryset = visible_themes(user).order_by("-month", "-pk")

    def clean(self):
        data = super().clean()
        if data.get("owner_department") and data.get("owner_unit"):
            raise ValidationError(_("Choose a department or a unit as the owner, not both."))
        if not (data.get("owner_user") or data.get("owner_department") or data.get("owner_unit")):
            raise ValidationError(_("Name an owner: a person, a department or a unit."))
        return data

    @classmethod
    def initial_from(cls, project: Project) -> dict:
        return {name: getattr(project, name) for name in cls.base_fields}


class UpdateForm(DecodePhotosLastMixin, forms.Form):
    photo_fields = ("photo",)
    on = forms.DateField(label=_("Date"), widget=DateInput)
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100, required=False)
    text = forms.CharField(label=_("What happened"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(
        label=_("Photo"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
        help_text=_("JPEG or PNG, at most 10 MB."),
    )
    public = forms.BooleanField(label=_("Show to residents"), required=False, initial=True)

    def __init__(self, *args, project: Project, has_parts: bool, **kwargs):
        kwargs.setdefault("initial", {"on": timezone.localdate(), "progress": project.progress, "public": True})
        super().__init__(*args, **kwargs)
        if has_parts:
            del self.fields["progress"]  # taken from the sub-items
        else:
            self.fields["progress"].required = True

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        return check_photos([upload])[0]  # decoded last, once the rest is valid


class FinishForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class LinkForm(forms.Form):
    case = forms.CharField(label=_("Case tracking code"), required=False, max_length=16)
    meeting = forms.IntegerField(label=_("Meeting number"), required=False, min_value=1)
    whistle = forms.IntegerField(label=_("Whistle number"), required=False, min_value=1)

    def clean(self):
        data = super().clean()
        if sum(1 for name in ("case", "meeting", "whistle") if data.get(name)) != 1:
            raise ValidationError(_("Choose one case, meeting or whistle to link."))
        return data


class ListFilterForm(forms.Form):
    """The list's filters; a bad value is shown back with its error and the filter left off."""

    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + Project.Status.choices)
    flagged = forms.BooleanField(label=_("No update this month"), required=False)
    unit = forms.CharField(label=_("Unit code"), required=False, max_length=40)
    year = forms.IntegerField(label=_("Deadline in year"), required=False, min_value=2000, max_value=2100)
