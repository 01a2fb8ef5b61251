"""Filters of the roster (django-filter), over an already scoped queryset."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cases.filters import UnitFilter
from communities.models import Unit
from communities.selectors import visible_units

from .models import Skill, Team, Volunteer

CURRENT = [Volunteer.Status.APPLIED, Volunteer.Status.ACTIVE, Volunteer.Status.PAUSED]


def _units(request):
    return visible_units(request.user).order_by("path") if request else Unit.objects.none()


def _teams(request):
    if request is None:
        return Team.objects.none()
    from .selectors import visible_teams

    return visible_teams(request.user).order_by("unit__path", "name")


class RosterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or last four digits of the phone")}),
    )
    status = django_filters.ChoiceFilter(
        method="by_status", label=_("Status"), empty_label=_("Current (applied, active, paused)"),
        choices=[*Volunteer.Status.choices, ("all", _("Any status"))],
    )
    place = UnitFilter(queryset=_units, method="in_unit", label=_("Community or grid"), empty_label=_("Anywhere"))
    team = django_filters.ModelChoiceFilter(
        queryset=_teams, method="in_team", label=_("Team"), empty_label=_("Any team")
    )
    skill = django_filters.ModelChoiceFilter(
        queryset=Skill.objects.order_by("sort_order", "code"), field_name="skills", label=_("Skill"),
        empty_label=_("Any skill"),
    )
    party = django_filters.ChoiceFilter(
        method="by_party", label=_("Party membership"), empty_label=_("Anyone"),
        choices=[("yes", _("Party members")), ("in_service", _("In-service party members")), ("no", _("Not party members"))],
    )

    class Meta:
        model = Volunteer
        fields: list[str] = []

    @property
    def qs(self) -> QuerySet[Volunteer]:
        queryset = super().qs
        if not (self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("status")):
            # Current: not those anonymised when paused or undecided for years (any status shows them).
            queryset = queryset.filter(status__in=CURRENT, anonymised_at__isnull=True)
        return queryset

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = Q(name__icontains=value)
        if value.isdigit() and len(value) == 4:
            condition |= Q(phone__endswith=value, anonymised_at__isnull=True)
        return queryset.filter(condition)

    def by_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset if value == "all" else queryset.filter(status=value)

    def in_unit(self, queryset: QuerySet, name: str, unit) -> QuerySet:
        return queryset.filter(unit_path__startswith=unit.path) if unit else queryset

    def in_team(self, queryset: QuerySet, name: str, team) -> QuerySet:
        return queryset.filter(memberships__team=team) if team else queryset

    def by_party(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "yes":
            return queryset.filter(party_member=True)
        if value == "in_service":
            return queryset.filter(party_member=True).exclude(employer_party_org="")
        if value == "no":
            return queryset.filter(party_member=False)
        return queryset
