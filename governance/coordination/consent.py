"""The arithmetic of a household consent poll, exact to the last household and square metre.

Ratios are ``fractions.Fraction`` built from integer counts and ``Decimal`` areas, so
"exactly two-thirds" is two-thirds (48/72 meets 2/3; no float ever rounds 0.6666… up or
down). Percentages are for display only and never decide a threshold.

Who counts where:
- participants = households with a current ballot (agree, object or abstain);
- participation = participants / all households (and by area);
- approval = agree / participants (and by area), as in the Civil Code's 3/4 of participants;
- agreement of all = agree / all households (the Yanshan "2/3 agree");
- non-objection = (agree + abstain) / all households ("no objection from 2/3");
- objections allowed: at most N households object (0: "no one objects").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

HEADCOUNT = "headcount"
AREA = "area"
PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class Tally:
    """Counts and floor areas of the electorate and of the current ballots."""

    electorate: int = 0
    electorate_area: Decimal = Decimal("0")
    agree: int = 0
    agree_area: Decimal = Decimal("0")
    object: int = 0
    object_area: Decimal = Decimal("0")
    abstain: int = 0
    abstain_area: Decimal = Decimal("0")

    @property
    def participants(self) -> int:
        return self.agree + self.object + self.abstain

    @property
    def participants_area(self) -> Decimal:
        return self.agree_area + self.object_area + self.abstain_area

    @property
    def not_objecting(self) -> int:
        return self.agree + self.abstain

    @property
    def not_objecting_area(self) -> Decimal:
        return self.agree_area + self.abstain_area

    @property
    def not_reached(self) -> int:
        return self.electorate - self.participants

    @property
    def not_reached_area(self) -> Decimal:
        return self.electorate_area - self.participants_area

    def as_json(self) -> dict:
        return {key: str(value) for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> Tally:
        return cls(**{
            key: (int(value) if isinstance(cls.__dataclass_fields__[key].default, int) else Decimal(value))
            for key, value in data.items()
        })


@dataclass(frozen=True)
class Check:
    """One threshold applied to the tally: the numbers, the ratio, met or not."""

    key: str
    label: str
    basis: str  # HEADCOUNT or AREA
    numerator: int | Decimal
    denominator: int | Decimal
    required: Fraction | None = None  # a ratio threshold …
    limit: int | None = None  # … or a ceiling on objections
    fixed_denominator: bool = False  # the whole electorate: "still needed" makes sense

    @property
    def ratio(self) -> Fraction | None:
        if self.limit is not None or not self.denominator:
            return None
        return Fraction(self.numerator) / Fraction(self.denominator)

    @property
    def passed(self) -> bool:
        if self.limit is not None:
            return self.numerator <= self.limit
        ratio = self.ratio
        return ratio is not None and ratio >= self.required

    @property
    def exactly_at_threshold(self) -> bool:
        return self.limit is None and self.ratio is not None and self.ratio == self.required

    @property
    def percent(self) -> Decimal | None:
        return _percent(self.ratio)

    @property
    def required_percent(self) -> Decimal | None:
        return _percent(self.required)

    @property
    def still_needed(self) -> int | Decimal | None:
        """How many more households (or m²) would meet the threshold, where that is fixed."""
        if self.limit is not None or not self.fixed_denominator or self.passed:
            return None
        needed = Fraction(self.denominator) * self.required
        if self.basis == HEADCOUNT:
            return -(-needed.numerator // needed.denominator) - self.numerator
        return _ceil_cents(needed) - Decimal(self.numerator)


@dataclass(frozen=True)
class Outcome:
    tally: Tally
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and self.tally.electorate > 0 and all(check.passed for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


# (threshold field, label, basis, numerator, denominator, over the whole electorate?)
RATIO_CHECKS = [
    ("participation_headcount", _("Participation by headcount"), HEADCOUNT, "participants", "electorate", True),
    ("participation_area", _("Participation by area"), AREA, "participants_area", "electorate_area", True),
    ("approval_headcount", _("Approval among participants by headcount"), HEADCOUNT, "agree", "participants", False),
    ("approval_area", _("Approval among participants by area"), AREA, "agree_area", "participants_area", False),
    ("agree_headcount", _("Agreement of all households"), HEADCOUNT, "agree", "electorate", True),
    ("agree_area", _("Agreement by area of the whole"), AREA, "agree_area", "electorate_area", True),
    ("not_objecting_headcount", _("Households not objecting"), HEADCOUNT, "not_objecting", "electorate", True),
]


def evaluate(tally: Tally, thresholds: dict[str, Fraction | None], max_objections: int | None) -> Outcome:
    """Apply every threshold that is set; the poll passes when all of them are met."""
    checks = [
        Check(key, str(label), basis, getattr(tally, num), getattr(tally, den), required=thresholds[key],
              fixed_denominator=whole)
        for key, label, basis, num, den, whole in RATIO_CHECKS
        if thresholds.get(key) is not None
    ]
    if max_objections is not None:
        checks.append(Check("max_objections", str(_("Objections")), HEADCOUNT, tally.object,
                            tally.electorate, limit=max_objections))
    return Outcome(tally, checks)


def _percent(value: Fraction | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(PERCENT, rounding=ROUND_HALF_UP)


def _ceil_cents(value: Fraction) -> Decimal:
    cents = value * 100
    return Decimal(-(-cents.numerator // cents.denominator)) / 100
