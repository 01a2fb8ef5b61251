"""吹哨报到: a street or community summons departments and partners to one case."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from communities.models import Department, PartnerOrganisation, Unit, follows_unit_path


@follows_unit_path
class Whistle(models.Model):
    """A whistle blown on a case: why, by whom, and by when the summoned must report."""

    class Reason(models.TextChoices):
        BEYOND_POWER = "beyond_power", _("Beyond the street's own power")
        JOINT_ENFORCEMENT = "joint_enforcement", _("Joint enforcement needed")
        EMERGENCY = "emergency", _("Emergency")

    # How long the summoned have to report, by reason, unless the whistle says otherwise.
    DEFAULT_REPORT_WITHIN = {
        Reason.EMERGENCY: timedelta(minutes=30),
        Reason.JOINT_ENFORCEMENT: timedelta(hours=24),
        Reason.BEYOND_POWER: timedelta(hours=48),
    }

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="whistles")
    unit = models.ForeignKey(
        Unit, verbose_name=_("blown by unit"), on_delete=models.PROTECT, related_name="whistles",
        help_text=_("The street or community that blows the whistle."),
    )
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    description = models.TextField(_("what is needed"))
    report_within = models.DurationField(_("report within"))
    blown_at = models.DateTimeField(_("blown"), db_index=True)
    report_due_at = models.DateTimeField(_("report due"))
    blown_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("blown by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")
        ordering = ["-blown_at", "-pk"]
        indexes = [models.Index(fields=["unit_path", "blown_at"], name="whistle_scope_blown")]
        permissions = [("assess_response", _("Can rate the departments' responses to a whistle"))]

    def __str__(self) -> str:
        return _("Whistle on %(case)s") % {"case": self.case.code}

    def get_absolute_url(self) -> str:
        return reverse("coordination:whistle", kwargs={"pk": self.pk})

    def save(self, *args, **kwargs) -> None:
        self.unit_path = Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)
        super().save(*args, **kwargs)


class Summons(models.Model):
    """One summoned department or partner: its report (报到), commitment and the two ratings."""

    class Presence(models.TextChoices):
        ON_SITE = "on_site", _("On site")
        REMOTE = "remote", _("Remotely")

    class Justification(models.TextChoices):
        JUSTIFIED = "justified", _("Justified")
        PARTLY = "partly", _("Partly justified")
        UNJUSTIFIED = "unjustified", _("Not justified")

    RATING_CHOICES = [(5, _("5 — excellent")), (4, _("4 — good")), (3, _("3 — adequate")),
                      (2, _("2 — poor")), (1, _("1 — failed"))]

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="summonses")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="summonses",
    )
    partner = models.ForeignKey(
        PartnerOrganisation, verbose_name=_("partner organisation"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="summonses",
    )
    reported_at = models.DateTimeField(_("reported"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    reporter_name = models.CharField(_("who came"), max_length=100, blank=True)
    presence = models.CharField(_("how"), max_length=16, choices=Presence.choices, blank=True)
    commitment = models.TextField(_("what they will do"), blank=True)

    # 双考核: the street rates the response; the department rates the whistle.
    response_rating = models.PositiveSmallIntegerField(
        _("response rating"), null=True, blank=True, choices=RATING_CHOICES,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    response_comment = models.TextField(_("comment on the response"), blank=True)
    response_rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    response_rated_at = models.DateTimeField(null=True, blank=True)
    justification = models.CharField(
        _("was the whistle justified?"), max_length=16, choices=Justification.choices, blank=True
    )
    justification_comment = models.TextField(_("comment on the whistle"), blank=True)
    justification_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    justification_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("summons")
        verbose_name_plural = _("summonses")
        ordering = ["whistle", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=False, partner__isnull=True)
                | models.Q(department__isnull=True, partner__isnull=False),
                name="summons_department_xor_partner",
            ),
            models.UniqueConstraint(fields=["whistle", "department"], name="summons_unique_department"),
            models.UniqueConstraint(fields=["whistle", "partner"], name="summons_unique_partner"),
        ]
        permissions = [("report_summons", _("Can report to a whistle and rate its justification"))]

    def __str__(self) -> str:
        return str(self.party)

    @property
    def party(self) -> Department | PartnerOrganisation:
        return self.department if self.department_id else self.partner

    def is_late(self) -> bool:
        return bool(self.reported_at and self.reported_at > self.whistle.report_due_at)

    def is_missing(self, now=None) -> bool:
        return self.reported_at is None and self.whistle.report_due_at < (now or timezone.now())
