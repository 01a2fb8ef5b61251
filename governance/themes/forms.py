"""Forms of the monthly theme pages: they validate input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.widgets import UnitChoiceField
from cases.models import Category
from communities.models import Unit
from communities.selectors import visible_departments

from ..coordination.forms import own_units
from ..months import MonthForm
from ..models import Theme
from .services import TIERS


class ThemeForm(MonthForm):
    unit = UnitChoiceField(label=_("Adopted by"), queryset=Unit.objects.none(), empty_label=None)
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("What the problem is"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False,
        empty_label=_("None (link cases by hand)"),
        help_text=_("Cases of this category under the adopting unit count towards the theme."),
    )
    place = UnitChoiceField(
        label=_("Only where"), queryset=Unit.objects.none(), required=False,
        empty_label=_("Anywhere under the adopting unit"),
    )
    lead_department = forms.ModelChoiceField(label=_("Leading department"), queryset=None, required=False)
    problems = forms.CharField(
        label=_("Problems under the theme"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line."),
    )
    source = forms.ChoiceField(choices=Theme.Source.choices, widget=forms.HiddenInput, initial=Theme.Source.MANUAL)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].required = True
        units = own_units(user)
        self.fields["unit"].queryset = units.filter(level__in=TIERS)
        self.fields["place"].queryset = units
        self.fields["lead_department"].queryset = visible_departments(user).order_by("name")

    def clean_month(self):
        # A theme may be planned for next month: only "not before 2000" is checked here.
        month = self.cleaned_data.get("month")
        return month.replace(day=1) if month else month

    @property
    def problem_lines(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("problems", "").splitlines() if line.strip()]


class LinkCaseForm(forms.Form):
    code = forms.CharField(label=_("Tracking code"), max_length=16)


class CloseThemeForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 3}))
