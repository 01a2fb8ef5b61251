"""What the API shows of each object. Related objects by their stable codes, never by a URL
that would change with the deployment; the caller's phone is always masked."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import rates, selectors, services, timeline
from cases.models import Case, Category, MonthlyScore, TimelineEvent
from communities import names
from communities.models import Building, Unit


def display_name(user) -> str | None:
    return None if user is None else names.display_name(user)


def code_of(source: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(source=f"{source}.code", read_only=True, **kwargs)


def name_of(source: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(source=f"{source}.name", read_only=True, **kwargs)


class CategorySerializer(serializers.ModelSerializer):
    parent = code_of("parent", allow_null=True)

    class Meta:
        model = Category
        fields = ["code", "name", "public_name", "parent", "portfolio", "default_urgency", "active", "sort_order"]


class UnitSerializer(serializers.ModelSerializer):
    parent = code_of("parent", allow_null=True)

    class Meta:
        model = Unit
        fields = ["code", "name", "level", "parent", "depth", "address", "phone"]


class BuildingSerializer(serializers.ModelSerializer):
    unit = code_of("unit")
    unit_name = name_of("unit")

    class Meta:
        model = Building
        fields = ["id", "name", "unit", "unit_name", "address", "floors", "year_built", "has_elevator"]


class CaseSerializer(serializers.ModelSerializer):
    """A case in a list: what a queue row shows, related rows joined (LIST_RELATED)."""

    category = code_of("category")
    category_name = name_of("category")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    unit = code_of("unit")
    unit_name = name_of("unit")
    location_unit = code_of("location_unit")
    location_unit_name = name_of("location_unit")
    building_name = name_of("building", allow_null=True)
    handler = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    resident_phone = serializers.CharField(source="masked_phone", read_only=True, help_text="Always masked.")
    # Choices that may be blank: declared so the schema's enum includes "" (read-only fields lose it).
    satisfaction = serializers.ChoiceField(Case.Satisfaction.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "code", "hotline_order_no", "source", "kind", "category", "category_name", "urgency",
            "title", "status", "status_display", "unit", "unit_name", "location_unit",
            "location_unit_name", "building", "building_name", "address", "handler",
            "resident_name", "resident_phone", "is_supervised", "excluded_from_rates", "overdue",
            "received_at", "dispatched_at", "accepted_at", "contacted_at", "resolved_at",
            "resolved_on", "closed_at", "contact_due_at", "resolve_due_at", "rated_resolved", "satisfaction",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_handler(self, case: Case) -> str | None:
        return display_name(case.handler) if case.handler_id else None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, case: Case) -> bool:
        now = self.context.setdefault("now", timezone.now())
        return selectors.is_overdue(case, now=now)


class TimelineEventSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEvent
        fields = ["at", "action", "label", "actor", "from_status", "to_status", "note", "public", "data"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_label(self, event: TimelineEvent) -> str:
        return str(timeline.label(event.action))

    @extend_schema_field(OpenApiTypes.STR)
    def get_actor(self, event: TimelineEvent) -> str:
        return display_name(event.actor) if event.actor_id else event.actor_label


class CaseDetailSerializer(CaseSerializer):
    """One case: the list fields, what happened and what the user may do next."""

    nature = serializers.ChoiceField(Case.Nature.choices, allow_blank=True, read_only=True)
    dispatching_unit = code_of("dispatching_unit", allow_null=True)
    merged_into = code_of("merged_into", allow_null=True)
    co_handling_units = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(
        help_text="The actions (POST /api/v1/cases/{code}/{action}/) the user may take now."
    )

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields, "description", "nature", "result", "dispatching_unit",
            "merged_into", "co_handling_units", "timeline", "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_co_handling_units(self, case: Case) -> list[str]:
        return list(case.co_handlings.order_by("added_at").values_list("unit__code", flat=True))

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, case: Case) -> list[dict]:
        return TimelineEventSerializer(selectors.timeline(case), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, case: Case) -> list[str]:
        user = self.context["request"].user
        allowed = services.allowed_actions(case, user)
        return sorted(name.replace("_", "-") for name in allowed)


class MonthlyScoreSerializer(serializers.ModelSerializer):
    """A frozen month of one unit (cases.MonthlyScore)."""

    unit = code_of("unit")
    unit_name = name_of("unit")
    month = serializers.SerializerMethodField()

    class Meta:
        model = MonthlyScore
        fields = [
            "unit", "unit_name", "month", "dispatched", "contacted_on_time", "rated", "rated_resolved",
            "satisfied", "basically_satisfied", "response_rate", "resolution_rate",
            "satisfaction_rate", "composite", "frozen_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(help_text="YYYY-MM"))
    def get_month(self, row: MonthlyScore) -> str:
        return rates.month_label(row.month)


class ScoreSerializer(serializers.Serializer):
    """A unit's 三率 for a month (cases.rates.Score): live for an open month, frozen for a closed one."""

    unit = code_of("unit")
    unit_name = name_of("unit")
    month = serializers.SerializerMethodField()
    dispatched = serializers.IntegerField(read_only=True)
    contacted_on_time = serializers.IntegerField(read_only=True)
    rated = serializers.IntegerField(read_only=True)
    rated_resolved = serializers.IntegerField(read_only=True)
    satisfied = serializers.IntegerField(read_only=True)
    basically_satisfied = serializers.IntegerField(read_only=True)
    response_rate = serializers.DecimalField(max_digits=6, decimal_places=4, read_only=True, allow_null=True)
    resolution_rate = serializers.DecimalField(max_digits=6, decimal_places=4, read_only=True, allow_null=True)
    satisfaction_rate = serializers.DecimalField(max_digits=6, decimal_places=4, read_only=True, allow_null=True)
    composite = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True, allow_null=True)
    frozen = serializers.BooleanField(read_only=True)
    rank = serializers.IntegerField(read_only=True, allow_null=True)
    lowest = serializers.BooleanField(read_only=True)

    @extend_schema_field(serializers.CharField(help_text="YYYY-MM"))
    def get_month(self, score) -> str:
        return rates.month_label(score.month)


class UnitScoresSerializer(serializers.Serializer):
    month = serializers.CharField(read_only=True, help_text="YYYY-MM")
    frozen = serializers.BooleanField(read_only=True)
    unit = ScoreSerializer(read_only=True, help_text="The unit's whole subtree.")
    children = ScoreSerializer(many=True, read_only=True, help_text="Its child units, best composite first.")
