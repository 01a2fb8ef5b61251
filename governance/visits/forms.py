"""Forms of the home visit pages: they validate input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import Category
from cases.widgets import DateInput
from communities.models import Building, Household

from ..coordination.forms import own_buildings
from ..models import CareNeed, Visit


class BuildingField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Building) -> str:
        return f"{obj.unit.name} · {obj.name}"


class NeedForm(forms.Form):
    building = BuildingField(label=_("Building"), queryset=Building.objects.none())
    stairwell = forms.IntegerField(label=_("Stairwell unit"), min_value=1)
    room = forms.CharField(label=_("Room"), max_length=20)
    kind = forms.ChoiceField(label=_("Why"), choices=CareNeed.Kind.choices)
    person_name = forms.CharField(label=_("Person's name"), max_length=50, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    visit_every_days = forms.IntegerField(label=_("Visit every (days)"), min_value=1, max_value=366, initial=30)
    first_visit_on = forms.DateField(label=_("First visit"), required=False, widget=DateInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = own_buildings(user)
        self.household: Household | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        household = Household.objects.select_related("stairwell__building__unit").filter(
            stairwell__building=data["building"], stairwell__number=data["stairwell"], room=data["room"].strip()
        ).first()
        if household is None:
            raise ValidationError(
                _("There is no room %(room)s in unit %(stairwell)s of %(building)s.")
                % {"room": data["room"], "stairwell": data["stairwell"], "building": data["building"].name}
            )
        self.household = household
        return data


class RecordVisitForm(forms.Form):
    visited_on = forms.DateField(label=_("Visited on"), widget=DateInput)
    visitor_name = forms.CharField(
        label=_("Visited by"), max_length=50, required=False, help_text=_("Blank: the building head assigned, or you.")
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Visit.Outcome.choices, widget=forms.RadioSelect)
    finding = forms.CharField(label=_("What was found"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RaiseCaseForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.filter(active=True))
    title = forms.CharField(label=_("Summary"), max_length=120)
    description = forms.CharField(
        label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Blank: what the visit found."),
    )
