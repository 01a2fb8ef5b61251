"""The project list in the admin: read-only and scoped like the rest of the coordination admin.

Items change only through ``governance.projects.services`` (the staff pages), which keep the
history, the roll-up of sub-items and the monthly updates right.
"""

from __future__ import annotations

from django.contrib import admin

from communities.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedInlineMixin, register_choices

from ..models import Project, ProjectEvent, ProjectUpdate
from .selectors import own_projects

register_choices(Project, own_projects)


class UpdateInline(ReadOnlyAdminMixin, ScopedInlineMixin, admin.TabularInline):
    model = ProjectUpdate
    scope_path_field = "project__unit_path"
    fields = ("on", "progress", "text", "public", "by")
    extra = 0


class EventInline(ReadOnlyAdminMixin, ScopedInlineMixin, admin.TabularInline):
    model = ProjectEvent
    scope_path_field = "project__unit_path"
    fields = ("at", "by", "action", "from_status", "to_status", "note")
    extra = 0


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "unit_path"
    list_display = ("title", "unit", "deadline", "status", "progress", "published_at")
    list_filter = ("status", "source")
    list_select_related = ("unit",)
    search_fields = ("title", "description")
    raw_id_fields = ("cases", "meetings", "whistles")
    inlines = [UpdateInline, EventInline]
