"""Proactive home visits: flagging, recording, the next visit, a case in one step, overdue lists, scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, TimelineEvent
from cases.services import IllegalTransition
from communities.models import Role
from governance.models import CareNeed, Visit
from governance.visits import selectors, services
from tests.cases.factories import CategoryFactory
from tests.factories import BuildingFactory, HouseholdFactory, StairwellFactory, staff
from tests.governance.proactive_factories import query_count

pytestmark = pytest.mark.django_db


def household_in(building, room="501"):
    return HouseholdFactory(stairwell=StairwellFactory(building=building), room=room)


@pytest.fixture
def household(building):
    return household_in(building)


@pytest.fixture
def need(household, grid_worker):
    return services.flag_need(
        household=household, kind=CareNeed.Kind.ELDERLY_ALONE, person_name="王奶奶", phone="13900001111",
        visit_every_days=14, first_visit_on=timezone.localdate() - timedelta(days=3), by=grid_worker,
    )


def test_flagging_schedules_the_first_visit(need, grid):
    visit = need.visits.get()
    assert need.unit == grid and visit.visited_on is None
    assert visit.due_on == timezone.localdate() - timedelta(days=3)


def test_flagging_twice_for_the_same_reason_is_refused(need, household, grid_worker):
    with pytest.raises(ValidationError):
        services.flag_need(household=household, kind=CareNeed.Kind.ELDERLY_ALONE, by=grid_worker)


def test_a_sibling_grid_worker_cannot_flag_here(household, sibling_grid):
    with pytest.raises(IllegalTransition):
        services.flag_need(household=household, kind=CareNeed.Kind.DISABILITY, by=staff(sibling_grid, Role.GRID_WORKER))


def test_recording_a_visit_schedules_the_next(need, grid_worker):
    visit = need.visits.get()
    today = timezone.localdate()
    services.record_visit(visit=visit, by=grid_worker, visited_on=today, outcome=Visit.Outcome.ALL_WELL)
    visit.refresh_from_db()
    assert visit.visitor_name and visit.recorded_by == grid_worker
    upcoming = need.visits.get(visited_on__isnull=True)
    assert upcoming.due_on == today + timedelta(days=14)


def test_a_visit_is_recorded_once(need, grid_worker):
    visit = need.visits.get()
    services.record_visit(visit=visit, by=grid_worker, visited_on=timezone.localdate(), outcome="all_well")
    with pytest.raises(IllegalTransition):
        services.record_visit(visit=visit, by=grid_worker, visited_on=timezone.localdate(), outcome="all_well")


def test_needing_help_needs_a_finding(need, grid_worker):
    with pytest.raises(ValidationError):
        services.record_visit(
            visit=need.visits.get(), by=grid_worker, visited_on=timezone.localdate(), outcome="needs_help"
        )


def test_a_finding_becomes_a_case_in_one_step(need, grid_worker, building, street):
    visit = services.record_visit(
        visit=need.visits.get(), by=grid_worker, visited_on=timezone.localdate(), outcome="needs_help",
        finding="家中水管漏水，老人无法自行维修",
    )
    case = services.raise_case(visit=visit, by=grid_worker, category=CategoryFactory(), title="独居老人家中水管漏水")
    assert case.source == Case.Source.GRID_PATROL and case.building == building and case.unit == street
    assert case.description == "家中水管漏水，老人无法自行维修" and case.resident_name == "王奶奶"
    assert TimelineEvent.objects.filter(case=case, action="raised_from_visit").exists()
    with pytest.raises(IllegalTransition):
        services.raise_case(visit=visit, by=grid_worker, category=CategoryFactory(), title="again")


def test_overdue_visits_are_listed_for_the_grid(client, need, grid_worker):
    client.force_login(grid_worker)
    response = client.get(reverse("proactive:visits"))
    assert response.context["overdue"] == 1
    assert "星城二里41号楼" in response.content.decode()
    assert list(response.context["page"].object_list) == list(need.visits.all())


def test_sibling_grid_does_not_see_the_household(client, need, sibling_grid):
    client.force_login(staff(sibling_grid, Role.GRID_WORKER))
    visit = need.visits.get()
    assert client.get(visit.get_absolute_url()).status_code == 404
    assert client.get(reverse("proactive:visits")).context["overdue"] == 0
    response = client.post(reverse("proactive:visit_record", kwargs={"pk": visit.pk}),
                           {"visited_on": timezone.localdate().isoformat(), "outcome": "all_well"})
    assert response.status_code == 404


def test_department_liaison_sees_no_household(client, need, area):
    client.force_login(staff(area, Role.DEPARTMENT_LIAISON))
    assert client.get(reverse("proactive:visits")).status_code == 403
    assert not selectors.visible_needs(staff(area, Role.DEPARTMENT_LIAISON)).exists()


def test_record_and_raise_on_the_page(client, need, grid_worker):
    client.force_login(grid_worker)
    visit = need.visits.get()
    url = reverse("proactive:visit_record", kwargs={"pk": visit.pk})
    today = timezone.localdate().isoformat()
    response = client.post(url, {"visited_on": today, "outcome": "needs_help", "finding": ""})
    assert response.status_code == 200 and "Say what help is needed" in response.content.decode()
    response = client.post(url, {"visited_on": timezone.localdate().isoformat(), "outcome": "needs_help",
                                 "finding": "暖气不热"})
    assert response.status_code == 302
    category = CategoryFactory()
    response = client.post(reverse("proactive:visit_raise_case", kwargs={"pk": visit.pk}),
                           {"category": category.pk, "title": "独居老人家暖气不热"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.case.title == "独居老人家暖气不热"


def test_flag_form_keeps_input_on_an_unknown_room(client, grid_worker, building, household):
    client.force_login(grid_worker)
    response = client.post(reverse("proactive:need_new"), {
        "building": building.pk, "stairwell": 9, "room": "909", "kind": "elderly_alone", "person_name": "李大爷",
        "visit_every_days": 30,
    })
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is no room 909" in html and 'value="李大爷"' in html


def test_visit_pages_query_counts_do_not_grow(client, grid_worker, grid, need):
    client.force_login(grid_worker)
    visit = need.visits.get()

    def load(n):
        building = BuildingFactory(unit=grid)
        for i in range(n):
            extra = services.flag_need(household=household_in(building, room=str(1000 + i + n)),
                                       kind=CareNeed.Kind.DISABILITY, by=grid_worker)
            services.record_visit(visit=extra.visits.get(), by=grid_worker, visited_on=timezone.localdate(),
                                  outcome="all_well")

    urls = [reverse("proactive:visits"), reverse("proactive:visits") + "?show=households", visit.get_absolute_url()]
    load(5)
    small = [query_count(client, url) for url in urls]
    load(45)
    assert [query_count(client, url) for url in urls] == small
