"""List pages run the same number of queries for 5 rows as for 50."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Role
from tests import factories as f
from tests.cases.factories import CategoryFactory, new_case
from volunteers import services

from .factories import ActivityFactory, SkillFactory, TeamFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    client.get(url)  # warm the per-process caches (content types) so both sizes are measured alike
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _people(n: int, community, grid, building, director, team):
    skills = [SkillFactory(code=f"q-{i}") for i in range(3)]
    start = timezone.now() - timedelta(days=2)
    activity = ActivityFactory(unit=community, team=team, starts_at=start, ends_at=start + timedelta(hours=2), capacity=1000)
    for i in range(n):
        volunteer = VolunteerFactory(unit=grid if i % 2 else community, building=building if i % 3 == 0 else None,
                                     party_member=bool(i % 2), skills=skills[: i % 3 + 1])
        services.add_member(team=team, volunteer=volunteer, by=director)
        signup = services.sign_up(activity=activity, volunteer=volunteer, by=director)
        services.record_attendance(signup=signup, by=director, checked_in_at=activity.starts_at, checked_out_at=activity.ends_at)
        services.submit_suggestion(volunteer=volunteer, title=f"建议{i}", text="内容", by=director)


def _applicants(first: int, last: int, community) -> None:
    for i in range(first, last):
        services.register(name="报名者", phone=f"1370000{i:04d}", unit=community)


@pytest.mark.parametrize("url", [
    "/volunteers/", "/volunteers/?status=all&party=yes", "/volunteers/applications/", "/volunteers/teams/",
    "/volunteers/hours/", "/volunteers/totals/", "/volunteers/suggestions/?status=all", "/volunteers/buildings/",
])
def test_people_lists_run_a_fixed_number_of_queries(client, community, grid, building, director, url):
    team = TeamFactory(unit=community)
    client.force_login(director)
    _people(5, community, grid, building, director, team)
    _applicants(0, 5, community)
    few = _queries(client, url)
    _people(45, community, grid, building, director, team)
    _applicants(5, 50, community)

    assert _queries(client, url) == few


def test_the_activity_calendar_runs_a_fixed_number_of_queries(client, community, director):
    team = TeamFactory(unit=community)
    client.force_login(director)
    start = timezone.localtime().replace(day=2, hour=9, minute=0)

    def make(n):
        for i in range(n):
            ActivityFactory(unit=community, team=team if i % 2 else None, starts_at=start + timedelta(hours=i),
                            ends_at=start + timedelta(hours=i + 1))

    make(5)
    few = _queries(client, f"/volunteers/activities/?month={start:%Y-%m}")
    make(45)

    assert _queries(client, f"/volunteers/activities/?month={start:%Y-%m}") == few


def test_an_activity_page_runs_a_fixed_number_of_queries(client, community, director):
    client.force_login(director)
    activity = ActivityFactory(unit=community, capacity=100)

    def sign(n):
        for volunteer in VolunteerFactory.create_batch(n, unit=community):
            services.sign_up(activity=activity, volunteer=volunteer, by=director)

    sign(5)
    few = _queries(client, activity.get_absolute_url())
    sign(45)

    assert _queries(client, activity.get_absolute_url()) == few


def test_the_case_panel_runs_a_fixed_number_of_queries(client, community, grid, building):
    from cases import services as case_services

    dispatcher = f.staff(community.parent, Role.DISPATCHER)
    worker = f.staff(community, Role.CASEWORKER)
    case = case_services.dispatch(case=new_case(place=grid, building=building, category=CategoryFactory()),
                                  to_unit=community, by=dispatcher)
    client.force_login(worker)
    director = f.staff(community, Role.DIRECTOR)

    def people(n):
        for volunteer in VolunteerFactory.create_batch(n, unit=grid, party_member=True):
            services.assign_building(building=building, volunteer=volunteer, by=director)
            services.assign_task(case=case, volunteer=volunteer, description="帮忙", by=worker)

    people(5)
    few = _queries(client, case.get_absolute_url())
    people(45)

    assert _queries(client, case.get_absolute_url()) == few
