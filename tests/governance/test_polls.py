"""Household consent polls: the 41号楼 case, one ballot per household, corrections, closing, progress."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import IntegrityError, connections, transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import TimelineEvent
from communities.models import Household, Role
from governance.coordination import selectors, services
from governance.coordination.services import IllegalTransition
from governance.models import Ballot, Elector, Poll
from tests import factories as f
from tests.governance.coordination_factories import households

pytestmark = pytest.mark.django_db
AGREE, OBJECT, ABSTAIN = Ballot.Choice.AGREE, Ballot.Choice.OBJECT, Ballot.Choice.ABSTAIN


def open_41(by, building, *, rule=Poll.Rule.YANSHAN, numbers=(), thresholds=None, case=None, **extra) -> Poll:
    today = timezone.localdate()
    return services.open_poll(
        title="41号楼5单元加装电梯", question="是否同意5单元加装电梯？", buildings=[building], by=by,
        rule=rule, stairwell_numbers=numbers, thresholds=thresholds, case=case,
        opens_on=extra.pop("opens_on", today), closes_on=extra.pop("closes_on", today + timedelta(days=40)),
    )


def electors(poll: Poll) -> list[Elector]:
    return list(Elector.objects.filter(poll=poll).order_by("stairwell_number", "floor", "room"))


def vote(poll: Poll, by, plan: list[tuple[Elector, str]]) -> None:
    for elector, choice in plan:
        services.record_ballot(poll=poll, elector=elector, choice=choice, method=Ballot.Method.DOOR_TO_DOOR,
                               by=by, witness="楼门长老张")


# --------------------------------------------------------------------------- the 41号楼 case


def test_a_poll_over_building_41_has_72_households_in_6_units(director, building_41):
    poll = open_41(director, building_41)
    rows = electors(poll)
    assert len(rows) == 72
    assert sorted({e.stairwell_number for e in rows}) == [1, 2, 3, 4, 5, 6]
    assert "72" in poll.electorate_label
    assert (poll.agree_headcount, poll.max_objections) == ("2/3", 0)


def test_yanshan_rule_on_building_41_passes_with_48_agreeing_and_nobody_objecting(director, building_41):
    poll = open_41(director, building_41)
    vote(poll, director, [(e, AGREE) for e in electors(poll)[:48]])
    outcome = selectors.poll_outcome(poll)
    assert outcome.passed and outcome.tally.agree == 48 and outcome.tally.not_reached == 24
    assert outcome.checks[0].exactly_at_threshold


def test_yanshan_rule_on_building_41_fails_with_47_or_with_one_objection(director, building_41):
    poll = open_41(director, building_41)
    rows = electors(poll)
    vote(poll, director, [(e, AGREE) for e in rows[:47]])
    assert [c.key for c in selectors.poll_outcome(poll).failed] == ["agree_headcount"]
    vote(poll, director, [(rows[47], AGREE), (rows[48], OBJECT)])
    outcome = selectors.poll_outcome(poll)
    assert outcome.tally.agree == 48 and [c.key for c in outcome.failed] == ["max_objections"]


def test_area_and_headcount_rule_where_area_disagrees_with_headcount(director, building):
    # Units 1–4 hold 48 flats of 50 m²; units 5–6 hold 24 flats of 100 m² (total 4800 m²).
    households(building, area=lambda unit, floor, door: "50.00" if unit <= 4 else "100.00")
    poll = open_41(director, building, rule=Poll.Rule.CIVIL_CODE)
    small = [e for e in electors(poll) if e.stairwell_number <= 4]
    vote(poll, director, [(e, AGREE) for e in small[:36]] + [(e, OBJECT) for e in small[36:48]])

    outcome = selectors.poll_outcome(poll)

    assert (outcome.tally.participants, outcome.tally.participants_area) == (48, Decimal("2400.00"))
    assert [c.key for c in outcome.failed] == ["participation_area"]  # 2/3 by headcount, 1/2 by area
    assert outcome.failed[0].still_needed == Decimal("800.00")


def test_a_second_ballot_for_the_same_household_is_refused(director, grid_worker, building_41):
    poll = open_41(director, building_41)
    first = electors(poll)[0]
    vote(poll, director, [(first, AGREE)])
    with pytest.raises(IllegalTransition, match="has already voted; correct that ballot instead"):
        vote(poll, grid_worker, [(first, OBJECT)])
    assert Ballot.objects.filter(elector=first).count() == 1
    assert selectors.poll_tally(poll).object == 0


def test_the_database_itself_refuses_two_current_ballots_for_one_household(director, building_41):
    poll = open_41(director, building_41)
    first = electors(poll)[0]
    vote(poll, director, [(first, AGREE)])
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(poll=poll, elector=first, choice=OBJECT, method="written",
                              collected_at=timezone.now(), recorded_by=director)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_collectors_recording_one_household_at_once_make_one_ballot(area, street, community, grid, building_41):
    director, worker = f.staff(community, Role.DIRECTOR), f.staff(grid, Role.GRID_WORKER)
    poll = open_41(director, building_41)
    target = electors(poll)[0]
    outcomes, barrier = [], threading.Barrier(2)

    def collect(user, choice):
        barrier.wait()
        try:
            vote(poll, user, [(target, choice)])
            outcomes.append("ok")
        except IllegalTransition:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=collect, args=args) for args in ((director, AGREE), (worker, OBJECT))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Ballot.objects.filter(elector=target).count() == 1


def test_a_correction_replaces_the_ballot_and_keeps_it_with_the_reason(director, building_41):
    poll = open_41(director, building_41)
    first = electors(poll)[0]
    vote(poll, director, [(first, OBJECT)])
    old = Ballot.objects.get(elector=first)

    new = services.correct_ballot(ballot=old, choice=AGREE, reason="户主本人改签同意，儿子代签作废", by=director)

    old.refresh_from_db()
    assert old.superseded_at is not None and new.replaces == old
    assert new.correction_reason == "户主本人改签同意，儿子代签作废"
    assert (selectors.poll_tally(poll).agree, selectors.poll_tally(poll).object) == (1, 0)
    with pytest.raises(IllegalTransition, match="already been corrected"):
        services.correct_ballot(ballot=old, choice=ABSTAIN, reason="再改", by=director)


def test_a_correction_needs_a_reason(director, building_41):
    poll = open_41(director, building_41)
    vote(poll, director, [(electors(poll)[0], OBJECT)])
    with pytest.raises(Exception, match="reason for the correction"):
        services.correct_ballot(ballot=Ballot.objects.get(), choice=AGREE, reason=" ", by=director)
    assert Ballot.objects.filter(superseded_at__isnull=True).get().choice == OBJECT


def test_ballots_after_the_closing_date_are_refused(director, building_41):
    poll = open_41(director, building_41)
    today = timezone.localdate()
    Poll.objects.filter(pk=poll.pk).update(opens_on=today - timedelta(days=10), closes_on=today - timedelta(days=1))
    poll.refresh_from_db()
    with pytest.raises(IllegalTransition, match="The poll closed on"):
        vote(poll, director, [(electors(poll)[0], AGREE)])


def test_closing_early_is_refused_while_households_have_not_voted(director, building_41):
    poll = open_41(director, building_41)
    vote(poll, director, [(e, AGREE) for e in electors(poll)[:50]])
    with pytest.raises(IllegalTransition, match="22 households have not voted yet"):
        services.close_poll(poll=poll, by=director)


def test_closing_freezes_the_result_and_records_it_on_the_case(director, building_41, case):
    poll = open_41(director, building_41, case=case)
    today = timezone.localdate()
    vote(poll, director, [(e, AGREE) for e in electors(poll)[:48]])
    Poll.objects.filter(pk=poll.pk).update(opens_on=today - timedelta(days=40), closes_on=today - timedelta(days=1))

    poll = services.close_poll(poll=Poll.objects.get(pk=poll.pk), by=director)
    Household.objects.update(area=Decimal("999.00"))  # the register changes later: the result does not
    Ballot.objects.update(choice=OBJECT)

    assert poll.passed is True and poll.status == Poll.Status.CLOSED
    outcome = selectors.poll_outcome(poll)
    assert outcome.passed and outcome.tally.agree == 48 and outcome.tally.electorate_area == Decimal("4320.00")
    event = TimelineEvent.objects.get(case=case, action="poll_closed")
    assert event.public and "48 agree" in event.note
    assert TimelineEvent.objects.filter(case=case, action="poll_opened").exists()
    with pytest.raises(IllegalTransition, match="already closed"):
        services.close_poll(poll=poll, by=director)


def test_the_electorate_keeps_each_households_area_as_it_was_when_the_poll_opened(director, building_41):
    poll = open_41(director, building_41)
    Household.objects.update(area=Decimal("10.00"))
    assert selectors.poll_tally(poll).electorate_area == Decimal("4320.00")


def test_a_poll_of_one_unit_only_counts_that_units_households(director, building_41):
    poll = open_41(director, building_41, numbers=[5])
    assert len(electors(poll)) == 12 and {e.stairwell_number for e in electors(poll)} == {5}
    with pytest.raises(Exception, match="no unit 9"):
        open_41(director, building_41, numbers=[9])


def test_custom_thresholds_are_kept_as_exact_fractions(director, building_41):
    poll = open_41(director, building_41, rule=Poll.Rule.CUSTOM,
                   thresholds={"not_objecting_headcount": "2/3", "agree_area": "1/2"})
    assert poll.thresholds()["not_objecting_headcount"] == Fraction(2, 3)
    assert poll.agree_headcount == "" and poll.max_objections is None


def test_progress_lists_who_is_still_to_visit_by_unit_and_floor(director, building_41, django_assert_num_queries):
    poll = open_41(director, building_41)
    rows = electors(poll)
    vote(poll, director, [(e, AGREE) for e in rows if e.stairwell_number == 1] + [(rows[12], OBJECT)])

    with django_assert_num_queries(1):
        progress = selectors.poll_progress(poll)

    assert [(s.number, s.reached, s.total) for s in progress] == [(1, 12, 12), (2, 1, 12)] + [(n, 0, 12) for n in range(3, 7)]
    assert [f.floor for f in progress[1].floors] == [6, 5, 4, 3, 2, 1]  # top floor first, as on the stairs
    assert rows[12] not in progress[1].to_visit and len(progress[1].to_visit) == 11


# --------------------------------------------------------------------------- who may do what


def test_a_supervisor_may_not_record_ballots(community, director, building_41):
    poll = open_41(director, building_41)
    supervisor = f.staff(community, Role.SUPERVISOR)
    with pytest.raises(IllegalTransition, match="may not record ballots"):
        vote(poll, supervisor, [(electors(poll)[0], AGREE)])


def test_a_sibling_community_may_not_record_ballots_or_open_polls_here(sibling_director, director, building_41):
    poll = open_41(director, building_41)
    with pytest.raises(IllegalTransition):
        vote(poll, sibling_director, [(electors(poll)[0], AGREE)])
    with pytest.raises(IllegalTransition):
        open_41(sibling_director, building_41)


def test_a_household_of_another_poll_is_refused(director, building_41):
    poll, other = open_41(director, building_41), open_41(director, building_41)
    with pytest.raises(Exception, match="not on this poll's electorate"):
        vote(poll, director, [(electors(other)[0], AGREE)])


# --------------------------------------------------------------------------- pages


def test_poll_page_shows_the_arithmetic_and_which_threshold_failed(client, director, building_41):
    poll = open_41(director, building_41)
    rows = electors(poll)
    vote(poll, director, [(e, AGREE) for e in rows[:48]] + [(rows[48], OBJECT)])
    client.force_login(director)

    page = client.get(poll.get_absolute_url()).content.decode()

    assert "48 / 72" in page and "66.67%" in page and "≥ 2/3" in page
    assert "Not passed" in page and "Not met" in page and "Objections" in page


def test_the_ballot_form_names_its_vote_buttons_by_the_question(client, director, building_41):
    """A screen reader announces "Vote" with agree / object / abstain: a legend, not a label for nothing."""
    poll = open_41(director, building_41)
    client.force_login(director)

    page = client.get(poll.get_absolute_url()).content.decode()

    group = re.search(r'<fieldset class="field-group"><legend>Vote\b.*?</fieldset>', page, re.DOTALL)
    assert group and group.group(0).count('type="radio"') == 3
    assert '<label for="">' not in page


def test_recording_a_ballot_through_the_page_and_a_double_is_explained(client, grid_worker, director, building_41):
    poll = open_41(director, building_41)
    target = electors(poll)[0]
    client.force_login(grid_worker)
    url = reverse("coordination:ballot_new", kwargs={"pk": poll.pk})
    data = {"elector": target.pk, "choice": AGREE, "method": "door_to_door", "witness": "楼门长老张"}

    assert client.post(url, data).status_code == 302
    again = client.post(url, {**data, "choice": OBJECT, "witness": "另一位"})

    assert again.status_code == 200
    assert "has already voted" in again.content.decode() and "另一位" in again.content.decode()
    assert Ballot.objects.get(elector=target).collected_by == grid_worker


def test_opening_a_poll_through_the_page(client, director, building_41):
    client.force_login(director)
    today = timezone.localdate()
    response = client.post(reverse("coordination:poll_new"), {
        "title": "加装电梯", "question": "同意吗？", "buildings": [building_41.pk], "stairwell_numbers": "5",
        "rule": "yanshan", "opens_on": today.isoformat(), "closes_on": (today + timedelta(days=30)).isoformat(),
    })
    poll = Poll.objects.get()
    assert response.status_code == 302 and response.url == poll.get_absolute_url()
    assert poll.electors.count() == 12


def test_a_bad_poll_form_keeps_what_was_typed(client, director, building_41):
    client.force_login(director)
    response = client.post(reverse("coordination:poll_new"), {
        "title": "加装电梯", "question": "同意吗？", "buildings": [building_41.pk], "rule": "custom",
        "agree_headcount": "2:3", "opens_on": "2026-05-01", "closes_on": "2026-04-01",
    })
    assert response.status_code == 200 and not Poll.objects.exists()
    form = response.context["form"]
    assert "agree_headcount" in form.errors and "closes_on" in form.errors
    assert "加装电梯" in response.content.decode()


def test_the_poll_form_in_chinese_keeps_its_dates_in_the_date_pickers(client, settings, director, building_41):
    """A date picker takes only ISO values: in the Chinese locale's 2026/05/01 the browser
    showed the opening day blank and dropped every date when the form came back with an error."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(director)
    today = timezone.localdate()
    blank = client.get(reverse("coordination:poll_new")).content.decode()
    assert f'name="opens_on" value="{today.isoformat()}"' in blank
    response = client.post(reverse("coordination:poll_new"), {
        "title": "加装电梯", "question": "同意吗？", "buildings": [building_41.pk], "rule": "yanshan",
        "opens_on": "2026-05-01", "closes_on": "2026-04-01",
    })
    page = response.content.decode()
    assert "closes_on" in response.context["form"].errors
    assert 'name="opens_on" value="2026-05-01"' in page and 'name="closes_on" value="2026-04-01"' in page


def test_correction_page_replaces_the_ballot(client, director, building_41):
    poll = open_41(director, building_41)
    vote(poll, director, [(electors(poll)[0], OBJECT)])
    ballot = Ballot.objects.get()
    client.force_login(director)
    url = reverse("coordination:ballot_correct", kwargs={"pk": poll.pk, "ballot_pk": ballot.pk})
    response = client.post(url, {"choice": AGREE, "reason": "误填", "method": "written"})
    assert response.status_code == 302
    assert Ballot.objects.get(superseded_at__isnull=True).choice == AGREE


def test_visit_list_shows_only_households_still_to_visit(client, director, building_41):
    poll = open_41(director, building_41, numbers=[5])
    rows = electors(poll)
    vote(poll, director, [(e, AGREE) for e in rows[:11]])
    client.force_login(director)
    response = client.get(reverse("coordination:visits", kwargs={"pk": poll.pk}))
    stairwells = response.context["stairwells"]
    assert [e.room for s in stairwells for e in s.to_visit] == [rows[11].room]


def test_closing_through_the_page_after_every_household_voted(client, director, building_41):
    poll = open_41(director, building_41, numbers=[1])
    vote(poll, director, [(e, AGREE) for e in electors(poll)])
    client.force_login(director)
    assert client.post(reverse("coordination:poll_close", kwargs={"pk": poll.pk})).status_code == 302
    assert Poll.objects.get().passed is True


def test_a_sibling_communitys_poll_is_404(client, director, sibling_director, sibling_building):
    households(sibling_building, units=1, floors=1)
    there = open_41(sibling_director, sibling_building)
    client.force_login(director)
    assert client.get(there.get_absolute_url()).status_code == 404
    assert client.get(reverse("coordination:visits", kwargs={"pk": there.pk})).status_code == 404
    assert list(client.get(reverse("coordination:polls")).context["page"].object_list) == []


def test_a_department_liaison_sees_no_polls(client, housing_liaison, director, building_41):
    open_41(director, building_41)
    assert list(selectors.visible_polls(housing_liaison)) == []


def _queries(client, url: str, limit) -> int:
    client.get(url)  # warm per-process caches (content types, permissions)
    with limit(25) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_poll_list_runs_a_fixed_number_of_queries(client, director, building, django_assert_max_num_queries):
    households(building, units=1, floors=2)
    client.force_login(director)
    url = reverse("coordination:polls")
    for _n in range(5):
        open_41(director, building)
    few = _queries(client, url, django_assert_max_num_queries)
    for _n in range(45):
        open_41(director, building)
    assert _queries(client, url, django_assert_max_num_queries) == few
    assert len(client.get(url).context["page"].object_list) == 50


def test_poll_page_runs_a_fixed_number_of_queries_whatever_the_ballots(client, director, building_41,
                                                                      django_assert_max_num_queries):
    poll = open_41(director, building_41)
    rows = electors(poll)
    client.force_login(director)
    vote(poll, director, [(e, AGREE) for e in rows[:5]])
    few = _queries(client, poll.get_absolute_url(), django_assert_max_num_queries)
    vote(poll, director, [(e, OBJECT) for e in rows[5:50]])
    services.correct_ballot(ballot=Ballot.objects.filter(elector=rows[0]).get(), choice=ABSTAIN, reason="改", by=director)
    assert _queries(client, poll.get_absolute_url(), django_assert_max_num_queries) == few


def test_tally_areas_are_exact_cents_on_either_database(director, building):
    households(building, units=1, floors=3, per_floor=1, area=lambda u, fl, d: {1: "0.10", 2: "0.20", 3: "0.30"}[fl])
    poll = open_41(director, building)
    vote(poll, director, [(e, AGREE) for e in electors(poll)])
    assert selectors.poll_tally(poll).agree_area == Decimal("0.60")  # 0.1 + 0.2 + 0.3 in floats is 0.6000000000000001
