"""民生项目清单 / 问题清单: the livelihood project list, its sub-items, monthly updates and history.

An item belongs to one unit of the tree (scoped by ``unit_path``), has an owner (a person,
and the department or unit that answers for it), a deadline and a progress in percent.
An item split into sub-items takes its progress from them (see ``Project.rolled_up``).
Residents see an item only once it is published, and then never its owner person.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.models import Case
from communities.models import Department, Unit, follows_unit_path
from volunteers.models import Suggestion

from .meetings import Meeting
from .whistles import Whistle

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


@follows_unit_path
class Project(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("project status", "Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        SURVEY = "survey", _("Door-to-door survey")
        HOTSPOT = "hotspot", _("Complaint hotspot")
        SUGGESTION = "suggestion", _("Volunteer suggestion")
        MEETING = "meeting", _("Deliberation meeting")
        THEME = "theme", _("Monthly theme")
        OTHER = "other", _("Other")

    OPEN = (Status.PLANNED, Status.IN_PROGRESS)

    title = models.CharField(_("item title"), max_length=120)
    description = models.TextField(
        _("description"), blank=True,
        help_text=_("Residents read the title and this text once the item is published: no names or phone numbers."),
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="projects",
        help_text=_("The street, community or grid whose list the item is on."),
    )
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("part of"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="sub_items",
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("A sub-item's share of its item's progress (e.g. its number of charging piles); 1 for equal shares."),
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner (person)"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="projects",
    )
    owner_department = models.ForeignKey(
        Department, verbose_name=_("owner (department)"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="projects",
    )
    owner_unit = models.ForeignKey(
        Unit, verbose_name=_("owner (unit)"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="owned_projects", help_text=_("e.g. the residents' committee of the community"),
    )
    deadline = models.DateField(_("deadline"), db_index=True)
    budget = models.DecimalField(
        _("budget (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, validators=PERCENT)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    source = models.CharField(_("found by"), max_length=16, choices=Source.choices, default=Source.SURVEY)
    source_suggestion = models.ForeignKey(
        Suggestion, verbose_name=_("from the suggestion"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="projects",
    )
    source_meeting = models.ForeignKey(
        Meeting, verbose_name=_("from the meeting"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="sourced_projects",
    )
    source_theme = models.ForeignKey(
        "governance.Theme", verbose_name=_("from the monthly theme"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="projects",
    )
    cases = models.ManyToManyField(Case, verbose_name=_("cases"), blank=True, related_name="projects")
    meetings = models.ManyToManyField(Meeting, verbose_name=_("meetings"), blank=True, related_name="projects")
    whistles = models.ManyToManyField(Whistle, verbose_name=_("whistles"), blank=True, related_name="projects")
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("livelihood project")
        verbose_name_plural = _("livelihood projects")
        ordering = ["deadline", "pk"]
        indexes = [
            models.Index(fields=["unit_path", "status", "deadline"], name="project_scope_status_due"),
            models.Index(fields=["parent", "status"], name="project_parent_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="project_progress_percent"),
            models.CheckConstraint(
                condition=models.Q(owner_department__isnull=True) | models.Q(owner_unit__isnull=True),
                name="project_one_owner_organisation",
            ),
        ]
        permissions = [("publish_project", _("Can publish livelihood projects to residents"))]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", kwargs={"pk": self.pk})

    def clean(self) -> None:
        super().clean()
        if self.parent_id and self.parent.parent_id:
            raise ValidationError({"parent": _("A sub-item cannot be split again.")})
        if self.parent_id and not self.unit.is_within(self.parent.unit):
            raise ValidationError({"unit": _("A sub-item belongs to its item's unit or a unit under it.")})

    def save(self, *args, **kwargs) -> None:
        self.unit_path = Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def done_on_time(self) -> bool:
        return self.status == self.Status.DONE and self.done_on is not None and self.done_on <= self.deadline

    @property
    def is_late(self) -> bool:
        """Done after the deadline, or still open past it (``selectors.late_q`` in SQL)."""
        if self.status == self.Status.DONE:
            return not self.done_on_time
        return self.is_open and self.deadline < timezone.localdate()

    @property
    def owner_organisation(self) -> Department | Unit | None:
        return self.owner_department or self.owner_unit

    def public_owner_name(self) -> str:
        """Who answers for the item, as residents read it: an organisation, never a person."""
        return str(self.owner_organisation or self.unit)

    @staticmethod
    def rolled_up(parts: list[tuple[int, int, str]]) -> int:
        """An item's progress from its sub-items' ``(progress, weight, status)``.

        The weighted mean (weights default to 1, so the plain mean): a sub-item of 40 piles
        moves the item more than one of 4. Done counts as 100 %; cancelled sub-items are left
        out. Rounded down, so an item shows 100 % only when every part is at 100 %.
        """
        counted = [(100 if status == Project.Status.DONE else progress, weight)
                   for progress, weight, status in parts if status != Project.Status.CANCELLED]
        total = sum(weight for _progress, weight in counted)
        if not total:
            return 0
        return sum(progress * weight for progress, weight in counted) // total


def update_photo_path(instance: ProjectUpdate, filename: str) -> str:
    extension = "png" if instance.photo_type == "image/png" else "jpg"
    return f"projects/{instance.project_id}/{secrets.token_hex(16)}.{extension}"


class ProjectUpdate(models.Model):
    """月更新: what happened this month, the progress it reached, perhaps a photo."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="updates")
    on = models.DateField(_("date"), db_index=True)
    text = models.TextField(_("what happened"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"), validators=PERCENT)
    photo = models.FileField(_("photo"), upload_to=update_photo_path, blank=True)
    photo_type = models.CharField(max_length=50, blank=True)
    public = models.BooleanField(
        _("show to residents"), default=True,
        help_text=_("Shown on the public progress page once the item is published."),
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("monthly update")
        verbose_name_plural = _("monthly updates")
        ordering = ["project", "-on", "-pk"]
        indexes = [models.Index(fields=["project", "on"], name="project_update_month")]
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="project_update_percent")]

    def __str__(self) -> str:
        return f"{self.project} · {self.on:%Y-%m-%d}"


class ProjectEvent(models.Model):
    """One line of an item's history: created, changed, moved, linked, published."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=24)
    from_status = models.CharField(_("from"), max_length=16, choices=Project.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Project.Status.choices, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("project history entry")
        verbose_name_plural = _("project history")
        ordering = ["project", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.project} · {self.action}"
