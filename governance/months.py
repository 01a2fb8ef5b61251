"""The month picker of the dashboards, hotspots and themes (what month the figures are for)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases import rates

EARLIEST = date(2000, 1, 1)


class MonthForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=[rates.MONTH_FORMAT],
        widget=forms.DateInput(attrs={"type": "month"}, format=rates.MONTH_FORMAT),
        error_messages={"invalid": _("Enter a month as year and month, e.g. 2026-10.")},
    )

    def clean_month(self) -> date | None:
        month = self.cleaned_data.get("month")
        if month is None:
            return None
        if month > rates.current_month():
            raise ValidationError(_("That month has not begun yet."))
        if month < EARLIEST:
            raise ValidationError(_("There are no figures before 2000."))
        return rates.month_start(month)


def chosen_month(data) -> tuple[date, MonthForm]:
    """The month asked for in the query string, or the current month (with the form's errors)."""
    form = MonthForm(data if data.get("month") else None)
    if form.is_bound and form.is_valid() and form.cleaned_data["month"]:
        return form.cleaned_data["month"], form
    return rates.current_month(), form
