"""The 162-complaint story: callers whose cases were merged into a lead follow it, rate it, get a return visit."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from cases import rates, selectors, services
from cases.models import Case, ReturnVisit, TimelineEvent
from cases.services import IllegalTransition
from governance.dashboards import selectors as dashboards
from tests.cases.factories import CategoryFactory, new_case, walk

pytestmark = pytest.mark.django_db
S = Case.Status


@pytest.fixture
def story(grid, building, dispatcher):
    """A lead (its caller's phone ends 0000) and three callers merged into it (phones ending 0001 … 0003)."""
    category = CategoryFactory(code="heating", public_name="暖气不热")
    lead = new_case(place=grid, building=building, category=category, resident_phone="13800000000")
    merged = [
        new_case(place=grid, building=building, category=category, resident_phone=f"1380000000{n}")
        for n in (1, 2, 3)
    ]
    for case in merged:
        services.merge(case=case, into=lead, by=dispatcher)
    return lead, merged


def _reload(case: Case) -> Case:
    return Case.objects.select_related("merged_into").get(pk=case.pk)


def test_every_merged_caller_rates_the_lead_once_and_the_lead_counts_once(story, dispatcher, worker, grid):
    lead, merged = story
    assert not any(services.resident_may_rate(_reload(case)) for case in merged)  # nothing to rate yet
    walk(lead, to="resolved", dispatcher=dispatcher, handler=worker)
    assert all(services.resident_may_rate(_reload(case)) for case in [lead, *merged])

    services.rate(case=merged[0], resolved=True, satisfaction="satisfied", channel="web")
    # The lead's own caller still rates after a neighbour did (and the lead is closed by now).
    assert _reload(lead).status == S.CLOSED and services.resident_may_rate(_reload(lead))
    services.rate(case=lead, resolved=True, satisfaction="basic", channel="web")
    services.rate(case=merged[1], resolved=True, satisfaction="unsatisfied", channel="web", comment="还是冷")

    for case in [lead, merged[0], merged[1]]:
        assert not services.resident_may_rate(_reload(case))
        with pytest.raises(IllegalTransition):
            services.rate(case=case, resolved=True, satisfaction="satisfied", channel="web")
    assert services.resident_may_rate(_reload(merged[2]))

    # Each caller's rating is kept on their own case; the lead holds the latest, counted once.
    assert {
        visit.case_id: visit.satisfaction for visit in ReturnVisit.objects.all()
    } == {merged[0].pk: "satisfied", lead.pk: "basic", merged[1].pk: "unsatisfied"}
    assert (_reload(merged[1]).rated_resolved, _reload(merged[1]).satisfaction) == (True, "unsatisfied")
    lead = _reload(lead)
    assert (lead.status, lead.satisfaction) == (S.CLOSED, "unsatisfied")
    (score, *_children) = rates.unit_month_scores(grid, lead.received_at.astimezone(rates.RATE_TZ).date())
    assert (score.dispatched, score.rated) == (1, 1)
    assert TimelineEvent.objects.get(case=merged[1], action="rated").public
    assert not TimelineEvent.objects.get(case=lead, action="rated", data__case=merged[1].code).public


def test_merged_callers_tracking_page_shows_the_leads_result_and_takes_a_rating(client, story, dispatcher, worker):
    lead, merged = story
    lead = walk(lead, to="contacted", dispatcher=dispatcher, handler=worker)
    services.add_progress(case=lead, by=worker, note="已联系供热公司排查管线", public=True)
    services.add_information(case=lead, text="我家在3单元601")  # the lead's own caller: not for the neighbours
    services.resolve(case=_reload(lead), by=worker, result="已更换灯泡", nature="reasonable")
    services.rate(case=lead, resolved=True, satisfaction="satisfied", channel="web")  # the lead is closed
    duplicate = merged[0]

    client.post(reverse("cases_public:track"), {"code": duplicate.code, "phone_last4": "0001"})
    status_url = reverse("cases_public:status", kwargs={"code": duplicate.code})
    with translation.override("zh-hans"):
        html = client.get(status_url).content.decode()
        you_will_be_contacted = translation.gettext(
            "Your request is handled together with another request about the same problem. "
            "Its progress is recorded there; you will be contacted."
        )
        closed = translation.gettext("Closed")
    assert you_will_be_contacted not in html
    assert "已联系供热公司排查管线" in html and "已更换灯泡" in html  # the lead's progress and result
    assert closed in html
    assert "我家在3单元601" not in html and lead.code not in html
    assert 'id="rating"' in html

    response = client.post(
        reverse("cases_public:rate", kwargs={"code": duplicate.code}),
        {"resolved": "yes", "satisfaction": "satisfied", "comment": ""},
    )
    assert response.status_code == 302
    duplicate = _reload(duplicate)
    assert (duplicate.status, duplicate.satisfaction) == (S.MERGED, "satisfied")
    assert 'id="rating"' not in client.get(status_url).content.decode()


def test_merged_callers_wait_in_the_return_visit_queue_and_get_a_phone_visit(client, story, street, dispatcher,
                                                                            worker):
    lead, merged = story
    walk(lead, to="resolved", dispatcher=dispatcher, handler=worker)
    queue = {case.code for case in selectors.queue(dispatcher, "awaiting_return_visit")}
    assert queue == {lead.code, *(case.code for case in merged)}

    services.rate(case=lead, resolved=True, satisfaction="satisfied", channel="phone", by=dispatcher)
    services.rate(case=merged[0], resolved=True, satisfaction="satisfied", channel="web")
    queue = {case.code for case in selectors.queue(dispatcher, "awaiting_return_visit")}
    assert queue == {merged[1].code, merged[2].code}  # the lead closed, one neighbour rated
    board = dashboards.dashboard(dispatcher, street, lead.received_at.astimezone(rates.RATE_TZ).date())
    assert board.work[street.pk].awaiting_return_visit == 2  # the dashboard's number is the queue's length

    duplicate = _reload(merged[1])
    assert "record_return_visit" in services.allowed_actions(duplicate, dispatcher)
    assert "record_return_visit" not in services.allowed_actions(duplicate, worker)  # no permission
    client.force_login(dispatcher)
    response = client.post(
        reverse("cases:record_return_visit", kwargs={"code": duplicate.code}),
        {"record_return_visit-resolved": "no", "record_return_visit-satisfaction": "unsatisfied",
         "record_return_visit-comment": "二楼仍然不热"},
    )
    assert response.status_code == 302
    visit = ReturnVisit.objects.get(case=duplicate)
    assert (visit.by, visit.channel, visit.resolved) == (dispatcher, "phone", False)
    assert _reload(lead).status == S.RETURNED  # "not resolved" sends the lead back to the dispatcher
    assert {case.code for case in selectors.queue(dispatcher, "awaiting_return_visit")} == set()


def test_no_return_visit_on_a_merged_case_while_its_lead_is_open(story, dispatcher):
    _lead, merged = story
    duplicate = _reload(merged[0])
    assert "record_return_visit" not in services.allowed_actions(duplicate, dispatcher)
    with pytest.raises(IllegalTransition):
        services.rate(case=duplicate, resolved=True, satisfaction="satisfied", channel="phone", by=dispatcher)
    assert duplicate.code not in {c.code for c in selectors.queue(dispatcher, "awaiting_return_visit")}


def _stored_flags_match_the_rule() -> None:
    by_rule = set(Case.objects.filter(selectors.awaiting_visit_by_lead_q()).values_list("pk", flat=True))
    stored = set(Case.objects.filter(awaits_visit=True).values_list("pk", flat=True))
    assert stored == by_rule


def test_the_stored_waiting_flag_follows_the_lead_through_resolve_rating_reopening_and_a_late_merge(
    story, grid, building, dispatcher, worker
):
    """The queue and the dashboards count waiting merged callers from ``Case.awaits_visit``, kept by the
    services: it must say what the rule read from the lead says, at every step of the story."""
    lead, merged = story
    _stored_flags_match_the_rule()
    assert not Case.objects.filter(awaits_visit=True).exists()  # the lead is open: nobody waits yet

    walk(lead, to="resolved", dispatcher=dispatcher, handler=worker)
    _stored_flags_match_the_rule()
    assert set(Case.objects.filter(awaits_visit=True).values_list("pk", flat=True)) == {c.pk for c in merged}

    late = new_case(place=grid, building=building)  # merged while the lead waits for its return visit
    services.merge(case=late, into=_reload(lead), by=dispatcher)
    _stored_flags_match_the_rule()
    assert _reload(late).awaits_visit

    services.rate(case=merged[0], resolved=True, satisfaction="satisfied", channel="web")
    _stored_flags_match_the_rule()
    assert not _reload(merged[0]).awaits_visit

    # "Not resolved" from the lead's own caller reopens it: nobody waits for a result that is gone ...
    services.rate(case=_reload(lead), resolved=False, satisfaction="unsatisfied", channel="web")
    assert _reload(lead).status == S.RETURNED
    _stored_flags_match_the_rule()
    assert not Case.objects.filter(awaits_visit=True).exists()

    # ... and every caller, the one who rated the first result too, waits again for the new one.
    walk(_reload(lead), to="resolved", dispatcher=dispatcher, handler=worker)
    _stored_flags_match_the_rule()
    assert Case.objects.filter(awaits_visit=True).count() == 4


def test_recounting_the_waiting_flag_after_a_bulk_load_repairs_it(story, dispatcher, worker):
    from cases import tallies

    lead, merged = story
    walk(lead, to="resolved", dispatcher=dispatcher, handler=worker)
    Case.objects.update(awaits_visit=False)  # rows written past the services (a bulk load, SQL)
    Case.objects.filter(pk=lead.pk).update(awaits_visit=True)
    assert tallies.recount_awaiting_visits() == 3
    _stored_flags_match_the_rule()
