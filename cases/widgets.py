"""The form pieces every app's staff forms share: the unit picker (a tree in a <select>) and
the date and date-time pickers. Defined here once; cases, volunteers and governance import
them from this module."""

from __future__ import annotations

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape

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


SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
# Django's templates of these widgets are input.html alone; textarea.html is its own.
INPUT_TEMPLATES = frozenset(f"django/forms/widgets/{name}.html" for name in (
    "checkbox", "color", "date", "datetime", "email", "hidden", "number", "password", "search", "tel", "text",
    "time", "url",
))
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"


class FormRenderer(DjangoTemplates):
    """Django's form renderer (settings.FORM_RENDERER), except that a <select>, an <input> and a
    <textarea> are written here in Python, with exactly the markup of Django's select,
    select_option, input, textarea and attrs templates.

    A unit picker offers every unit of the user's subtree (411 at the top tier of the benchmark
    area): rendering each option through two included templates took 100 ms of the 265 ms a
    search of the case queue costs there. An input or a textarea went through two templates too
    (its own and attrs.html): about a quarter of the case page's template time for the action
    forms shown. (A project template overriding one of these would not be used: change
    ``_select``, ``_input`` or ``_textarea`` instead.)
    """

    def render(self, template_name, context, request=None):
        if template_name == SELECT_TEMPLATE and _plain_options(context["widget"]):
            return _select(context["widget"])
        if template_name in INPUT_TEMPLATES:
            return _input(context["widget"])
        if template_name == TEXTAREA_TEMPLATE:
            return _textarea(context["widget"])
        return super().render(template_name, context, request)


def _plain_options(widget: dict) -> bool:
    return all(option["template_name"] == OPTION_TEMPLATE for _group, options, _index in widget["optgroups"] for option in options)


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items() if value is not False
    )


def _select(widget: dict) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f'\n  <optgroup label="{conditional_escape(group)}">')
        parts.extend(
            f'\n  <option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
            f'{conditional_escape(option["label"])}</option>\n'  # select_option.html ends with a line break
            for option in options
        )
        if group:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``: the text of the value, escaped unless it is safe already."""
    return conditional_escape(value if isinstance(value, str) else str(value))


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f'{value}{_attrs(widget["attrs"])}>'
    )


def _textarea(widget: dict) -> str:
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'
