"""Read endpoints of the volunteer corps: volunteers and activities (volunteers.selectors' scope)."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers

from volunteers.models import Activity, Skill, Volunteer
from volunteers.selectors import visible_activities, visible_volunteers

from .filters import DayFilter, StrictBlanks, StrictBooleanFilter, SubtreeFilter
from .serializers import code_of, name_of
from .views import ApiViewSet


class VolunteerSerializer(serializers.ModelSerializer):
    unit = code_of("unit")
    unit_name = name_of("unit")
    phone = serializers.CharField(
        source="masked_phone", read_only=True, help_text="Always masked; empty once the volunteer is anonymised."
    )
    skills = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Volunteer
        fields = [
            "id", "name", "phone", "unit", "unit_name", "building", "party_member", "employer_party_org",
            "skills", "availability", "status", "source", "applied_at", "decided_at", "created_at", "anonymised_at",
        ]
        read_only_fields = fields


class VolunteerFilter(StrictBlanks, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Volunteer.Status.choices, label=_("Status"))
    party_member = StrictBooleanFilter(label=_("Party member"))
    unit = SubtreeFilter(label=_("Unit code: volunteers living in its subtree"))

    class Meta:
        model = Volunteer
        fields: list[str] = []



class VolunteerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The corps in the user's part of the tree (phones masked)."""

    serializer_class = VolunteerSerializer
    filterset_class = VolunteerFilter
    lookup_value_regex = "[0-9]+"
    cursor_ordering = ("pk",)
    required_perms = ("volunteers.view_volunteer",)

    def get_queryset(self):
        skills = Prefetch("skills", queryset=Skill.objects.order_by("sort_order", "code"))
        return visible_volunteers(self.request.user).prefetch_related(skills)


class ActivitySerializer(serializers.ModelSerializer):
    unit = code_of("unit")
    unit_name = name_of("unit")
    team_name = name_of("team", allow_null=True)
    seats_left = serializers.IntegerField(read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id", "title", "kind", "unit", "unit_name", "team", "team_name", "place", "starts_at", "ends_at",
            "capacity", "seats_taken", "seats_left", "description", "cancelled_at",
        ]
        read_only_fields = fields


class ActivityFilter(StrictBlanks, django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices, label=_("Kind"))
    unit = SubtreeFilter(label=_("Unit code: activities in its subtree"))
    starts_after = DayFilter(field_name="starts_at", bound="after", label=_("Starts on or after (date)"))
    starts_before = DayFilter(field_name="starts_at", bound="before", label=_("Starts on or before (date)"))

    class Meta:
        model = Activity
        fields: list[str] = []



class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Service activities in the user's part of the tree, latest start first."""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    lookup_value_regex = "[0-9]+"
    cursor_ordering = ("-starts_at", "-pk")
    required_perms = ("volunteers.view_activity",)

    def get_queryset(self):
        return visible_activities(self.request.user)
