"""The form pieces every app's staff forms share: the unit picker (a tree in a <select>) and
the date and date-time pickers. Defined here once; cases, volunteers and governance import
them from this module."""

from __future__ import annotations

from django import forms

from communities.models import Unit


def unit_label(unit: Unit, base: int = 0) -> str:
    # Indent by depth below ``base`` so a street's communities and grids read as a tree in a <select>.
    return f"{'— ' * max(unit.depth - base, 0)}{unit.name}"


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return unit_label(obj)


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return unit_label(obj)


class DateInput(forms.DateInput):
    """A date picker. Its value is always ISO: the browser drops any other (such as the
    Chinese locale's 2026/11/24), which would empty a pre-filled or re-displayed date."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")
