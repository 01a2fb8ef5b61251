"""Changes to monthly themes: adopt, link a case, close. One transaction each, each on the theme's history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import rates
from cases.models import Case, Category
from cases.refusals import IllegalTransition, ensure_perm, ensure_within, required
from cases.selectors import visible_cases
from cases.services import record
from communities.models import Department, Unit, path_within
from communities.selectors import visible_departments

from ..models import Theme, ThemeCase, ThemeEvent, ThemeProblem

TIERS = (Unit.Level.AREA, Unit.Level.STREET, Unit.Level.COMMUNITY)


def _event(theme: Theme, *, by, action: str, note: str = "") -> ThemeEvent:
    return ThemeEvent.objects.create(theme=theme, at=timezone.now(), actor=by, action=action, note=note)


@transaction.atomic
def adopt_theme(
    *, unit: Unit, month: date, title: str, by, category: Category | None = None, place: Unit | None = None,
    lead_department: Department | None = None, problems: Iterable[str] = (), description: str = "",
    source: str = Theme.Source.MANUAL,
) -> Theme:
    """A tier takes a problem on as its theme for a month (from a hotspot or by hand)."""
    ensure_perm(by, "governance.add_theme", _("You may not adopt a monthly theme."))
    if unit.level not in TIERS:
        raise ValidationError({"unit": _("A theme is adopted by the area, a street or a community.")})
    ensure_within(by, unit, _("You can only adopt a theme for your own unit."))
    title = required(title, "title", _("Give the theme a title."))
    if place is not None and not path_within(place.path, unit.path):
        raise ValidationError({"place": _("The place must lie within %(unit)s.") % {"unit": unit.name}})
    if lead_department is not None and not visible_departments(by).filter(pk=lead_department.pk).exists():
        raise ValidationError({"lead_department": _("A department you cannot call on was chosen.")})
    if source not in Theme.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    month = rates.month_start(month)
    if category is not None and Theme.objects.filter(unit=unit, month=month, category=category).exists():
        raise ValidationError({"category": _("%(unit)s already has a theme on this category for %(month)s.")
                               % {"unit": unit.name, "month": rates.month_label(month)}})
    theme = Theme(
        unit=unit, month=month, title=title, description=(description or "").strip(), category=category,
        place=place, lead_department=lead_department, source=source, adopted_at=timezone.now(), adopted_by=by,
    )
    try:
        with transaction.atomic():
            theme.save()
    except IntegrityError:
        raise IllegalTransition(_("Someone adopted the same theme just now; reload the page.")) from None
    texts = [text.strip() for text in problems if text and text.strip()]
    ThemeProblem.objects.bulk_create(
        [ThemeProblem(theme=theme, text=text[:200], position=n) for n, text in enumerate(texts)]
    )
    _event(theme, by=by, action="adopted", note=title)
    return theme


def _lock(theme: Theme) -> Theme:
    return Theme.objects.select_for_update(of=("self",)).select_related("unit").get(pk=theme.pk)


@transaction.atomic
def link_case(*, theme: Theme, case: Case, by) -> ThemeCase:
    """Count one case towards the theme, by hand; the case's timeline says so."""
    ensure_perm(by, "governance.change_theme", _("You may not link cases to a theme."))
    theme = _lock(theme)
    ensure_within(by, theme.unit, _("This theme belongs to another unit."))
    if theme.status != Theme.Status.ADOPTED:
        raise IllegalTransition(_("The theme is closed: no more cases can be linked."))
    if not visible_cases(by).filter(pk=case.pk).exists() or not path_within(case.unit_path, theme.unit_path):
        raise ValidationError({"case": _("Case %(code)s is not handled in %(unit)s.")
                               % {"code": case.code, "unit": theme.unit.name}})
    if ThemeCase.objects.filter(theme=theme, case=case).exists():
        raise IllegalTransition(_("Case %(code)s is already linked to this theme.") % {"code": case.code})
    link = ThemeCase.objects.create(theme=theme, case=case, added_by=by)
    _event(theme, by=by, action="case_linked", note=case.code)
    record(case, action="theme_linked", by=by, note=theme.title, data={"theme": theme.pk})
    return link


@transaction.atomic
def close_theme(*, theme: Theme, by, outcome: str) -> Theme:
    """The month's work is done: say what came of it."""
    ensure_perm(by, "governance.close_theme", _("You may not close a monthly theme."))
    theme = _lock(theme)
    ensure_within(by, theme.unit, _("This theme belongs to another unit."))
    outcome = required(outcome, "outcome", _("Say what came of the theme."))
    now = timezone.now()
    updated = Theme.objects.filter(pk=theme.pk, status=Theme.Status.ADOPTED).update(
        status=Theme.Status.CLOSED, closed_at=now, outcome=outcome
    )
    if updated != 1:
        raise IllegalTransition(_("The theme is already closed."))
    theme.status, theme.closed_at, theme.outcome = Theme.Status.CLOSED, now, outcome
    _event(theme, by=by, action="closed", note=outcome)
    return theme
