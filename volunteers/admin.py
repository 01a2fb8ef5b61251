"""The admin of the volunteer corps, scoped by tier (``ScopedAdminMixin``).

Skills (and which case categories they fit) are shared by the whole area: only its top tier
edits them. Volunteers, teams, activities and 党员包楼 assignments are edited here within the
user's subtree; the hours ledger, sign-ups, tasks and history are read-only here — they
change only through ``volunteers.services`` (the staff pages), which keep the rules.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from communities.admin_scoping import (
    ReadOnlyAdminMixin, ScopedAdminMixin, ScopedInlineMixin, register_account_ties, register_choices,
)
from communities.models import Unit
from communities.selectors import posts_of

from . import selectors, tallies
from .services.people import party_errors
from .models import (
    Activity, BuildingAssignment, HoursEntry, Membership, SignUp, Skill, Suggestion, Task, Team, Volunteer,
    VolunteerEvent,
)

register_choices(Volunteer, selectors.visible_volunteers)
register_choices(Team, selectors.visible_teams)
register_choices(Activity, selectors.visible_activities)
# A volunteer's login is managed by the administrators of the unit where the volunteer is registered.
register_account_ties(lambda user: selectors.visible_volunteers(user).filter(user__isnull=False).values("user_id"))


def _top_tier(request: HttpRequest) -> bool:
    user = request.user
    return user.is_superuser or any(post.unit.level == Unit.Level.AREA for post in posts_of(user))


class ReadOnlyAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Rows written only by the services: looked at here, never changed."""


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "sort_order")
    search_fields = ("name", "code")
    filter_horizontal = ("categories",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and _top_tier(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and _top_tier(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and _top_tier(request)


class MembershipInline(ScopedInlineMixin, admin.TabularInline):
    model = Membership
    scope_path_field = "volunteer__unit_path"
    fields = ("volunteer", "joined_on")
    autocomplete_fields = ("volunteer",)
    extra = 0


@admin.register(Team)
class TeamAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "unit__path"
    list_display = ("name", "kind", "unit", "leader", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    list_select_related = ("unit", "leader")
    autocomplete_fields = ("leader",)
    inlines = [MembershipInline]


class EventInline(admin.TabularInline):
    model = VolunteerEvent
    fields = readonly_fields = ("at", "actor", "action", "note")
    extra = 0
    can_delete = False
    verbose_name_plural = _("history")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("actor")


class VolunteerAdminForm(forms.ModelForm):
    class Meta:
        model = Volunteer
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        errors = party_errors(cleaned)
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(Volunteer)
class VolunteerAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = VolunteerAdminForm
    scope_path_field = "unit_path"
    list_display = ("person", "masked_phone", "unit", "status", "party_member", "source", "created_at")
    list_filter = ("status", "party_member", "source", "skills", ("anonymised_at", admin.EmptyFieldListFilter))
    search_fields = ("name",)
    list_select_related = ("unit",)
    filter_horizontal = ("skills",)
    # The number is kept out of the admin's lists and forms (masked like residents' numbers);
    # staff change it, the home and the login on the volunteer's page, where the services check
    # them. Status moves go through the services too.
    exclude = ("phone",)
    readonly_fields = ("masked_phone", "unit", "building", "user", "status", "source", "applied_at", "decided_at",
                       "decided_by", "created_at", "anonymised_at")
    inlines = [EventInline]

    @admin.display(description=_("name"), ordering="name")
    def person(self, obj: Volunteer) -> str:
        return str(obj)

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, obj: Volunteer) -> str:
        return gettext("Anonymised") if obj.is_anonymised else obj.masked_phone

    def save_model(self, request: HttpRequest, obj: Volunteer, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        tallies.recount(obj.unit_id)  # party membership is edited here

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # What is left of an anonymised volunteer is looked at, never filled in again.
        return super().has_change_permission(request, obj) and not (obj is not None and obj.is_anonymised)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # added on the staff pages or by import, where the number is checked

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a volunteer who goes "leaves"; their hours stay in the ledger


@admin.register(Activity)
class ActivityAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "unit_path"
    list_display = ("title", "kind", "unit", "team", "starts_at", "capacity", "seats_taken", "cancelled_at")
    list_filter = ("kind",)
    search_fields = ("title", "place")
    list_select_related = ("unit", "team")
    date_hierarchy = "starts_at"
    # Time, place in the tree and seats change on the activity page, where the sign-ups are checked.
    readonly_fields = ("unit", "starts_at", "ends_at", "capacity", "seats_taken", "cancelled_at", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # planned on the calendar page, where times and seats are checked

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # cancelled on the activity page; sign-ups and hours keep pointing at it


@admin.register(SignUp)
class SignUpAdmin(ReadOnlyAdmin):
    scope_path_field = "activity__unit_path"
    list_display = ("activity", "volunteer", "status", "checked_in_at", "checked_out_at")
    list_filter = ("status",)
    list_select_related = ("activity", "volunteer")
    search_fields = ("volunteer__name", "activity__title")


@admin.register(HoursEntry)
class HoursEntryAdmin(ReadOnlyAdmin):
    scope_path_field = "unit_path"
    list_display = ("served_on", "volunteer", "kind", "minutes", "times", "unit", "team", "description", "created_by")
    list_filter = ("kind",)
    list_select_related = ("volunteer", "unit", "team", "created_by")
    search_fields = ("volunteer__name", "description")
    date_hierarchy = "served_on"


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    scope_path_field = "volunteer__unit_path"
    list_display = ("case", "volunteer", "status", "assigned_at", "reported_at")
    list_filter = ("status",)
    list_select_related = ("case", "volunteer")


@admin.register(BuildingAssignment)
class BuildingAssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path_field = "building__unit__path"
    list_display = ("building", "volunteer", "since", "ended_on")
    list_filter = ("ended_on",)
    list_select_related = ("building", "volunteer")
    search_fields = ("building__name", "volunteer__name")
    # Who answers for a building is decided on the 党员包楼 page (party members of the community only).
    readonly_fields = ("building", "volunteer", "since", "assigned_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    scope_path_field = "unit_path"
    list_display = ("title", "volunteer", "unit", "status", "submitted_at", "case")
    list_filter = ("status",)
    list_select_related = ("volunteer", "unit", "case")
    search_fields = ("title", "text", "volunteer__name")
