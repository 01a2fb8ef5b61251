"""The arithmetic of a consent poll, exact at the thresholds (no database)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from governance.coordination.consent import Tally, evaluate

TWO_THIRDS, THREE_QUARTERS = Fraction(2, 3), Fraction(3, 4)
YANSHAN = {"agree_headcount": TWO_THIRDS}
CIVIL_CODE = {
    "participation_headcount": TWO_THIRDS, "participation_area": TWO_THIRDS,
    "approval_headcount": THREE_QUARTERS, "approval_area": THREE_QUARTERS,
}


def tally(agree=0, object=0, abstain=0, *, electorate=72, area=None, each=Decimal("60.00")) -> Tally:
    """Every household of ``each`` m² unless ``area`` gives (agree, object, abstain, electorate) areas."""
    if area is None:
        area = (each * agree, each * object, each * abstain, each * electorate)
    return Tally(electorate, area[3], agree, area[0], object, area[1], abstain, area[2])


def failed(outcome) -> list[str]:
    return [check.key for check in outcome.failed]


def test_yanshan_rule_passes_at_exactly_two_thirds_with_no_objection():
    outcome = evaluate(tally(agree=48), YANSHAN, 0)
    assert outcome.passed
    agree = outcome.checks[0]
    assert agree.ratio == TWO_THIRDS and agree.exactly_at_threshold
    assert agree.percent == Decimal("66.67")


def test_yanshan_rule_fails_one_household_short_and_says_how_many_are_needed():
    outcome = evaluate(tally(agree=47), YANSHAN, 0)
    assert not outcome.passed and failed(outcome) == ["agree_headcount"]
    assert outcome.failed[0].still_needed == 1


def test_yanshan_rule_fails_on_a_single_objection_however_many_agree():
    outcome = evaluate(tally(agree=70, object=1), YANSHAN, 0)
    assert not outcome.passed and failed(outcome) == ["max_objections"]


def test_no_objection_variant_counts_agree_and_abstain_against_the_whole_electorate():
    thresholds = {"not_objecting_headcount": TWO_THIRDS}
    assert evaluate(tally(agree=40, abstain=8, object=3), thresholds, None).passed
    assert not evaluate(tally(agree=40, abstain=7, object=3), thresholds, None).passed


def test_civil_code_rule_passes_at_exactly_two_thirds_taking_part_and_three_quarters_agreeing():
    outcome = evaluate(tally(agree=36, object=12), CIVIL_CODE, None)  # 48 of 72 take part, 36 of 48 agree
    assert outcome.passed
    assert [check.exactly_at_threshold for check in outcome.checks] == [True, True, True, True]


def test_civil_code_rule_fails_one_agreement_short_of_three_quarters():
    outcome = evaluate(tally(agree=35, object=13), CIVIL_CODE, None)
    assert failed(outcome) == ["approval_headcount", "approval_area"]


def test_area_fails_where_headcount_passes():
    # 48 of 72 households take part (2/3 by headcount), but they are the small flats:
    # 48 × 50 m² = 2400 of 2400 + 24 × 80 = 4320 m², i.e. 5/9 of the area.
    area = (Decimal("1800.00"), Decimal("600.00"), Decimal("0"), Decimal("4320.00"))
    outcome = evaluate(tally(agree=36, object=12, area=area), CIVIL_CODE, None)
    assert failed(outcome) == ["participation_area"]
    check = outcome.failed[0]
    assert check.ratio == Fraction(5, 9)
    assert check.still_needed == Decimal("480.00")  # 2/3 of 4320 m² is 2880 m²


def test_headcount_fails_where_area_passes():
    # 47 households take part but hold the big flats: area over 2/3, headcount under.
    area = (Decimal("3200.00"), Decimal("0"), Decimal("0"), Decimal("4320.00"))
    outcome = evaluate(tally(agree=47, area=area), CIVIL_CODE, None)
    assert failed(outcome) == ["participation_headcount"]


def test_area_threshold_is_exact_to_the_cent_where_floats_would_round():
    thresholds = {"agree_area": TWO_THIRDS}
    exactly = (Decimal("200.00"), Decimal("0"), Decimal("0"), Decimal("300.00"))
    a_cent_short = (Decimal("199.99"), Decimal("0"), Decimal("0"), Decimal("300.00"))
    assert evaluate(tally(agree=2, electorate=3, area=exactly), thresholds, None).passed
    short = evaluate(tally(agree=2, electorate=3, area=a_cent_short), thresholds, None)
    assert not short.passed and short.failed[0].still_needed == Decimal("0.01")


def test_an_empty_electorate_or_no_threshold_never_passes():
    assert not evaluate(tally(electorate=0), YANSHAN, 0).passed
    assert not evaluate(tally(agree=72), {}, None).passed


def test_approval_with_no_participant_is_not_met_rather_than_a_division_by_zero():
    outcome = evaluate(tally(), {"approval_headcount": THREE_QUARTERS}, None)
    assert outcome.checks[0].ratio is None and not outcome.passed


def test_tally_survives_its_json_round_trip_exactly():
    original = tally(agree=48, object=1, abstain=3, area=(Decimal("2880.15"), Decimal("60.00"), Decimal("180.01"), Decimal("4320.99")))
    assert Tally.from_json(original.as_json()) == original
