"""Reads of monthly themes (每月一题): who sees them, which cases they answer for, their effect.

A theme is scoped like every object of the portal, on its adopting unit's path. Its cases
are those its rule matches — its category (a parent category with its children), handled in
the adopting unit's subtree, located under its place if it names one — and those linked to
it by hand. The effect is the monthly count of those cases before and after the month of
adoption: one query, one conditional count per month (Beijing judges a theme by whether the
calls fall). The averages compare the whole months since adoption (neither the adoption month
nor the month in progress) with as many whole months just before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet

from cases import rates
from cases.models import Case
from communities.models import PATH_SEPARATOR
from communities.selectors import scope

from ..models import Theme, ThemeCase, ThemeEvent

MONTHS_BEFORE = 6
MONTHS_AFTER = 6


# The place a theme names and the units carrying out its projects (and their sub-items) read it.
NAMED_UNITS = (
    "place__path", "projects__unit_path", "projects__owner_unit__path", "projects__sub_items__unit_path",
    "projects__sub_items__owner_unit__path",
)


def visible_themes(user) -> QuerySet[Theme]:
    """Themes the user may read: adopted in their subtrees, or naming a unit of their subtrees.
    Only the adopting unit's subtree acts on a theme (``communities.selectors.in_subtree``)."""
    return scope(Theme.objects.all(), user, path_field="unit_path", named=NAMED_UNITS)


def theme_list(user) -> QuerySet[Theme]:
    return (
        visible_themes(user)
        .select_related("unit", "category", "place", "lead_department")
        .annotate(linked=Count("links"))
        .order_by("-month", "unit__path", "title")
    )


def matching_q(theme: Theme) -> Q:
    """The theme's cases: by rule (category × unit) and by explicit link."""
    linked = Q(pk__in=ThemeCase.objects.filter(theme=theme).values("case_id"))
    if not theme.category_id:
        return linked
    # A parent category (电动自行车充电) takes in its children (充电设施, 飞线充电与楼道停放).
    category = Q(category_id=theme.category_id) | Q(category__parent_id=theme.category_id)
    rule = category & Q(unit_path__startswith=theme.unit_path)
    if theme.place_id:
        rule &= Q(location_unit__path__startswith=theme.place.path)
    return rule | linked


def matching_cases(theme: Theme) -> QuerySet[Case]:
    return Case.objects.filter(matching_q(theme))


def linked_cases(theme: Theme) -> QuerySet[Case]:
    return Case.objects.filter(theme_links__theme=theme).select_related("category", "location_unit").order_by(
        "-received_at"
    )


def events(theme: Theme) -> list[ThemeEvent]:
    return list(theme.events.select_related("actor").order_by("at", "pk"))


@dataclass
class Effect:
    """Monthly counts of the theme's cases, before and after adoption.

    The comparison takes whole months only: the adoption month (part before, part after) and
    the month in progress are shown on the chart but compared with nothing. The months after
    are the whole ones since adoption; the baseline is as many months just before adoption.
    """

    months: list[date]
    counts: list[int]
    adopted: date
    current: date  # the month in progress

    def _counts(self, months: list[date]) -> list[int]:
        by_month = dict(zip(self.months, self.counts))
        return [by_month[month] for month in months]

    @property
    def before_months(self) -> list[date]:
        return [month for month in self.months if month < self.adopted]

    @property
    def after_months(self) -> list[date]:
        return [month for month in self.months if self.adopted < month < self.current]

    @property
    def baseline_months(self) -> list[date]:
        return self.before_months[-len(self.after_months):] if self.after_months else []

    @property
    def before(self) -> list[int]:
        return self._counts(self.before_months)

    @property
    def after(self) -> list[int]:
        return self._counts(self.after_months)

    @property
    def baseline(self) -> list[int]:
        return self._counts(self.baseline_months)

    @property
    def baseline_span(self) -> str:
        return month_span(self.baseline_months)

    @property
    def after_span(self) -> str:
        return month_span(self.after_months)

    @property
    def first_whole_month(self) -> date:
        """The first month that can be compared: the one after adoption."""
        return rates.next_month(self.adopted)

    @property
    def before_average(self) -> Decimal | None:
        return _average(self.baseline)

    @property
    def after_average(self) -> Decimal | None:
        return _average(self.after)

    @property
    def change(self) -> Decimal | None:
        """Relative change of the monthly average after adoption, e.g. -0.42 (calls fell 42 %)."""
        if not self.after or not sum(self.baseline):
            return None
        before = Decimal(sum(self.baseline)) / len(self.baseline)
        after = Decimal(sum(self.after)) / len(self.after)
        return ((after - before) / before).quantize(Decimal("0.01"), ROUND_HALF_UP)


def month_span(months: list[date]) -> str:
    """[2026-07, 2026-08, 2026-09] → "2026-07–2026-09"; one month → "2026-07"; none → ""."""
    if not months:
        return ""
    first, last = rates.month_label(months[0]), rates.month_label(months[-1])
    return first if first == last else f"{first}–{last}"


def _average(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def effect_months(theme: Theme, *, today: date) -> list[date]:
    first = theme.month
    for _ in range(MONTHS_BEFORE):
        first = rates.previous_month(first)
    last = min(_add_months(theme.month, MONTHS_AFTER), rates.month_start(today))
    months = [first]
    while months[-1] < last:
        months.append(rates.next_month(months[-1]))
    return months


def _add_months(month: date, count: int) -> date:
    for _ in range(count):
        month = rates.next_month(month)
    return month


def effect(theme: Theme, *, today: date | None = None) -> Effect:
    """The theme's cases by month, from ``MONTHS_BEFORE`` before adoption to now (one query)."""
    today = today or rates.current_month()
    months = effect_months(theme, today=today)
    bounds = [rates.month_bounds(month) for month in months]
    counts = {
        f"m{i}": Count("pk", filter=Q(received_at__gte=start, received_at__lt=end))
        for i, (start, end) in enumerate(bounds)
    }
    row = (
        matching_cases(theme).filter(received_at__gte=bounds[0][0], received_at__lt=bounds[-1][1])
        .order_by().aggregate(**counts)
    )
    return Effect(months, [row[f"m{i}"] or 0 for i in range(len(months))], theme.month, rates.month_start(today))


def themes_of_case(user, case: Case) -> QuerySet[Theme]:
    """Themes the case counts towards (by rule or link) that the user sees (one query)."""
    ancestors = rates.path_prefixes(case.unit_path)
    places = [int(part) for part in case.location_unit.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    categories = [case.category_id, *([case.category.parent_id] if case.category.parent_id else [])]
    rule = Q(category_id__in=categories, unit_path__in=ancestors) & (Q(place__isnull=True) | Q(place_id__in=places))
    return visible_themes(user).filter(rule | Q(links__case=case)).distinct().order_by("-month")
