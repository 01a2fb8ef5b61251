"""Household consent polls (e.g. adding an elevator): an electorate of households, one ballot each."""

from __future__ import annotations

from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from communities.models import Building, Household, Unit, follows_unit_path

fraction_validator = RegexValidator(
    r"^[1-9][0-9]{0,3}/[1-9][0-9]{0,3}$", _("Write a fraction such as 2/3 or 3/4.")
)


def parse_fraction(text: str) -> Fraction | None:
    """``"2/3"`` → Fraction(2, 3); blank → None (the threshold is not used)."""
    return Fraction(text) if text else None


def validate_fraction(text: str) -> None:
    fraction_validator(text)
    if not 0 < Fraction(text) <= 1:
        raise ValidationError(_("A threshold lies between 0 and 1, e.g. 2/3."))


def threshold_field(label, help_text=""):
    return models.CharField(label, max_length=9, blank=True, validators=[validate_fraction], help_text=help_text)


@follows_unit_path
class Poll(models.Model):
    """A consent poll over the households of one building, some of its units, or a compound.

    The electorate is fixed when the poll opens (``Elector`` rows copy each household's
    floor area), so a later change to the register never moves a count. Thresholds are
    exact fractions ("2/3"); a blank one is not applied. The result is passed when every
    applied threshold is met (see ``governance.coordination.consent``).
    """

    class Rule(models.TextChoices):
        CIVIL_CODE = "civil_code", _("Two-thirds take part (headcount and area), three-quarters of them agree")
        YANSHAN = "yanshan", _("Two-thirds agree and no one objects")
        NO_OBJECTION = "no_objection", _("No objection from at least two-thirds")
        CUSTOM = "custom", _("Custom thresholds")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("subject"), max_length=120)
    question = models.TextField(_("question put to the households"))
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="polls")
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    buildings = models.ManyToManyField(Building, verbose_name=_("buildings"), related_name="polls")
    electorate_label = models.CharField(
        _("electorate"), max_length=200, help_text=_("e.g. building 41, all six units (72 households)")
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT, related_name="polls"
    )
    rule = models.CharField(_("rule"), max_length=16, choices=Rule.choices)
    participation_headcount = threshold_field(_("participation by headcount"), _("of all households, e.g. 2/3"))
    participation_area = threshold_field(_("participation by area"), _("of the whole floor area, e.g. 2/3"))
    approval_headcount = threshold_field(_("approval by headcount"), _("among participants, e.g. 3/4"))
    approval_area = threshold_field(_("approval by area"), _("among participants' area, e.g. 3/4"))
    agree_headcount = threshold_field(_("agreement of all households"), _("e.g. 2/3"))
    agree_area = threshold_field(_("agreement by area of the whole"), _("e.g. 2/3"))
    not_objecting_headcount = threshold_field(
        _("non-objection of all households"), _("households that agree or abstain, e.g. 2/3")
    )
    max_objections = models.PositiveIntegerField(
        _("objections allowed"), null=True, blank=True, help_text=_("0 means no one may object; blank: no limit.")
    )
    opens_on = models.DateField(_("opens"))
    closes_on = models.DateField(_("closes"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    THRESHOLD_FIELDS = (
        "participation_headcount", "participation_area", "approval_headcount", "approval_area",
        "agree_headcount", "agree_area", "not_objecting_headcount",
    )
    PRESETS: dict[str, dict] = {
        Rule.CIVIL_CODE: {
            "participation_headcount": "2/3", "participation_area": "2/3",
            "approval_headcount": "3/4", "approval_area": "3/4",
        },
        Rule.YANSHAN: {"agree_headcount": "2/3", "max_objections": 0},
        Rule.NO_OBJECTION: {"not_objecting_headcount": "2/3"},
    }

    class Meta:
        verbose_name = _("consent poll")
        verbose_name_plural = _("consent polls")
        ordering = ["-opens_on", "-pk"]
        indexes = [models.Index(fields=["unit_path", "status"], name="poll_scope_status")]
        constraints = [
            models.CheckConstraint(condition=models.Q(closes_on__gte=models.F("opens_on")), name="poll_closes_after_opening"),
        ]
        permissions = [
            ("record_ballot", _("Can record and correct household ballots")),
            ("close_poll", _("Can close a consent poll")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("coordination:poll", kwargs={"pk": self.pk})

    def save(self, *args, **kwargs) -> None:
        self.unit_path = Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)
        super().save(*args, **kwargs)

    def thresholds(self) -> dict[str, Fraction | None]:
        return {name: parse_fraction(getattr(self, name)) for name in self.THRESHOLD_FIELDS}

    def clean(self) -> None:
        super().clean()
        if not any(getattr(self, name) for name in self.THRESHOLD_FIELDS) and self.max_objections is None:
            raise ValidationError(_("Set at least one threshold (or a limit on objections)."))
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            raise ValidationError({"closes_on": _("A poll closes on or after the day it opens.")})


class Elector(models.Model):
    """A household on the poll's electorate, with its floor area as it was when the poll opened."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="electors")
    # The copied place and area stay if the register's row is later removed.
    household = models.ForeignKey(Household, null=True, on_delete=models.SET_NULL, related_name="+")
    building = models.ForeignKey(Building, null=True, on_delete=models.SET_NULL, related_name="+")
    stairwell_number = models.PositiveSmallIntegerField(_("unit"))
    floor = models.SmallIntegerField(_("floor"))
    room = models.CharField(_("room"), max_length=20)
    area = models.DecimalField(_("floor area (m²)"), max_digits=7, decimal_places=2)

    class Meta:
        verbose_name = _("household on the electorate")
        verbose_name_plural = _("households on the electorate")
        ordering = ["poll", "building", "stairwell_number", "floor", "room"]
        constraints = [models.UniqueConstraint(fields=["poll", "household"], name="elector_unique_household")]
        indexes = [models.Index(fields=["poll", "building", "stairwell_number", "floor"], name="elector_poll_place")]

    def __str__(self) -> str:
        return _("unit %(unit)s, room %(room)s") % {"unit": self.stairwell_number, "room": self.room}


class Ballot(models.Model):
    """A household's ballot. At most one is current; a correction supersedes it and keeps it."""

    class Choice(models.TextChoices):
        AGREE = "agree", _("Agree")
        OBJECT = "object", _("Object")
        ABSTAIN = "abstain", _("Abstain")

    class Method(models.TextChoices):
        DOOR_TO_DOOR = "door_to_door", _("Door to door")
        MEETING = "meeting", _("At a meeting")
        WRITTEN = "written", _("Written form")

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots")
    elector = models.ForeignKey(Elector, verbose_name=_("household"), on_delete=models.CASCADE, related_name="ballots")
    choice = models.CharField(_("vote"), max_length=16, choices=Choice.choices)
    method = models.CharField(_("how"), max_length=16, choices=Method.choices)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("collected by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    collector_name = models.CharField(
        _("collected by (name)"), max_length=100, blank=True,
        help_text=_("For a collector without an account, e.g. a building head."),
    )
    collected_at = models.DateTimeField(_("collected"))
    witness = models.CharField(_("witness"), max_length=100, blank=True)
    signed_by = models.CharField(_("signed by"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self", verbose_name=_("corrects"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    correction_reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["elector", "recorded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["elector"], condition=models.Q(superseded_at__isnull=True), name="one_current_ballot_per_household"
            ),
            models.CheckConstraint(
                condition=models.Q(replaces__isnull=True) | ~models.Q(correction_reason=""),
                name="ballot_correction_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["poll", "superseded_at"], name="ballot_poll_current")]

    def __str__(self) -> str:
        return f"{self.elector} · {self.get_choice_display()}"
