"""未呼先应 for people: households that need looking in on, and the visits paid to them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from communities.models import Household, Unit, follows_unit_path
from communities.phones import mask_phone
from volunteers.models import Volunteer


@follows_unit_path
class CareNeed(models.Model):
    """A household flagged as needing attention. Personal data: staff of its subtree only."""

    class Kind(models.TextChoices):
        ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
        EMPTY_NEST = "empty_nest", _("Elderly couple on their own")
        DISABILITY = "disability", _("Disability")
        SERIOUS_ILLNESS = "illness", _("Serious illness")
        HARDSHIP = "hardship", _("Financial hardship")
        OTHER = "other", _("Other")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="care_needs"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("grid or community"), on_delete=models.PROTECT, related_name="+", editable=False,
    )
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    person_name = models.CharField(_("who"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    note = models.TextField(_("note"), blank=True)
    visit_every_days = models.PositiveSmallIntegerField(
        _("visit every (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("flagged"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("household needing attention")
        verbose_name_plural = _("households needing attention")
        ordering = ["unit_path", "household"]
        constraints = [
            models.UniqueConstraint(fields=["household", "kind"], name="careneed_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.get_kind_display()}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def save(self, *args, **kwargs) -> None:
        self.unit_id = Household.objects.values_list("stairwell__building__unit", flat=True).get(pk=self.household_id)
        self.unit_path = Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)
        super().save(*args, **kwargs)


class Visit(models.Model):
    """A visit, scheduled and then recorded: when, who went, what was found."""

    class Outcome(models.TextChoices):
        ALL_WELL = "all_well", _("All well")
        NEEDS_HELP = "needs_help", _("Needs help")
        NOT_HOME = "not_home", _("Nobody at home")

    need = models.ForeignKey(CareNeed, verbose_name=_("household"), on_delete=models.CASCADE, related_name="visits")
    due_on = models.DateField(_("due"), db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("grid worker"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("building head"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="care_visits",
    )
    visited_on = models.DateField(_("visited"), null=True, blank=True)
    visitor_name = models.CharField(_("visited by"), max_length=50, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    finding = models.TextField(_("what was found"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), null=True, blank=True)
    case = models.OneToOneField(
        Case, verbose_name=_("case raised"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="care_visit",
    )

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["visited_on", "due_on"], name="visit_open_due")]
        permissions = [("record_visit", _("Can record a home visit and raise a case from it"))]

    def __str__(self) -> str:
        return f"{self.need.household} · {self.due_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("proactive:visit", kwargs={"pk": self.pk})
