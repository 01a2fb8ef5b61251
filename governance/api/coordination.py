"""Read endpoints of deliberation: meetings and consent polls (governance.coordination.selectors)."""

from __future__ import annotations

from dataclasses import asdict

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from governance.coordination.selectors import meeting_list, poll_list, poll_tally
from governance.models import Meeting, Poll

from .filters import DayFilter, StrictBlanks, SubtreeFilter
from .serializers import code_of, display_name, name_of
from .views import ApiViewSet


class MeetingSerializer(serializers.ModelSerializer):
    unit = code_of("unit")
    unit_name = name_of("unit")
    building_name = name_of("building", allow_null=True)
    convener = serializers.SerializerMethodField()
    agenda_count = serializers.IntegerField(read_only=True)
    open_actions = serializers.IntegerField(read_only=True, help_text="Action items not done or dropped.")

    class Meta:
        model = Meeting
        fields = [
            "id", "title", "format", "level", "status", "unit", "unit_name", "building", "building_name",
            "place", "starts_at", "ends_at", "convener", "agenda_count", "open_actions", "held_at",
            "minutes", "notice_summary", "notice_published_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_convener(self, meeting: Meeting) -> str:
        return display_name(meeting.convener)


class MeetingFilter(StrictBlanks, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Meeting.Status.choices, label=_("Status"))
    format = django_filters.ChoiceFilter(choices=Meeting.Format.choices, label=_("Format"))
    unit = SubtreeFilter(label=_("Unit code: meetings in its subtree"))
    starts_after = DayFilter(field_name="starts_at", bound="after", label=_("Starts on or after (date)"))
    starts_before = DayFilter(field_name="starts_at", bound="before", label=_("Starts on or before (date)"))

    class Meta:
        model = Meeting
        fields: list[str] = []



class MeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Deliberation meetings of the user's part of the tree, and those they were invited to."""

    serializer_class = MeetingSerializer
    filterset_class = MeetingFilter
    lookup_value_regex = "[0-9]+"
    cursor_ordering = ("-starts_at", "-pk")
    required_perms = ("governance.view_meeting",)

    def get_queryset(self):
        return meeting_list(self.request.user)


class TallySerializer(serializers.Serializer):
    electorate = serializers.IntegerField()
    electorate_area = serializers.DecimalField(max_digits=14, decimal_places=2)
    agree = serializers.IntegerField()
    agree_area = serializers.DecimalField(max_digits=14, decimal_places=2)
    object = serializers.IntegerField()
    object_area = serializers.DecimalField(max_digits=14, decimal_places=2)
    abstain = serializers.IntegerField()
    abstain_area = serializers.DecimalField(max_digits=14, decimal_places=2)


class PollSerializer(serializers.ModelSerializer):
    unit = code_of("unit")
    unit_name = name_of("unit")
    case = code_of("case", allow_null=True)
    electorate = serializers.IntegerField(read_only=True, help_text="Households entitled to vote.")
    reached = serializers.IntegerField(read_only=True, help_text="Households with a current ballot.")

    class Meta:
        model = Poll
        fields = [
            "id", "title", "question", "unit", "unit_name", "electorate_label", "case", "rule",
            *Poll.THRESHOLD_FIELDS, "max_objections", "opens_on", "closes_on", "status", "closed_at",
            "passed", "electorate", "reached",
        ]
        read_only_fields = fields


class PollDetailSerializer(PollSerializer):
    tally = serializers.SerializerMethodField()

    class Meta(PollSerializer.Meta):
        fields = [*PollSerializer.Meta.fields, "tally"]
        read_only_fields = fields

    @extend_schema_field(TallySerializer)
    def get_tally(self, poll: Poll) -> dict:
        return TallySerializer(asdict(poll_tally(poll))).data


class PollFilter(StrictBlanks, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Poll.Status.choices, label=_("Status"))
    unit = SubtreeFilter(label=_("Unit code: polls in its subtree"))

    class Meta:
        model = Poll
        fields: list[str] = []



class PollViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Household consent polls of the user's part of the tree; one poll with its live tally."""

    filterset_class = PollFilter
    lookup_value_regex = "[0-9]+"
    cursor_ordering = ("-opens_on", "-pk")
    required_perms = ("governance.view_poll",)

    def get_queryset(self):
        return poll_list(self.request.user)

    def get_serializer_class(self):
        return PollDetailSerializer if self.action == "retrieve" else PollSerializer
