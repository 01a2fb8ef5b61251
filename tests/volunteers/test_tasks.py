"""Tasks from cases: who is suggested (skill, then nearness), and the report on the case timeline."""

from __future__ import annotations

import pytest

from cases import services as case_services
from cases.models import TimelineEvent
from communities.models import Role
from tests import factories as f
from tests.cases.factories import CategoryFactory, new_case
from volunteers import selectors, services
from volunteers.models import HoursEntry, Task

from .factories import SkillFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heating():
    return CategoryFactory(code="t-heating-cold", name="暖气不热")


@pytest.fixture
def valves(heating):
    skill = SkillFactory(code="t-valves", name="修暖气、水阀")
    skill.categories.add(heating)
    return skill


@pytest.fixture
def case(community, grid, building, heating):
    dispatcher = f.staff(community.parent, Role.DISPATCHER)
    made = new_case(place=grid, building=building, category=heating, title="41号楼暖气不热")
    return case_services.dispatch(case=made, to_unit=community, by=dispatcher)


@pytest.fixture
def worker(community):
    return f.staff(community, Role.CASEWORKER)


def test_suggestion_ranks_by_nearness_then_skills_then_workload(
    community, sibling_community, grid, sibling_grid, building, case, valves, worker
):
    pipes = SkillFactory(code="t-pipes", name="水管")
    pipes.categories.add(case.category)
    in_building = VolunteerFactory(name="同楼", unit=grid, building=building, skills=[valves])
    in_grid = VolunteerFactory(name="同网格", unit=grid, skills=[valves])
    in_grid_both = VolunteerFactory(name="同网格两技能", unit=grid, skills=[valves, pipes])
    in_grid_busy = VolunteerFactory(name="同网格有任务", unit=grid, skills=[valves])
    services.assign_task(case=case, volunteer=in_grid_busy, description="先看看", by=worker)
    in_community = VolunteerFactory(name="同社区", unit=sibling_grid, skills=[valves, pipes])
    at_community_level = VolunteerFactory(name="社区层", unit=community, skills=[pipes])
    VolunteerFactory(name="没技能", unit=grid)
    VolunteerFactory(name="别的社区", unit=sibling_community, skills=[valves])
    VolunteerFactory(name="暂停", unit=grid, skills=[valves], status="paused")

    ranked = [c.volunteer for c in selectors.suggest_volunteers(case)]

    assert ranked == [in_building, in_grid_both, in_grid, in_grid_busy, in_community, at_community_level]


def test_without_skilled_volunteers_the_nearest_are_offered(en_client, grid, building, case, valves, worker):
    VolunteerFactory(name="热心邻居", unit=grid)
    en_client.force_login(worker)

    page = en_client.get(case.get_absolute_url()).content.decode()

    assert "Nobody nearby has these skills" in page and "热心邻居" in page


def test_task_from_the_case_page_and_its_report_land_on_the_timeline(en_client, grid, building, case, valves, worker):
    volunteer = VolunteerFactory(name="杜维臣", unit=grid, building=building, skills=[valves])
    en_client.force_login(worker)
    page = en_client.get(case.get_absolute_url()).content.decode()
    assert "杜维臣" in page and "same building" in page

    response = en_client.post(f"/volunteers/tasks/from/{case.code}/", {"volunteer": volunteer.pk, "description": "查看暖气阀门"})
    assert response.status_code == 302
    task = Task.objects.get(case=case)
    en_client.post(f"/volunteers/tasks/{task.pk}/report/", {"report": "阀门堵了，已疏通，暖气热了", "minutes": "1.5"})

    events = list(TimelineEvent.objects.filter(case=case).values_list("action", "note", "actor_label"))
    assert ("volunteer_task", "查看暖气阀门", "") in events
    assert ("volunteer_report", "阀门堵了，已疏通，暖气热了", "杜维臣") in events
    assert HoursEntry.objects.get(task=task).minutes == 90
    case_page = en_client.get(case.get_absolute_url()).content.decode()
    assert "阀门堵了，已疏通，暖气热了" in case_page


def test_a_volunteer_with_a_login_reports_from_their_own_page(en_client, grid, building, case, valves, worker):
    account = f.UserFactory()
    volunteer = VolunteerFactory(unit=grid, skills=[valves], user=account)
    task = services.assign_task(case=case, volunteer=volunteer, description="上门看看", by=worker)
    en_client.force_login(account)
    assert "上门看看" in en_client.get("/volunteers/me/").content.decode()

    en_client.post(f"/volunteers/me/tasks/{task.pk}/report/", {"report": "已修好", "minutes": "1"})

    event = TimelineEvent.objects.get(case=case, action="volunteer_report")
    assert (event.actor, event.note) == (account, "已修好")


def test_a_bad_hand_over_keeps_what_was_typed(en_client, case, worker, grid, valves):
    VolunteerFactory(unit=grid, skills=[valves])
    en_client.force_login(worker)

    response = en_client.post(f"/volunteers/tasks/from/{case.code}/", {"description": "记得带扳手"})

    assert response.status_code == 400
    assert "记得带扳手" in response.content.decode()
    assert not Task.objects.exists()


def test_no_task_to_someone_from_another_community(en_client, case, worker, sibling_community):
    outsider = VolunteerFactory(unit=sibling_community)
    en_client.force_login(worker)

    en_client.post(f"/volunteers/tasks/from/{case.code}/", {"volunteer": outsider.pk, "description": "帮忙"})

    assert not Task.objects.exists()


def test_a_sibling_community_cannot_hand_over_tasks_from_this_case(en_client, case, sibling_community, grid):
    volunteer = VolunteerFactory(unit=grid)
    en_client.force_login(f.staff(sibling_community, Role.CASEWORKER))

    response = en_client.post(f"/volunteers/tasks/from/{case.code}/", {"volunteer": volunteer.pk, "description": "帮忙"})

    assert response.status_code == 404 and not Task.objects.exists()


def test_a_skill_given_or_taken_a_category_counts_from_the_next_page(en_client, case, valves, heating, worker):
    """The categories' skills are a shared reference list (cases.reference): renewed by the change."""
    en_client.force_login(worker)
    assert "修暖气、水阀" in en_client.get(case.get_absolute_url()).content.decode()
    pipes = SkillFactory(code="t-pipes", name="通下水道")
    pipes.categories.add(heating)
    page = en_client.get(case.get_absolute_url()).content.decode()
    assert "修暖气、水阀" in page and "通下水道" in page
    valves.categories.remove(heating)
    page = en_client.get(case.get_absolute_url()).content.decode()
    assert "修暖气、水阀" not in page and "通下水道" in page


def test_without_skilled_volunteers_the_nearest_come_from_the_same_single_query(
    grid, sibling_grid, building, case, valves, django_assert_num_queries
):
    near = VolunteerFactory(name="同楼邻居", unit=grid, building=building)
    far = VolunteerFactory(name="同社区", unit=sibling_grid)
    case = type(case).objects.select_related("location_unit", "building__unit").get(pk=case.pk)

    with django_assert_num_queries(1):
        offered = selectors.suggest_volunteers(case, skills=[valves])

    assert [c.volunteer for c in offered] == [near, far]
    assert not any(c.matched for c in offered)


def test_the_unskilled_are_left_out_once_one_volunteer_has_a_skill(grid, building, case, valves):
    skilled_far = VolunteerFactory(name="远处有技能", unit=grid, skills=[valves])
    VolunteerFactory(name="同楼没技能", unit=grid, building=building)

    assert [c.volunteer for c in selectors.suggest_volunteers(case, skills=[valves])] == [skilled_far]
