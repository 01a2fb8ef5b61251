"""Read endpoint of monthly themes (每月一题), scoped like the pages; one theme with its effect."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from governance.models import Theme, ThemeProblem
from governance.themes.selectors import effect, theme_list

from .filters import StrictBlanks, SubtreeFilter
from .serializers import code_of, name_of
from .views import ApiViewSet


class ThemeSerializer(serializers.ModelSerializer):
    unit = code_of("unit")
    unit_name = name_of("unit")
    category = code_of("category", allow_null=True)
    category_name = name_of("category", allow_null=True)
    place = code_of("place", allow_null=True)
    lead_department = name_of("lead_department", allow_null=True)
    problems = serializers.SerializerMethodField()
    linked = serializers.IntegerField(read_only=True, help_text="Cases linked by hand.")

    class Meta:
        model = Theme
        fields = [
            "id", "title", "month", "status", "source", "unit", "unit_name", "category", "category_name", "place",
            "lead_department", "description", "problems", "linked", "adopted_at", "closed_at", "outcome",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_problems(self, theme: Theme) -> list[str]:
        return [problem.text for problem in theme.problems.all()]


class EffectSerializer(serializers.Serializer):
    months = serializers.ListField(child=serializers.DateField())
    counts = serializers.ListField(child=serializers.IntegerField())
    before_average = serializers.DecimalField(max_digits=10, decimal_places=1, allow_null=True)
    after_average = serializers.DecimalField(max_digits=10, decimal_places=1, allow_null=True)
    change = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)


class ThemeDetailSerializer(ThemeSerializer):
    effect = serializers.SerializerMethodField()

    class Meta(ThemeSerializer.Meta):
        fields = [*ThemeSerializer.Meta.fields, "effect"]
        read_only_fields = fields

    @extend_schema_field(EffectSerializer)
    def get_effect(self, theme: Theme) -> dict:
        result = effect(theme)
        return EffectSerializer({
            "months": result.months, "counts": result.counts, "before_average": result.before_average,
            "after_average": result.after_average, "change": result.change,
        }).data


class ThemeFilter(StrictBlanks, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Theme.Status.choices, label=_("Status"))
    unit = SubtreeFilter(label=_("Unit code: themes adopted in its subtree"))
    month = django_filters.DateFilter(label=_("Month (its first day)"))

    class Meta:
        model = Theme
        fields: list[str] = []



class ThemeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Monthly themes adopted in the user's part of the tree; one theme with its monthly effect."""

    filterset_class = ThemeFilter
    lookup_value_regex = "[0-9]+"
    cursor_ordering = ("-month", "-pk")
    required_perms = ("governance.view_theme",)

    def get_queryset(self):
        problems = Prefetch("problems", queryset=ThemeProblem.objects.order_by("position", "pk"))
        return theme_list(self.request.user).prefetch_related(problems)

    def get_serializer_class(self):
        return ThemeDetailSerializer if self.action == "retrieve" else ThemeSerializer
