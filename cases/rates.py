"""三率 — response, resolution and satisfaction rates per unit and month — and their freezing.

A case counts for the month its ``received_at`` falls in (Asia/Shanghai) and for every
unit on its handling unit's path. Cases excluded from the rates (e.g. unreasonable
requests) and duplicates merged into another case do not count.

- response rate     = contacted by ``contact_due_at`` / dispatched (every counted case)
- resolution rate   = rated resolved / rated
- satisfaction rate = (satisfied + w · basically satisfied) / rated,
                      w = settings.RATE_BASIC_SATISFIED_WEIGHT (default 0.9)
- composite         = 100 · (a · response + b · resolution + c · satisfaction),
                      (a, b, c) = settings.RATE_WEIGHTS (default (0.1, 0.5, 0.4))
- completion rate   = done / dispatched (办结率): of the cases counted for the month (received
                      in it), those resolved or closed (``Case.ANSWERED``) — as of now for a month not
                      frozen yet, as of the freeze for a frozen one. Not part of the composite.

A rate with a zero denominator is ``None``, and so is a composite with a ``None`` part.
Rates are rounded half-up to 4 decimals, the composite to 2 (as MonthlyScore stores them),
both computed from the exact counts. Closed months are frozen into MonthlyScore and read
from there, so a late rating never moves a published ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import PATH_SEPARATOR, Unit

from .models import Case, MonthlyScore

RATE_TZ = ZoneInfo("Asia/Shanghai")
RATE_PLACES = Decimal("0.0001")
COMPOSITE_PLACES = Decimal("0.01")

_rated = Q(rated_at__isnull=False)
# What each count of the 三率 counts, among the cases counted in the month (``counted_cases``).
COUNT_FILTERS: dict[str, Q | None] = {
    "dispatched": None,
    "contacted_on_time": Q(contacted_at__isnull=False)
    & (Q(contact_due_at__isnull=True) | Q(contacted_at__lte=F("contact_due_at"))),
    "rated": _rated,
    "rated_resolved": _rated & Q(rated_resolved=True),
    "satisfied": _rated & Q(satisfaction=Case.Satisfaction.SATISFIED),
    "basically_satisfied": _rated & Q(satisfaction=Case.Satisfaction.BASIC),
    "done": Q(status__in=Case.ANSWERED),  # 办结: resolved, awaiting or past the return visit
}
COUNTS = {name: Count("pk", filter=condition) for name, condition in COUNT_FILTERS.items()}
# The cases a month's rates count: not excluded (不合理诉求 …) and not merged into another.
COUNTED = Q(excluded_from_rates=False) & ~Q(status=Case.Status.MERGED)


@dataclass
class Counts:
    dispatched: int = 0
    contacted_on_time: int = 0
    rated: int = 0
    rated_resolved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    done: int = 0

    @classmethod
    def from_row(cls, row: dict) -> Counts:
        return cls(**{name: row[name] for name in COUNTS})

    def add(self, other: Counts) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass
class Score(Counts):
    unit: Unit | None = None
    month: date | None = None
    response_rate: Decimal | None = None
    resolution_rate: Decimal | None = None
    satisfaction_rate: Decimal | None = None
    composite: Decimal | None = None
    completion_rate: Decimal | None = None
    frozen: bool = False
    rank: int | None = None
    lowest: bool = False


# ---------------------------------------------------------------- months


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def current_month() -> date:
    return month_start(timezone.now().astimezone(RATE_TZ).date())


MONTH_FORMAT = "%Y-%m"  # how a month is written in addresses, files, pages and the API


def parse_month(text: str) -> date:
    """``"2026-10"`` → 2026-10-01; ValueError otherwise."""
    return datetime.strptime(text.strip(), MONTH_FORMAT).date()


def month_label(month: date) -> str:
    """2026-10-01 → ``"2026-10"``: what ``parse_month`` reads back."""
    return month.strftime(MONTH_FORMAT)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in Beijing time, as aware datetimes."""
    start = month_start(month)
    return (
        datetime(start.year, start.month, 1, tzinfo=RATE_TZ),
        datetime(next_month(start).year, next_month(start).month, 1, tzinfo=RATE_TZ),
    )


def counted_cases(month: date) -> QuerySet[Case]:
    start, end = month_bounds(month)
    return (
        Case.objects.filter(COUNTED, received_at__gte=start, received_at__lt=end)
        .order_by()  # the default ordering would join the GROUP BY
    )


# ---------------------------------------------------------------- rates


def _weights() -> tuple[Fraction, Fraction, Fraction, Fraction]:
    response, resolution, satisfaction = getattr(settings, "RATE_WEIGHTS", (0.1, 0.5, 0.4))
    basic = getattr(settings, "RATE_BASIC_SATISFIED_WEIGHT", 0.9)
    return tuple(Fraction(Decimal(str(w))) for w in (response, resolution, satisfaction, basic))


def _ratio(numerator: Fraction | int, denominator: int) -> Fraction | None:
    return Fraction(numerator) / denominator if denominator else None


def _decimal(value: Fraction | None, places: Decimal) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places, rounding=ROUND_HALF_UP)


def score(unit: Unit, month: date, counts: Counts) -> Score:
    """The rates and composite of one unit's counts."""
    w_response, w_resolution, w_satisfaction, w_basic = _weights()
    response = _ratio(counts.contacted_on_time, counts.dispatched)
    resolution = _ratio(counts.rated_resolved, counts.rated)
    satisfaction = _ratio(counts.satisfied + w_basic * counts.basically_satisfied, counts.rated)
    parts = (response, resolution, satisfaction)
    composite = (
        None if None in parts
        else 100 * (w_response * response + w_resolution * resolution + w_satisfaction * satisfaction)
    )
    return Score(
        **vars(counts), unit=unit, month=month_start(month),
        response_rate=_decimal(response, RATE_PLACES),
        resolution_rate=_decimal(resolution, RATE_PLACES),
        satisfaction_rate=_decimal(satisfaction, RATE_PLACES),
        composite=_decimal(composite, COMPOSITE_PLACES),
        completion_rate=completion_rate(counts),
    )


def completion_rate(counts: Counts) -> Decimal | None:
    """办结率: done / dispatched (the month's counted cases), ``None`` when nothing was counted."""
    return _decimal(_ratio(counts.done, counts.dispatched), RATE_PLACES)


def is_frozen(month: date) -> bool:
    return MonthlyScore.objects.filter(month=month_start(month)).exists()


def unit_month_scores(unit: Unit, month: date) -> list[Score]:
    """The unit's score (its whole subtree) followed by each child's, in display order.

    Three queries whatever the number of cases: the children, "is the month frozen?",
    then either the frozen rows or one aggregate grouped by child (a CASE on the path prefix).
    """
    month = month_start(month)
    children = list(unit.children.order_by("sort_order", "name"))
    if is_frozen(month):
        return _frozen_scores([unit, *children], month)
    by_child = models.Case(
        *[models.When(unit_path__startswith=child.path, then=Value(child.pk)) for child in children],
        default=Value(unit.pk),
        output_field=models.BigIntegerField(),
    )
    rows = (
        counted_cases(month)
        .filter(unit_path__startswith=unit.path)
        .annotate(bucket=by_child)
        .values("bucket")
        .annotate(**COUNTS)
    )
    buckets = {row["bucket"]: Counts.from_row(row) for row in rows}
    total = Counts()
    for counts in buckets.values():
        total.add(counts)
    return [score(unit, month, total)] + [score(child, month, buckets.get(child.pk, Counts())) for child in children]


def _frozen_scores(units: list[Unit], month: date) -> list[Score]:
    stored = {row.unit_id: row for row in MonthlyScore.objects.filter(month=month, unit__in=units)}
    return [from_stored(unit, month, stored.get(unit.pk)) for unit in units]


def from_stored(unit: Unit, month: date, row: MonthlyScore | None) -> Score:
    if row is None:  # a unit created after the month was frozen
        return Score(unit=unit, month=month, frozen=True)
    counts = Counts(**{name: getattr(row, name) for name in COUNTS})
    return Score(
        **vars(counts), unit=unit, month=month, frozen=True,
        response_rate=row.response_rate, resolution_rate=row.resolution_rate,
        satisfaction_rate=row.satisfaction_rate, composite=row.composite,
        completion_rate=completion_rate(counts),
    )


def ranking(parent: Unit, month: date) -> list[Score]:
    """The parent's children ranked (see ``rank``)."""
    return rank(unit_month_scores(parent, month)[1:])


def rank(scores: list[Score]) -> list[Score]:
    """Best composite first, ties sharing a rank; the lowest flagged (末位).

    Units with no composite (nothing dispatched or nothing rated) are listed last, unranked.
    The lowest are flagged only when at least two units are ranked.
    """
    ranked = sorted((s for s in scores if s.composite is not None), key=lambda s: -s.composite)
    for position, item in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        item.rank = previous.rank if previous and previous.composite == item.composite else position
    if len(ranked) > 1:
        for item in ranked:
            item.lowest = item.composite == ranked[-1].composite
    return ranked + [s for s in scores if s.composite is None]


# ---------------------------------------------------------------- freezing


@transaction.atomic
def freeze_month(*, month: date) -> list[MonthlyScore]:
    """Write every unit's MonthlyScore for a closed month. Frozen months never change."""
    month = month_start(month)
    label = month_label(month)
    if month >= current_month():
        raise ValidationError(_("%(month)s is not over yet: only a past month can be frozen.") % {"month": label})
    already = ValidationError(_("%(month)s is already frozen; frozen months never change.") % {"month": label})
    if is_frozen(month):
        raise already
    try:
        with transaction.atomic():  # a concurrent freeze loses on the unique (unit, month)
            return MonthlyScore.objects.bulk_create(_month_rows(month))
    except IntegrityError:
        raise already from None


def _month_rows(month: date) -> list[MonthlyScore]:
    per_path = {
        row["unit_path"]: Counts.from_row(row)
        for row in counted_cases(month).values("unit_path").annotate(**COUNTS)
    }
    totals: dict[str, Counts] = {}
    for path, counts in per_path.items():
        for prefix in path_prefixes(path):
            totals.setdefault(prefix, Counts()).add(counts)
    now = timezone.now()
    rows = []
    for unit in Unit.objects.only("pk", "path").order_by("path"):
        item = score(unit, month, totals.get(unit.path, Counts()))
        rows.append(
            MonthlyScore(
                unit=unit, month=month, frozen_at=now,
                **{name: getattr(item, name) for name in COUNTS},
                response_rate=item.response_rate, resolution_rate=item.resolution_rate,
                satisfaction_rate=item.satisfaction_rate, composite=item.composite,
            )
        )
    return rows


def path_prefixes(path: str) -> list[str]:
    """"/1/4/17/" → ["/1/", "/1/4/", "/1/4/17/"]."""
    parts = path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    return [PATH_SEPARATOR + PATH_SEPARATOR.join(parts[:end]) + PATH_SEPARATOR for end in range(1, len(parts) + 1)]
