"""The admin of the request lifecycle: the taxonomy is edited here; cases are read here.

A case changes state only through ``cases.services`` (the staff pages), so its admin is
read-only: no status to edit, no adding, no deleting. Every changelist stays in the
user's subtree through ``cases.selectors.visible_cases`` (the one scoping rule).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from communities.admin_scoping import ReadOnlyAdminMixin, ScopedAdminMixin, register_choices
from communities.models import Unit
from communities.selectors import posts_of

from .models import (
    Case,
    Category,
    CategoryDeadline,
    CoHandling,
    ContactRecord,
    ExtensionRequest,
    PhoneReveal,
    ReturnVisit,
    Supervision,
    TimelineEvent,
)
from .selectors import visible_cases

register_choices(Case, visible_cases)


def _edits_taxonomy(request: HttpRequest) -> bool:
    """The taxonomy is shared by the whole area: only its top tier (or a superuser) edits it."""
    user = request.user
    return user.is_superuser or any(post.unit.level == Unit.Level.AREA for post in posts_of(user))


class CategoryDeadlineInline(admin.TabularInline):
    model = CategoryDeadline
    fields = ("urgency", "contact_within", "resolve_within")
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "public_name", "parent", "portfolio", "default_urgency", "sort_order", "active")
    list_filter = ("portfolio", "default_urgency", "active")
    search_fields = ("name", "public_name", "code")
    list_select_related = ("parent",)
    fields = ("parent", "code", "name", "public_name", "portfolio", "default_urgency", "sort_order", "active")
    inlines = [CategoryDeadlineInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Category.objects.filter(parent__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and _edits_taxonomy(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and _edits_taxonomy(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and _edits_taxonomy(request)


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # Whoever may see the case may see its history: the case itself was scoped.
        return request.user.has_perm("cases.view_case") or request.user.is_superuser


class TimelineInline(ReadOnlyInline):
    model = TimelineEvent
    fields = ("at", "actor", "actor_label", "action", "from_status", "to_status", "note", "public")
    readonly_fields = fields
    ordering = ("at", "pk")
    verbose_name_plural = _("timeline")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


class CoHandlingInline(ReadOnlyInline):
    model = CoHandling
    fields = readonly_fields = ("unit", "added_at", "done_at", "done_by", "done_note")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("unit", "done_by")


class ContactInline(ReadOnlyInline):
    model = ContactRecord
    fields = readonly_fields = ("at", "by", "method", "summary", "arrangement", "promised_date")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("by")


class SupervisionInline(ReadOnlyInline):
    model = Supervision
    fields = readonly_fields = ("created_at", "unit", "by", "comment", "due_at", "lifted_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("unit", "by")


class ExtensionInline(ReadOnlyInline):
    model = ExtensionRequest
    fields = readonly_fields = (
        "requested_at", "requested_by", "new_due_at", "reason", "decision", "decided_by", "decided_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("requested_by", "decided_by")


class ReturnVisitInline(ReadOnlyInline):
    model = ReturnVisit
    fields = readonly_fields = ("at", "channel", "by", "resolved", "satisfaction", "comment")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("by")


class PhoneRevealInline(ReadOnlyInline):
    model = PhoneReveal
    fields = readonly_fields = ("at", "by")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("by")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: state changes go through the services (and so through the timeline)."""

    scope_path_field = "unit_path"
    scope_grant_perm = "cases.view_case"
    list_display = (
        "code", "title", "category", "status", "unit", "handler", "received_at", "resolve_due_at",
        "is_supervised",
    )
    list_filter = ("status", "source", "urgency", "is_supervised", "excluded_from_rates")
    search_fields = ("code", "hotline_order_no", "title", "address")
    list_select_related = ("category", "unit", "handler")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    fieldsets = (
        (None, {"fields": ("code", "hotline_order_no", "source", "kind", "category", "urgency", "status")}),
        (_("The request"), {"fields": ("title", "description", "location_unit", "building", "address")}),
        (_("The caller"), {"fields": ("resident_name", "masked_phone", "consent_at")}),
        (_("Handling"), {"fields": (
            "unit", "dispatching_unit", "handler", "merged_into", "is_supervised", "nature", "result",
            "excluded_from_rates", "exclusion_reason",
        )}),
        (_("Clock"), {"fields": (
            "received_at", "dispatched_at", "accepted_at", "contacted_at", "contact_due_at",
            "resolve_due_at", "resolved_on", "resolved_at", "closed_at",
        )}),
        (_("Return visit"), {"fields": ("rated_at", "rated_resolved", "satisfaction")}),
    )
    inlines = [
        TimelineInline, CoHandlingInline, ContactInline, SupervisionInline, ExtensionInline,
        ReturnVisitInline, PhoneRevealInline,
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The one rule (subtree + co-handling + guardian grants), as on every staff page.
        return visible_cases(request.user).select_related(*self.list_select_related)

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Case) -> str:
        return obj.masked_phone
