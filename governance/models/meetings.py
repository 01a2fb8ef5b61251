"""议事协商: deliberation meetings, their agenda and decisions, and the action items they set."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import PREFIX, Case
from communities.models import Building, Department, PartnerOrganisation, Unit, follows_unit_path


@follows_unit_path
class Meeting(models.Model):
    """A meeting of one of the formats in the field reports, held at one level of one unit."""

    class Format(models.TextChoices):
        ROUND_TABLE = "round_table", _("Round-table meeting")
        COUNCIL_HALL = "council_hall", _("Deliberation hall")
        BENCH = "bench", _("Bench meeting")
        THREE_LEVEL = "three_level", _("Three-level deliberation")
        PARTY_COORDINATION = "party_coordination", _("Party-building coordination meeting")
        JOINT = "joint", _("Joint meeting of several parties")
        MATCHMAKING = "matchmaking", _("Matchmaking meeting")
        BRIEFING = "briefing", _("Briefing session")
        SIGNING = "signing", _("Signing meeting")
        OTHER = "other", _("Other meeting")

    class Level(models.TextChoices):
        BUILDING = "building", _("Building")
        COMPOUND = "compound", _("Compound")
        COMMUNITY = "community", _("Community")
        AREA = "area", _("Street or area")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("subject"), max_length=120)
    format = models.CharField(_("format"), max_length=24, choices=Format.choices)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="meetings")
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="meetings",
    )
    place = models.CharField(_("place"), max_length=200, help_text=_("e.g. the stone table on the community square"))
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    convener = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("convener"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    minutes = models.TextField(_("minutes"), blank=True)
    held_at = models.DateTimeField(_("minutes recorded"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    notice_summary = models.TextField(
        _("public summary"), blank=True,
        help_text=_("What residents read on the public notice. No names or phone numbers."),
    )
    notice_published_at = models.DateTimeField(_("notice published"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("deliberation meeting")
        verbose_name_plural = _("deliberation meetings")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["unit_path", "starts_at"], name="meeting_scope_starts")]
        permissions = [("publish_notice", _("Can publish a meeting's public notice"))]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("coordination:meeting", kwargs={"pk": self.pk})

    def save(self, *args, **kwargs) -> None:
        self.unit_path = Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)
        super().save(*args, **kwargs)


class Participant(models.Model):
    """A party invited to a meeting, by kind; attendance is recorded with the minutes."""

    class Kind(models.TextChoices):
        RESIDENT_REP = "resident_rep", _("Residents' representative")
        NEIGHBOURHOOD_COMMITTEE = "neighbourhood_committee", _("Residents' committee")
        PROPERTY_MANAGER = "property_manager", _("Property management")
        OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")
        DEPARTMENT = "department", _("Government department")
        CO_BUILDER = "co_builder", _("Party-building partner unit")
        PARTY_MEMBER = "party_member", _("Party member")
        VOLUNTEER = "volunteer", _("Volunteer")
        OTHER = "other", _("Other")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, help_text=_("A person or an organisation."))
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        PartnerOrganisation, verbose_name=_("partner organisation"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    attended = models.BooleanField(_("attended"), null=True, blank=True)

    class Meta:
        verbose_name = _("invited party")
        verbose_name_plural = _("invited parties")
        ordering = ["meeting", "kind", "pk"]

    def __str__(self) -> str:
        return self.name


class AgendaItem(models.Model):
    """A point on the agenda: a case, or a free topic."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    case = models.ForeignKey(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="agenda_items"
    )
    topic = models.CharField(_("topic"), max_length=200)
    discussion = models.TextField(_("discussion"), blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position", "pk"]

    def __str__(self) -> str:
        return self.topic


class Decision(models.Model):
    """What the meeting decided, on an agenda item or on the meeting as a whole."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    agenda_item = models.ForeignKey(
        AgendaItem, verbose_name=_("agenda item"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="decisions",
    )
    text = models.TextField(_("decision"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["meeting", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


@follows_unit_path
class ActionItem(models.Model):
    """Who does what by when, as decided; followed with updates until done.

    ``unit_path`` copies the meeting's unit path, so "overdue items of this unit" is one
    prefix filter on this table.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    FINISHED = (Status.DONE, Status.DROPPED)

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="action_items")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    description = models.TextField(_("what is to be done"))
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner (person)"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="action_items",
    )
    owner_department = models.ForeignKey(
        Department, verbose_name=_("owner (department)"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="action_items",
    )
    owner_partner = models.ForeignKey(
        PartnerOrganisation, verbose_name=_("owner (partner organisation)"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="action_items",
    )
    owner_unit = models.ForeignKey(
        Unit, verbose_name=_("owner (unit)"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="action_items", help_text=_("e.g. the residents' committee of the community"),
    )
    public_owner = models.CharField(
        _("owner as shown on the public notice"), max_length=100, blank=True,
        help_text=_("Leave blank to show the organisation's name (a person is never named)."),
    )
    due_on = models.DateField(_("due"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["unit_path", "status", "due_on"], name="action_scope_status_due"),
            # The dashboards' open and overdue counts: the unfinished items under a unit, not every
            # item ever decided (they pile up with the meetings; PostgreSQL read all 7 000 at 1 M).
            models.Index(
                fields=["unit_path"], name="action_open_scope", opclasses=[PREFIX], include=["due_on"],
                condition=~models.Q(status__in=("done", "dropped")),  # FINISHED (not in reach from Meta)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(owner_user__isnull=False, owner_department__isnull=True,
                             owner_partner__isnull=True, owner_unit__isnull=True)
                    | models.Q(owner_user__isnull=True, owner_department__isnull=False,
                               owner_partner__isnull=True, owner_unit__isnull=True)
                    | models.Q(owner_user__isnull=True, owner_department__isnull=True,
                               owner_partner__isnull=False, owner_unit__isnull=True)
                    | models.Q(owner_user__isnull=True, owner_department__isnull=True,
                               owner_partner__isnull=True, owner_unit__isnull=False)
                ),
                name="action_item_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]

    def get_absolute_url(self) -> str:
        return reverse("coordination:action_item", kwargs={"pk": self.pk})

    @property
    def owner(self):
        return self.owner_user or self.owner_department or self.owner_partner or self.owner_unit

    @property
    def is_overdue(self) -> bool:
        """The same rule as ``selectors.overdue_action_q``, for one item in memory."""
        return self.status not in self.FINISHED and self.due_on < timezone.localdate()

    @property
    def owner_is_person(self) -> bool:
        return self.owner_user_id is not None

    def public_owner_name(self) -> str:
        """How the owner is named to residents: an organisation, never a person."""
        if self.public_owner:
            return self.public_owner
        if self.owner_user_id:
            return self.meeting.unit.name
        return str(self.owner)

    def save(self, *args, **kwargs) -> None:
        self.unit_path = Meeting.objects.values_list("unit_path", flat=True).get(pk=self.meeting_id)
        super().save(*args, **kwargs)


class ActionUpdate(models.Model):
    """One step of an action item: a note and, when it moved, the status it moved to."""

    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"))
    from_status = models.CharField(_("from"), max_length=16, choices=ActionItem.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=ActionItem.Status.choices, blank=True)

    class Meta:
        verbose_name = _("action item update")
        verbose_name_plural = _("action item updates")
        ordering = ["action_item", "at", "pk"]
