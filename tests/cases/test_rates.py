"""三率 per unit and month: a hand-computed fixture, weights, exclusions, ranking, freezing, month edges."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import override_settings

from cases import rates, services
from cases.models import Case, MonthlyScore
from communities.models import Unit
from tests.cases.factories import CaseFactory
from tests.factories import CommunityFactory, GridFactory

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")
OCTOBER = date(2026, 10, 1)
RECEIVED = datetime(2026, 10, 10, 9, 0, tzinfo=BEIJING)


def make_case(unit: Unit, *, received=RECEIVED, contacted_after=None, rated=None, **fields) -> Case:
    """A bare case row. ``contacted_after`` (hours after receipt; the deadline is 24 h);
    ``rated`` = (resolved, satisfaction)."""
    values = {
        "location_unit": unit, "unit": unit, "received_at": received,
        "contact_due_at": received + timedelta(hours=24), "resolve_due_at": received + timedelta(days=7),
        "status": Case.Status.CLOSED if rated else Case.Status.IN_PROGRESS,
    }
    if contacted_after is not None:
        values["contacted_at"] = received + timedelta(hours=contacted_after)
    if rated:
        values.update(rated_at=received + timedelta(days=3), rated_resolved=rated[0], satisfaction=rated[1])
    values.update(fields)
    return CaseFactory(**values)


@pytest.fixture
def hand_fixture(community, sibling_community, street):
    """Ten counted cases in 星城第三社区 (over its two grids and itself), one excluded, one merged.

    contacted on time 8 of 10 (one late, one never); rated 6, resolved 5;
    satisfied 3, basically satisfied 2, unsatisfied 1.
    """
    grid_1 = GridFactory(parent=community, name="第一网格", sort_order=1)
    grid_2 = GridFactory(parent=community, name="第二网格", sort_order=2)
    on_time = [grid_1] * 5 + [grid_2] * 2 + [community]
    ratings = [(True, "satisfied")] * 3 + [(True, "basic")] * 2 + [(False, "unsatisfied")] + [None, None]
    for unit, rating in zip(on_time, ratings):
        make_case(unit, contacted_after=2, rated=rating)
    make_case(grid_2, contacted_after=30)  # late
    make_case(grid_2)  # never contacted
    # Neither of these may count: they would lower every rate.
    make_case(grid_1, contacted_after=30, rated=(False, "unsatisfied"), excluded_from_rates=True,
              exclusion_reason="不合理诉求")
    lead = Case.objects.filter(unit=grid_1).first()
    make_case(grid_1, status=Case.Status.MERGED, merged_into=lead)
    # Other months and other communities.
    make_case(grid_1, received=datetime(2026, 11, 1, 0, 30, tzinfo=BEIJING))
    make_case(grid_1, received=datetime(2026, 9, 30, 23, 59, tzinfo=BEIJING))
    for _ in range(2):
        make_case(sibling_community, contacted_after=1, rated=(True, "satisfied"))
    return {"grid_1": grid_1, "grid_2": grid_2}


def test_hand_computed_rates_of_a_community(hand_fixture, community):
    total = rates.unit_month_scores(community, OCTOBER)[0]

    assert total.unit == community and total.month == OCTOBER and not total.frozen
    assert (total.dispatched, total.contacted_on_time) == (10, 8)
    assert (total.rated, total.rated_resolved, total.satisfied, total.basically_satisfied) == (6, 5, 3, 2)
    assert total.response_rate == Decimal("0.8000")  # 8 / 10
    assert total.resolution_rate == Decimal("0.8333")  # 5 / 6
    assert total.satisfaction_rate == Decimal("0.8000")  # (3 + 0.9 · 2) / 6
    # 100 · (0.1 · 0.8 + 0.5 · 5/6 + 0.4 · 0.8) = 81.6667, stored to 2 places like MonthlyScore
    assert total.composite == Decimal("81.67")
    assert abs(float(total.composite) - 100 * (0.1 * 0.8 + 0.5 * 5 / 6 + 0.4 * 0.8)) < 0.005


def test_children_are_scored_from_the_path_prefix(hand_fixture, community):
    total, grid_1, grid_2 = rates.unit_month_scores(community, OCTOBER)
    assert (grid_1.unit, grid_2.unit) == (hand_fixture["grid_1"], hand_fixture["grid_2"])
    assert (grid_1.dispatched, grid_1.contacted_on_time, grid_1.rated, grid_1.rated_resolved) == (5, 5, 5, 5)
    assert (grid_2.dispatched, grid_2.contacted_on_time, grid_2.rated, grid_2.rated_resolved) == (4, 2, 1, 0)
    assert grid_2.response_rate == Decimal("0.5000") and grid_2.resolution_rate == Decimal("0.0000")
    # One case sits at the community itself: in the total, in no child.
    assert total.dispatched == grid_1.dispatched + grid_2.dispatched + 1


@override_settings(RATE_BASIC_SATISFIED_WEIGHT=1.0)
def test_basically_satisfied_weight_comes_from_settings(hand_fixture, community):
    total = rates.unit_month_scores(community, OCTOBER)[0]
    assert total.satisfaction_rate == Decimal("0.8333")  # (3 + 2) / 6
    assert total.composite == Decimal("83.00")  # 100 · (0.08 + 0.5 · 5/6 + 0.4 · 5/6)


@override_settings(RATE_WEIGHTS=(0.2, 0.4, 0.4), RATE_BASIC_SATISFIED_WEIGHT=0.5)
def test_composite_weights_come_from_settings(hand_fixture, community):
    total = rates.unit_month_scores(community, OCTOBER)[0]
    assert total.satisfaction_rate == Decimal("0.6667")  # (3 + 0.5 · 2) / 6
    assert total.composite == Decimal("76.00")  # 100 · (0.2 · 0.8 + 0.4 · 5/6 + 0.4 · 4/6)


def test_excluded_and_merged_cases_do_not_count(hand_fixture, community):
    before = rates.unit_month_scores(community, OCTOBER)[0]
    Case.objects.filter(excluded_from_rates=True).update(excluded_from_rates=False)
    Case.objects.filter(status=Case.Status.MERGED).update(status=Case.Status.IN_PROGRESS)
    after = rates.unit_month_scores(community, OCTOBER)[0]
    assert (before.dispatched, after.dispatched) == (10, 12)
    assert after.rated == 7


def test_exclusion_through_the_service_takes_a_case_out(community, street):
    from communities.models import Role
    from tests.factories import staff

    case = make_case(community, contacted_after=30)
    make_case(community, contacted_after=1)
    assert rates.unit_month_scores(community, OCTOBER)[0].response_rate == Decimal("0.5000")
    services.exclude_from_rates(case=case, by=staff(street, Role.DISPATCHER), reason="不合理诉求")
    assert rates.unit_month_scores(community, OCTOBER)[0].response_rate == Decimal("1.0000")


def test_zero_denominators_give_none(community):
    make_case(community, contacted_after=1)  # dispatched, never rated
    total = rates.unit_month_scores(community, OCTOBER)[0]
    assert total.response_rate == Decimal("1.0000")
    assert (total.resolution_rate, total.satisfaction_rate, total.composite) == (None, None, None)
    empty = rates.unit_month_scores(community, date(2026, 3, 1))[0]
    assert (empty.dispatched, empty.response_rate, empty.composite) == (0, None, None)


def test_ranking_of_children_flags_the_lowest(hand_fixture, street, community, sibling_community):
    quiet = CommunityFactory(parent=street, name="星城第九社区")  # nothing this month: unranked
    ranking = rates.ranking(street, OCTOBER)

    assert [s.unit for s in ranking] == [sibling_community, community, quiet]
    assert [s.rank for s in ranking] == [1, 2, None]
    assert ranking[0].composite == Decimal("100.00")
    assert [s.lowest for s in ranking] == [False, True, False]


def test_tied_units_share_rank_and_both_lowest(street, community, sibling_community):
    for unit in (community, sibling_community):
        make_case(unit, contacted_after=1, rated=(True, "basic"))
    ranking = rates.ranking(street, OCTOBER)
    assert [s.rank for s in ranking] == [1, 1]
    assert all(s.lowest for s in ranking)


def test_a_single_ranked_unit_is_not_named_lowest(street, community):
    make_case(community, contacted_after=1, rated=(True, "basic"))
    assert [(s.rank, s.lowest) for s in rates.ranking(street, OCTOBER)] == [(1, False)]


@pytest.mark.parametrize("size", [5, 50])
def test_scores_take_a_fixed_number_of_queries(size, street, community, sibling_community,
                                               django_assert_num_queries):
    for n in range(size):
        make_case([community, sibling_community][n % 2], contacted_after=n % 30, rated=(n % 3 > 0, "satisfied"))
    with django_assert_num_queries(3):  # children, "frozen?", one grouped aggregate
        scores = rates.unit_month_scores(street, OCTOBER)
    assert scores[0].dispatched == size


# ---------------------------------------------------------------- month boundaries (Asia/Shanghai)


@pytest.mark.parametrize(
    ("local", "month"),
    [
        (datetime(2026, 10, 31, 23, 30), date(2026, 10, 1)),  # 15:30 UTC on the 31st
        (datetime(2026, 11, 1, 0, 30), date(2026, 11, 1)),  # still 31 October in UTC
        (datetime(2026, 10, 1, 0, 0), date(2026, 10, 1)),  # the first instant is inside
        (datetime(2026, 9, 30, 23, 59, 59), date(2026, 9, 1)),
    ],
)
def test_month_boundary_is_midnight_in_beijing(local, month, community):
    make_case(community, received=local.replace(tzinfo=BEIJING))
    counts = {m: rates.unit_month_scores(community, m)[0].dispatched
              for m in (date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1))}
    assert counts == {m: int(m == month) for m in counts}


def test_month_boundary_holds_when_frozen(community):
    make_case(community, received=datetime(2026, 10, 31, 23, 30, tzinfo=BEIJING))
    make_case(community, received=datetime(2026, 11, 1, 0, 30, tzinfo=BEIJING))
    rates.freeze_month(month=date(2026, 10, 1))
    assert MonthlyScore.objects.get(unit=community, month=date(2026, 10, 1)).dispatched == 1


# ---------------------------------------------------------------- freezing


def test_freezing_writes_every_unit_with_the_live_figures(hand_fixture, area, street, community, sibling_community):
    live = {s.unit.pk: s for s in rates.unit_month_scores(community, OCTOBER)}
    live[street.pk] = rates.unit_month_scores(street, OCTOBER)[0]
    rows = rates.freeze_month(month=OCTOBER)

    assert {row.unit_id for row in rows} == set(Unit.objects.values_list("pk", flat=True))
    for pk, expected in live.items():
        stored = MonthlyScore.objects.get(unit_id=pk, month=OCTOBER)
        assert (stored.dispatched, stored.rated, stored.composite) == (
            expected.dispatched, expected.rated, expected.composite
        )
    assert MonthlyScore.objects.get(unit=area, month=OCTOBER).dispatched == 12  # 10 + sibling's 2
    assert MonthlyScore.objects.get(unit=community, month=OCTOBER).satisfaction_rate == Decimal("0.8000")


def test_a_frozen_month_ignores_a_late_rating(hand_fixture, community):
    rates.freeze_month(month=OCTOBER)
    late = Case.objects.filter(unit=hand_fixture["grid_2"], contacted_at__isnull=True).get()
    Case.objects.filter(pk=late.pk).update(status=Case.Status.RESOLVED)
    services.rate(case=late, resolved=False, satisfaction="unsatisfied", channel="web")
    assert Case.objects.filter(pk=late.pk, rated_at__isnull=False).exists()

    total, _grid_1, grid_2 = rates.unit_month_scores(community, OCTOBER)
    assert total.frozen and grid_2.frozen
    assert (total.rated, total.composite) == (6, Decimal("81.67"))
    assert grid_2.rated == 1


def test_ranking_reads_a_frozen_month(hand_fixture, street, community, sibling_community):
    rates.freeze_month(month=OCTOBER)
    Case.objects.filter(unit=sibling_community).update(rated_resolved=False, satisfaction="unsatisfied")
    ranking = rates.ranking(street, OCTOBER)
    assert [(s.unit, s.lowest) for s in ranking] == [(sibling_community, False), (community, True)]


def test_refreezing_is_refused(community):
    rates.freeze_month(month=OCTOBER)
    with translation.override("en"), pytest.raises(ValidationError, match="already frozen"):
        rates.freeze_month(month=OCTOBER)


def test_the_current_and_future_months_cannot_be_frozen(community):
    current = rates.current_month()
    for month in (current, rates.next_month(current)):
        with pytest.raises(ValidationError):
            rates.freeze_month(month=month)
    assert not MonthlyScore.objects.exists()


def test_unit_created_after_freezing_reads_as_empty_frozen(community):
    rates.freeze_month(month=OCTOBER)
    newcomer = GridFactory(parent=community)
    scores = rates.unit_month_scores(community, OCTOBER)
    assert scores[-1].unit == newcomer and scores[-1].frozen and scores[-1].dispatched == 0


def test_freeze_scores_command_defaults_to_last_month_and_is_idempotent(community, capsys):
    call_command("freeze_scores")
    last = rates.previous_month(rates.current_month())
    assert MonthlyScore.objects.filter(month=last).count() == Unit.objects.count()
    call_command("freeze_scores")
    assert "already frozen" in capsys.readouterr().out
    assert MonthlyScore.objects.filter(month=last).count() == Unit.objects.count()


def test_freeze_scores_command_takes_a_month(hand_fixture, community):
    call_command("freeze_scores", "--month", "2026-10")
    assert MonthlyScore.objects.get(unit=community, month=OCTOBER).dispatched == 10


def test_freeze_scores_command_refuses_bad_or_open_months(community):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("freeze_scores", "--month", "October")
    with pytest.raises(CommandError):
        call_command("freeze_scores", "--month", rates.current_month().strftime("%Y-%m"))


def test_month_helpers():
    assert rates.next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert rates.previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert rates.parse_month("2026-10") == OCTOBER
    start, end = rates.month_bounds(date(2026, 10, 17))
    assert (start, end) == (datetime(2026, 10, 1, tzinfo=BEIJING), datetime(2026, 11, 1, tzinfo=BEIJING))
