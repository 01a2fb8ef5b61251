"""每月一题: a tier adopts a recurring problem as the month's theme and watches the calls fall."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Category
from communities.models import Department, Unit, follows_unit_path


@follows_unit_path
class Theme(models.Model):
    """A monthly theme: what it is about, who leads, and which cases it answers for.

    Cases match a theme by rule (its category, located under ``place``, handled in the
    adopting unit's subtree) and by explicit links (``ThemeCase``).
    """

    class Status(models.TextChoices):
        ADOPTED = "adopted", _("Adopted")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        HOTSPOT = "hotspot", _("From a hotspot")
        MANUAL = "manual", _("By hand")

    unit = models.ForeignKey(
        Unit, verbose_name=_("adopted by"), on_delete=models.PROTECT, related_name="themes",
        help_text=_("The area, street or community that takes the theme on."),
    )
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    month = models.DateField(_("month"), help_text=_("The first day of the month the theme is adopted for."))
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("what the problem is"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="themes", help_text=_("Cases of this category count towards the theme."),
    )
    place = models.ForeignKey(
        Unit, verbose_name=_("where"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Only cases located here count (empty: anywhere under the adopting unit)."),
    )
    lead_department = models.ForeignKey(
        Department, verbose_name=_("leading department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="themes",
    )
    source = models.CharField(_("found"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ADOPTED)
    adopted_at = models.DateTimeField(_("adopted"))
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("adopted by"), on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        verbose_name = _("monthly theme")
        verbose_name_plural = _("monthly themes")
        ordering = ["-month", "title"]
        indexes = [models.Index(fields=["unit_path", "month"], name="theme_scope_month")]
        constraints = [
            models.UniqueConstraint(fields=["unit", "month", "category"], name="theme_unique_category_month"),
        ]
        permissions = [("close_theme", _("Can close a monthly theme"))]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("proactive:theme", kwargs={"pk": self.pk})

    def save(self, *args, **kwargs) -> None:
        self.unit_path = Unit.objects.values_list("path", flat=True).get(pk=self.unit_id)
        super().save(*args, **kwargs)


class ThemeProblem(models.Model):
    """One of the problems named under a theme (e.g. "no charging piles in 星城二里")."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="problems")
    text = models.CharField(_("problem"), max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("problem under a theme")
        verbose_name_plural = _("problems under a theme")
        ordering = ["theme", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class ThemeCase(models.Model):
    """A case linked to a theme by hand (besides those its rule matches)."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="theme_links")
    added_at = models.DateTimeField(_("linked"), auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("case linked to a theme")
        verbose_name_plural = _("cases linked to a theme")
        constraints = [models.UniqueConstraint(fields=["theme", "case"], name="themecase_unique")]


class ThemeEvent(models.Model):
    """One line of a theme's history: adopted, case linked, closed."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=24)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("theme event")
        verbose_name_plural = _("theme events")
        ordering = ["at", "pk"]
