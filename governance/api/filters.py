"""Query filters of the API lists (django-filter), over querysets already scoped to the user.

Cases reuse the work queues' filters (``cases.filters.CaseFilter``: status, channel, urgency,
overdue, search) and name places and categories by code instead of by database id.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django_filters.constants import EMPTY_VALUES
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import rates
from cases.filters import CaseFilter
from cases.models import Case, Category, MonthlyScore
from communities.models import Building, Unit
from communities.selectors import visible_units

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
OUT_OF_RANGE = _("Enter a date between 1900 and 2999.")


class BoundedDateField(forms.DateField):
    """A date the database can store in any time zone (year 1 or 9999 would overflow on the way)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ValidationError(OUT_OF_RANGE, code="out_of_range")
        return value


class BoundedDateTimeField(forms.DateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and not EARLIEST <= value.date() <= LATEST:
            raise ValidationError(OUT_OF_RANGE, code="out_of_range")
        return value


class DayFilter(django_filters.DateFilter):
    """A calendar day in Beijing time against a timestamp: ``after`` from its first instant,
    ``before`` up to its last (both inclusive)."""

    field_class = BoundedDateField

    def __init__(self, *args, bound: str, **kwargs):
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: date | None) -> QuerySet:
        if value is None:
            return qs
        start = timezone.make_aware(datetime.combine(value, time.min))
        if self.bound == "after":
            return qs.filter(**{f"{self.field_name}__gte": start})
        return qs.filter(**{f"{self.field_name}__lt": start + timedelta(days=1)})


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedDateTimeField


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error, not "no filter"."""

    widget = forms.TextInput  # the raw text reaches to_python (NullBooleanSelect maps junk to None)

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if text in ("", "none"):
            return None
        if text not in ("true", "false", "1", "0"):
            raise ValidationError(_("Enter true or false."), code="invalid")
        return text in ("true", "1")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StrictBlanks:
    """A typed parameter sent empty (``?status=``) is an error, as the schema says, not "any".

    Text parameters may be empty: an empty text is still text (and filters nothing).
    """

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, found in self.filters.items():
            if not isinstance(found, django_filters.CharFilter) and self.data.get(name) == "":
                self.form.add_error(name, ValidationError(_("Give a value or leave the parameter out."), code="blank"))
                valid = False
        return valid


def subtree(queryset: QuerySet, request, code: str, *fields: str) -> QuerySet:
    """Rows whose unit (any of ``fields``, each a unit path) lies under the visible unit ``code``."""
    unit = visible_units(request.user).filter(code=code).only("path").first() if request else None
    if unit is None:
        return queryset.none()
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__startswith": unit.path})
    return queryset.filter(condition)


class SubtreeFilter(django_filters.CharFilter):
    """A unit code: the rows whose unit (``path_field``, a unit path) lies under that visible unit."""

    def __init__(self, path_field: str = "unit_path", **kwargs) -> None:
        self.path_field = path_field
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if value in EMPTY_VALUES:
            return qs
        return subtree(qs, self.parent.request, value, self.path_field)


class CaseApiFilter(StrictBlanks, CaseFilter):
    place = None  # by database id on the pages; by code here (``unit``)
    handled_in = None  # the dashboards' link filter; ``unit`` serves API clients
    received = None  # two plain dates here: received_after, received_before
    category = django_filters.CharFilter(
        method="in_category", label=_("Category code (a parent category includes its children)")
    )
    unit = django_filters.CharFilter(
        method="in_unit_code", label=_("Unit code: cases handled or located in its subtree")
    )
    received_after = DayFilter(field_name="received_at", bound="after", label=_("Received on or after (date)"))
    received_before = DayFilter(field_name="received_at", bound="before", label=_("Received on or before (date)"))
    updated_after = InstantFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed at or after (ISO 8601 date and time)")
    )
    hotline_order_no = django_filters.CharFilter(field_name="hotline_order_no", label=_("12345 order number"))

    class Meta:
        model = Case
        fields: list[str] = []

    def in_category(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.filter(Q(category__code=value) | Q(category__parent__code=value))

    def in_unit_code(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return subtree(queryset, self.request, value, "unit_path", "location_unit__path")


class CategoryFilter(StrictBlanks, django_filters.FilterSet):
    active = StrictBooleanFilter(label=_("Offered on forms"))
    parent = django_filters.CharFilter(field_name="parent__code", label=_("Parent category code"))

    class Meta:
        model = Category
        fields: list[str] = []


class UnitFilter(StrictBlanks, django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Unit.Level.choices, label=_("Level"))
    parent = django_filters.CharFilter(field_name="parent__code", label=_("Parent unit code"))
    within = SubtreeFilter("path", label=_("Unit code: that unit and everything under it"))

    class Meta:
        model = Unit
        fields: list[str] = []



class BuildingFilter(StrictBlanks, django_filters.FilterSet):
    unit = SubtreeFilter("unit__path", label=_("Unit code: buildings in its subtree"))

    class Meta:
        model = Building
        fields: list[str] = []



class MonthField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            month = rates.parse_month(value)
        except ValueError:
            raise ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-10."), code="month") from None
        if not EARLIEST <= month <= LATEST:
            raise ValidationError(OUT_OF_RANGE, code="out_of_range")
        return month


class MonthFilter(django_filters.Filter):
    field_class = MonthField


class MonthlyScoreFilter(StrictBlanks, django_filters.FilterSet):
    month = MonthFilter(field_name="month", label=_("Month, YYYY-MM"))
    unit = django_filters.CharFilter(field_name="unit__code", label=_("Unit code (that unit only)"))
    within = SubtreeFilter("unit__path", label=_("Unit code: that unit and everything under it"))

    class Meta:
        model = MonthlyScore
        fields: list[str] = []

