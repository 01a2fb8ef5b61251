"""The form pieces every app's staff forms share: the unit picker (a tree in a <select>) and
the date and date-time pickers. Defined here once; cases, volunteers and governance import
them from this module."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join

from communities.models import Unit


def unit_label(unit: Unit, base: int = 0) -> str:
    # Indent by depth below ``base`` so a street's communities and grids read as a tree in a <select>.
    return f"{'— ' * max(unit.depth - base, 0)}{unit.name}"


class FlatSelect(forms.Select):
    """A <select> whose options are joined in Python: Django renders each option through two
    template includes, and the 411 units of a top-tier unit picker took 27–47 ms of CPU on the
    benchmark VM (a fifth of the work queue's page), 5–6 ms here. Same markup as Django's;
    for choices without option groups (the unit pickers, the queue's filters)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "", "<option value=\"{}\"{}>{}</option>",
            ((option["value"], " selected" if option["attrs"].get("selected") else "", option["label"])
             for _group, group, _index in widget["optgroups"] for option in group),
        )
        return format_html("<select name=\"{}\"{}>{}</select>", widget["name"], _attributes(widget["attrs"]), options)


def _attributes(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html writes them (in order; True alone, False left out)."""
    return format_html_join(
        "", " {}{}", ((name, "" if value is True else format_html('="{}"', value))
                      for name, value in attrs.items() if value is not False),
    )


class UnitChoiceField(forms.ModelChoiceField):
    widget = FlatSelect

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
