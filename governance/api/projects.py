"""Read endpoint of the livelihood project list (governance.projects.selectors)."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from cases.models import Case
from governance.models import Project
from governance.projects.selectors import flagged_q, project_rows, visible_projects

from .filters import StrictBlanks, SubtreeFilter
from .serializers import code_of, display_name, name_of
from .views import ApiViewSet


class ProjectSerializer(serializers.ModelSerializer):
    unit = code_of("unit")
    unit_name = name_of("unit")
    owner = serializers.SerializerMethodField(help_text="The owner person, if any.")
    owner_department = name_of("owner_department", allow_null=True)
    owner_unit = code_of("owner_unit", allow_null=True)
    done_on_time = serializers.BooleanField(read_only=True)
    late = serializers.BooleanField(source="is_late", read_only=True,
                                    help_text="Done after the deadline, or open past it.")
    updated_this_month = serializers.BooleanField(read_only=True, help_text="Has an update dated this month.")
    sub_items = serializers.IntegerField(source="n_sub_items", read_only=True)
    open_sub_items = serializers.IntegerField(read_only=True)
    cases = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Project
        fields = [
            "id", "title", "description", "unit", "unit_name", "parent", "weight", "status", "progress",
            "deadline", "done_on", "done_on_time", "late", "budget", "source", "owner", "owner_department",
            "owner_unit", "published_at", "updated_this_month", "sub_items", "open_sub_items", "cases",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner(self, project: Project) -> str | None:
        return display_name(project.owner_user)


class ProjectFilter(StrictBlanks, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Project.Status.choices, label=_("Status"))
    unit = SubtreeFilter(label=_("Unit code: items in its subtree"))
    year = django_filters.NumberFilter(field_name="deadline", lookup_expr="year", min_value=2000, max_value=2100,
                                       label=_("Deadline in year"))
    flagged = django_filters.BooleanFilter(method="only_flagged", label=_("Open with no update this month"))
    top_level = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull",
                                             label=_("Only items, no sub-items"))

    class Meta:
        model = Project
        fields: list[str] = []


    def only_flagged(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(flagged_q()) if value else queryset.exclude(flagged_q())


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """民生项目清单: items of the user's part of the tree, with progress, deadline and the monthly-update flag."""

    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    lookup_value_regex = "[0-9]+"
    cursor_ordering = ("deadline", "pk")
    required_perms = ("governance.view_project",)

    def get_queryset(self):
        cases = Prefetch("cases", queryset=Case.objects.only("pk", "code").order_by("code"))
        return project_rows(visible_projects(self.request.user)).prefetch_related(cases)
