"""Bulk merge: many duplicates into one lead at once, the lead suggested, the lead's page kept readable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cases import selectors, services
from cases.models import Case, TimelineEvent
from cases.services import IllegalTransition
from tests.cases.factories import CategoryFactory, new_case, walk
from tests import factories as f

pytestmark = pytest.mark.django_db
S = Case.Status


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # pages and refusals compared in English
    with translation.override("en"):
        yield




@pytest.fixture
def category():
    return CategoryFactory(code="heating", public_name="暖气不热")


def heating(grid, building, category, **fields) -> Case:
    return new_case(place=grid, building=building, category=category, **fields)


def test_merge_duplicates_is_one_transaction_with_one_event_per_case(grid, building, category, dispatcher):
    lead = heating(grid, building, category)
    duplicates = [heating(grid, building, category) for _n in range(5)]
    before = TimelineEvent.objects.count()

    merged = services.merge_duplicates(into=lead, cases=duplicates, by=dispatcher, note="同一栋楼暖气")

    assert {case.pk for case in merged} == {case.pk for case in duplicates}
    assert set(Case.objects.filter(merged_into=lead).values_list("status", flat=True)) == {S.MERGED}
    assert TimelineEvent.objects.count() - before == 6  # one per duplicate, one on the lead
    (event,) = TimelineEvent.objects.filter(case=lead, action="duplicates_merged")
    assert event.data["count"] == 5 and set(event.data["cases"]) == {case.code for case in duplicates}


def test_merge_duplicates_refuses_all_and_names_the_cases_that_cannot_be_merged(
    grid, building, category, dispatcher, worker, sibling_street,
):
    lead = heating(grid, building, category)
    fine = heating(grid, building, category)
    closed = walk(heating(grid, building, category), to="closed", dispatcher=dispatcher, handler=worker)
    elsewhere = new_case(place=sibling_street, category=category)  # outside the dispatcher's street

    with pytest.raises(IllegalTransition) as refusal:
        services.merge_duplicates(into=lead, cases=[fine, closed, elsewhere, lead], by=dispatcher)
    message = refusal.value.message
    assert "3 of the 4 cases cannot be merged" in message
    assert closed.code in message and elsewhere.code in message and lead.code in message
    assert fine.code not in message.split(".", 1)[1]
    assert not Case.objects.filter(status=S.MERGED).exists()  # nothing was merged

    with pytest.raises(IllegalTransition):  # a closed lead takes no duplicates
        services.merge_duplicates(into=closed, cases=[fine], by=dispatcher)


def test_the_suggested_lead_is_the_most_advanced_then_the_oldest_of_any_date(
    grid, building, category, dispatcher, worker,
):
    now = timezone.now()
    first_call = heating(grid, building, category, received_at=now - timedelta(days=90))
    walk(first_call, to="accepted", dispatcher=dispatcher, handler=worker)
    heating(grid, building, category, received_at=now - timedelta(days=120))  # older, but not yet dispatched
    newest = [heating(grid, building, category) for _n in range(12)]
    # The first call is 90 days old, behind twelve newer matches: still the lead.
    assert selectors.suggested_lead(newest[-1], dispatcher) == first_call

    other_building = f.BuildingFactory(unit=grid, name="星城二里43号楼")
    older = heating(grid, other_building, category, received_at=now - timedelta(days=3))
    newer = heating(grid, other_building, category, received_at=now - timedelta(days=1))
    assert selectors.suggested_lead(newer, dispatcher) == older  # equally advanced: the oldest


def test_the_duplicate_panel_offers_merging_every_match_into_the_lead(
    client, grid, building, category, dispatcher, worker,
):
    now = timezone.now()
    lead = heating(grid, building, category, received_at=now - timedelta(days=60))  # outside ±30 days
    walk(lead, to="accepted", dispatcher=dispatcher, handler=worker)
    duplicates = [heating(grid, building, category) for _n in range(14)]
    client.force_login(dispatcher)

    response = client.get(duplicates[-1].get_absolute_url())
    assert response.context["lead"] == lead
    assert {case.code for case in response.context["to_merge"]} == {case.code for case in duplicates}
    html = response.content.decode()
    assert reverse("cases:merge_duplicates", kwargs={"code": lead.code}) in html

    response = client.post(
        reverse("cases:merge_duplicates", kwargs={"code": lead.code}),
        {"merge_duplicates-cases": [case.code for case in response.context["to_merge"]]},
    )
    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
    assert Case.objects.filter(merged_into=lead, status=S.MERGED).count() == 14


def test_merge_duplicates_form_keeps_the_typed_codes_and_names_unknown_ones(client, grid, building, category,
                                                                            dispatcher):
    lead = heating(grid, building, category)
    duplicate = heating(grid, building, category)
    client.force_login(dispatcher)
    response = client.post(
        reverse("cases:merge_duplicates", kwargs={"code": lead.code}),
        {"merge_duplicates-cases": f"{duplicate.code.lower()}, ZZZZZZZZZZ"},
    )
    assert response.status_code == 200
    form = response.context["forms"]["merge_duplicates"]
    assert "ZZZZZZZZZZ" in form.errors["cases"][0] and duplicate.code not in form.errors["cases"][0]
    assert "ZZZZZZZZZZ" in response.content.decode()
    assert Case.objects.get(pk=duplicate.pk).status != S.MERGED


def _lead_page_queries(client, lead) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(lead.get_absolute_url())
    assert response.status_code == 200
    return len(queries), response


def test_the_leads_page_summarises_and_pages_its_duplicates_in_a_fixed_number_of_queries(
    client, grid, building, category, dispatcher, worker, django_assert_max_num_queries,
):
    lead = heating(grid, building, category)
    services.merge(case=heating(grid, building, category), into=lead, by=dispatcher)
    walk(lead, to="resolved", dispatcher=dispatcher, handler=worker)
    client.force_login(dispatcher)
    few, _response = _lead_page_queries(client, lead)

    many = [heating(grid, building, category) for _n in range(49)]
    services.merge_duplicates(into=lead, cases=many, by=dispatcher)
    for case in many[:3]:
        services.rate(case=case, resolved=True, satisfaction="satisfied", channel="web")
    with django_assert_max_num_queries(few):
        response = client.get(lead.get_absolute_url())
    html = response.content.decode()
    assert "50 duplicates merged into this case." in html
    assert "3 rated, 3 resolved, 3 satisfied" in html
    assert len(response.context["merged_page"].object_list) == 20 and "Page 1 of 3" in html
    section = html[html.index('id="merged"'):]
    section = section[:section.index("</section>")]
    codes = Case.objects.filter(merged_into=lead).values_list("code", flat=True)
    assert sum(code in section for code in codes) == 20  # a page of them, not all fifty

    last = client.get(lead.get_absolute_url(), {"merged": 3})
    assert len(last.context["merged_page"].object_list) == 10


def test_merge_duplicates_through_the_api(grid, building, category, dispatcher):
    from rest_framework.test import APIClient

    lead = heating(grid, building, category)
    duplicates = [heating(grid, building, category) for _n in range(3)]
    api = APIClient()
    api.force_authenticate(dispatcher)
    response = api.post(
        f"/api/v1/cases/{lead.code}/merge-duplicates/", {"cases": [case.code.lower() for case in duplicates]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert Case.objects.filter(merged_into=lead).count() == 3

    other = heating(grid, building, category)
    response = api.post(
        f"/api/v1/cases/{lead.code}/merge-duplicates/", {"cases": [other.code, duplicates[0].code]}, format="json",
    )
    assert response.status_code == 409
    assert duplicates[0].code in str(response.json())
    assert Case.objects.get(pk=other.pk).status != S.MERGED
