"""Filters of the work queues and exports (django-filter), over an already scoped queryset."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from communities.models import Unit
from communities.selectors import visible_units

from . import search, selectors
from .models import Case, Category, Urgency
from .widgets import DateInput, UnitChoiceField


class DateRangeInputs(DateRangeWidget):
    def __init__(self, attrs=None):
        forms.MultiWidget.__init__(self, (DateInput(attrs), DateInput(attrs)), attrs)


class UnitFilter(django_filters.ModelChoiceFilter):
    field_class = UnitChoiceField


def _units(request):
    """The grid/community choices: units in the user's subtree (none without a request)."""
    if request is None:
        return Unit.objects.none()
    return visible_units(request.user).order_by("path")


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Code, 12345 number, words of the request or its timeline")}),
    )
    status = django_filters.ChoiceFilter(choices=Case.Status.choices, label=_("Status"), empty_label=_("Any status"))
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), label=_("Category"), empty_label=_("Any category")
    )
    source = django_filters.ChoiceFilter(choices=Case.Source.choices, label=_("Channel"), empty_label=_("Any channel"))
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices, label=_("Urgency"), empty_label=_("Any urgency"))
    place = UnitFilter(queryset=_units, method="in_unit", label=_("Grid or community"), empty_label=_("Anywhere"))
    handled_in = UnitFilter(
        queryset=_units, method="in_handling_unit", label=_("Handled in"), empty_label=_("Any unit"),
        widget=forms.HiddenInput,  # set by the dashboards' links, which count cases by handling unit
    )
    received = django_filters.DateFromToRangeFilter(
        field_name="received_at", label=_("Received between"), widget=DateRangeInputs()
    )
    overdue = django_filters.ChoiceFilter(
        method="by_overdue", label=_("Overdue"), empty_label=_("Either"),
        choices=[("yes", _("Overdue")), ("no", _("Not overdue"))],
    )

    class Meta:
        model = Case
        fields: list[str] = []

    _search: search.Search | None = None
    _search_newest: int | None = None  # set only while ``qs_searching_newest`` filters

    def search(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        if self._search is None or self._search.term != value.strip():
            self._search = search.Search(value)
        return self._search.filter(queryset, newest=self._search_newest)

    def qs_searching_newest(self, count: int) -> QuerySet[Case]:
        """``qs`` with its search term matched among the newest ``count`` cases only, walking them
        in date order (``cases.search``): where a common term's first page is found at once."""
        self.qs  # validated, and the term's keys read
        self._search_newest = count
        try:
            return self.filter_queryset(self.queryset.all())
        finally:
            self._search_newest = None

    def in_unit(self, queryset: QuerySet[Case], name: str, unit) -> QuerySet[Case]:
        """Cases handled in, or located in, the chosen grid or community."""
        if not unit:
            return queryset
        return queryset.filter(Q(unit_path__startswith=unit.path) | Q(location_unit__path__startswith=unit.path))

    def in_handling_unit(self, queryset: QuerySet[Case], name: str, unit) -> QuerySet[Case]:
        """Cases handled in the unit's subtree: what the dashboards count."""
        return queryset.filter(unit_path__startswith=unit.path) if unit else queryset

    def by_overdue(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        if value == "yes":
            return queryset.filter(selectors.overdue_q())
        if value == "no":
            return queryset.exclude(selectors.overdue_q())
        return queryset
