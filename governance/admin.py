"""The coordination admin: read-only and scoped, like the cases admin.

Whistles, meetings, action items and polls change only through
``governance.coordination.services`` (the staff pages), which keep the timeline, the
grants and the ballot history right; the admin lets administrators find and read them,
each changelist limited to their subtree through the same selectors as the pages.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from communities.admin_scoping import (
    MissingIs404Mixin, ReadOnlyAdminMixin, ScopedAdminMixin, ScopedInlineMixin, register_choices,
)

from .coordination import selectors
from .projects import admin as _projects_admin  # noqa: F401  (registers the project list)
from .models import (
    ActionItem, ActionUpdate, AgendaItem, Ballot, CareNeed, Decision, Meeting, Participant, Poll, Summons, Theme,
    ThemeEvent, ThemeProblem, Visit, Whistle,
)

register_choices(Meeting, selectors.visible_meetings)
register_choices(Poll, selectors.visible_polls)


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ScopedReadOnlyAdmin(MissingIs404Mixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only admin whose rows come from a coordination selector (``visible``)."""

    visible = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = type(self).visible(request.user)
        ordering = self.get_ordering(request)
        return rows.order_by(*ordering) if ordering else rows


class SummonsInline(ReadOnlyInline):
    model = Summons
    fields = ("department", "partner", "reported_at", "reporter_name", "presence", "commitment",
              "response_rating", "justification")


@admin.register(Whistle)
class WhistleAdmin(ScopedReadOnlyAdmin):
    visible = staticmethod(selectors.visible_whistles)
    list_display = ("blown_at", "case", "unit", "reason", "report_due_at")
    list_filter = ("reason",)
    list_select_related = ("case", "unit")
    search_fields = ("case__code", "description")
    inlines = [SummonsInline]


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ("kind", "name", "department", "partner", "attended")


class AgendaInline(ReadOnlyInline):
    model = AgendaItem
    fields = ("position", "topic", "case")


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ("text", "agenda_item")


@admin.register(Meeting)
class MeetingAdmin(ScopedReadOnlyAdmin):
    visible = staticmethod(selectors.visible_meetings)
    list_display = ("starts_at", "title", "format", "level", "unit", "status")
    list_filter = ("format", "level", "status")
    list_select_related = ("unit",)
    search_fields = ("title", "place")
    inlines = [ParticipantInline, AgendaInline, DecisionInline]


class ActionUpdateInline(ReadOnlyInline):
    model = ActionUpdate
    fields = ("at", "by", "to_status", "note")


@admin.register(ActionItem)
class ActionItemAdmin(ScopedReadOnlyAdmin):
    visible = staticmethod(selectors.visible_action_items)
    list_display = ("description", "meeting", "due_on", "status")
    list_filter = ("status",)
    list_select_related = ("meeting",)
    search_fields = ("description",)
    inlines = [ActionUpdateInline]


class BallotInline(ReadOnlyInline):
    model = Ballot
    fk_name = "poll"
    fields = ("elector", "choice", "method", "collected_at", "collector_name", "witness", "superseded_at",
              "correction_reason")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("elector")


@admin.register(Poll)
class PollAdmin(ScopedReadOnlyAdmin):
    visible = staticmethod(selectors.visible_polls)
    list_display = ("title", "unit", "electorate_label", "rule", "closes_on", "status", "passed")
    list_filter = ("rule", "status")
    list_select_related = ("unit",)
    search_fields = ("title",)
    inlines = [BallotInline]


# ---------------------------------------------------------------- 未呼先应: themes and home visits


class ThemeProblemInline(ReadOnlyInline):
    model = ThemeProblem
    fields = ("position", "text")


class ThemeEventInline(ReadOnlyInline):
    model = ThemeEvent
    fields = ("at", "actor", "action", "note")


@admin.register(Theme)
class ThemeAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: themes are adopted, linked and closed on their pages (the history stays right)."""

    scope_path_field = "unit_path"
    list_display = ("month", "title", "unit", "category", "lead_department", "status")
    list_filter = ("status", "source")
    list_select_related = ("unit", "category", "lead_department")
    search_fields = ("title",)
    inlines = [ThemeProblemInline, ThemeEventInline]


class VisitInline(ScopedInlineMixin, ReadOnlyInline):
    model = Visit
    scope_path_field = "need__unit_path"
    fields = ("due_on", "visited_on", "visitor_name", "outcome", "finding", "case")


@admin.register(CareNeed)
class CareNeedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Households are flagged on the visits page (which schedules the first visit); here an
    administrator corrects the details or stops the visits (``active``)."""

    scope_path_field = "unit_path"
    list_display = ("household", "unit", "kind", "person_name", "visit_every_days", "active")
    list_filter = ("kind", "active")
    list_select_related = ("unit", "household__stairwell__building")
    search_fields = ("person_name", "household__stairwell__building__name", "household__room")
    fields = ("household", "kind", "person_name", "masked_phone", "note", "visit_every_days", "active")
    readonly_fields = ("household", "masked_phone")  # the full number only through the visit page's logged reveal
    inlines = [VisitInline]

    @admin.display(description=_("phone"))
    def masked_phone(self, need: CareNeed) -> str:
        return need.masked_phone

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Visit)
class VisitAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    scope_path_field = "need__unit_path"
    list_display = ("due_on", "need", "visited_on", "visitor_name", "outcome")
    list_filter = ("outcome",)
    list_select_related = ("need__household__stairwell__building",)
    date_hierarchy = "due_on"
