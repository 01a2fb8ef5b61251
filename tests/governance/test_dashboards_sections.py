"""Dashboard sections from whistles, meetings and the volunteer corps: shown only when they hold data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cases import rates
from communities.models import Role
from governance.coordination import services as coordination
from tests.cases.factories import CaseFactory
from tests.factories import BuildingFactory, staff
from tests.volunteers.factories import VolunteerFactory
from volunteers import services as volunteer_services

pytestmark = pytest.mark.django_db


def sections(client, unit) -> dict:
    page = client.get(reverse("dashboards:unit", kwargs={"code": unit.code}))
    assert page.status_code == 200
    return {section.key: section for section in page.context["sections"]}


def figures(section) -> dict:
    with translation.override("en"):  # the request's middleware left the default language active
        return {str(figure.label): figure.value for figure in section.figures}


def test_no_section_appears_without_data(client, street, community, grid, building):
    CaseFactory(location_unit=community)
    client.force_login(staff(community, Role.SECRETARY))
    assert sections(client, community) == {}
    client.force_login(staff(street, Role.SECRETARY))
    assert sections(client, street) == {}


def test_a_whistle_brings_the_whistle_section_with_each_department(client, street, community, housing):
    director = staff(street, Role.DIRECTOR)
    case = CaseFactory(location_unit=community, status="dispatched")
    coordination.blow_whistle(case=case, unit=street, reason="beyond_power", description="需要住建委到场",
                              by=director, departments=[housing])
    client.force_login(staff(street, Role.SECRETARY))

    whistles = sections(client, street)["whistles"]

    assert figures(whistles)["Whistles blown"] == 1
    assert figures(whistles)["Departments and partners summoned"] == 1
    assert whistles.rows[0][:2] == [housing.name, 1]
    client.force_login(staff(community, Role.SECRETARY))
    assert "whistles" not in sections(client, community)  # blown by the street, not under the community


def test_a_held_meeting_and_its_overdue_action_shows_the_meetings_section(client, community):
    director = staff(community, Role.DIRECTOR)
    meeting = coordination.create_meeting(
        title="加装电梯议事会", format="round_table", level="community", unit=community, place="社区议事厅",
        starts_at=timezone.now() - timedelta(hours=3), by=director,
    )
    coordination.record_minutes(meeting=meeting, by=director, minutes="同意先征求意见。")
    decision = coordination.add_decision(meeting=meeting, by=director, text="一周内入户征求意见")
    coordination.add_action_item(decision=decision, by=director, description="入户征求意见",
                                 due_on=timezone.localdate() - timedelta(days=1), owner_user=director)
    client.force_login(director)

    shown = figures(sections(client, community)["meetings"])

    this_month = rates.month_start(meeting.starts_at.astimezone(rates.RATE_TZ).date()) == rates.current_month()
    assert shown["Meetings held this month"] == (1 if this_month else 0)
    assert shown["Action items open"] == 1 and shown["Action items overdue"] == 1


@pytest.mark.calendar
def test_the_meetings_section_counts_this_months_meetings_the_planned_ones_and_unfinished_items(client, community):
    director = staff(community, Role.DIRECTOR)
    now = timezone.now()
    month_start = rates.month_bounds(rates.current_month())[0]

    def meeting(starts_at):
        return coordination.create_meeting(title="议事会", format="round_table", level="community", unit=community,
                                           place="社区议事厅", starts_at=starts_at, by=director)

    def item(decision, status):
        action = coordination.add_action_item(decision=decision, by=director, description="落实",
                                              due_on=timezone.localdate() - timedelta(days=1), owner_user=director)
        if status:
            coordination.update_action_item(item=action, by=director, note="更新", status=status)

    earlier = meeting(month_start - timedelta(days=3))  # last month: not held this month, its items still count
    coordination.record_minutes(meeting=earlier, by=director, minutes="已议。")
    decision = coordination.add_decision(meeting=earlier, by=director, text="分头落实")
    for status in ["", "in_progress", "done", "dropped"]:
        item(decision, status)
    # Held at the month's first instant (the clock may stand there): the earliest start the section reads.
    coordination.record_minutes(meeting=meeting(month_start), by=director, minutes="已议。")
    meeting(now + timedelta(days=7))
    client.force_login(director)

    shown = figures(sections(client, community)["meetings"])

    assert shown["Meetings held this month"] == 1 and shown["Meetings planned"] == 1
    assert shown["Action items open"] == 2 and shown["Action items overdue"] == 2


def test_volunteer_hours_bring_the_volunteer_section(client, community):
    worker = staff(community, Role.SECRETARY)
    volunteer = VolunteerFactory(unit=community, party_member=True)
    volunteer_services.credit_service(volunteer=volunteer, by=worker, minutes=90, served_on=timezone.localdate(),
                                      unit=community, description="帮邻居修水管")
    client.force_login(worker)

    shown = figures(sections(client, community)["volunteers"])

    assert shown["Active volunteers"] == 1 and shown["Party members among them"] == 1
    assert shown["Person-times this month"] == 1 and shown["Service hours this month"] == 1.5


def test_buildings_without_a_party_member_once_the_scheme_runs(client, community, grid, building):
    worker = staff(community, Role.SECRETARY)
    uncovered = BuildingFactory(unit=grid, name="星城二里40号楼")
    client.force_login(worker)
    assert "party_buildings" not in sections(client, community)  # nobody assigned anywhere yet

    member = VolunteerFactory(unit=community, party_member=True)
    volunteer_services.assign_building(building=building, volunteer=member, by=worker)
    section = sections(client, community)["party_buildings"]

    assert section.rows == [[uncovered.name, grid.name]]
    assert figures(section)["Buildings without one"] == 1


def test_the_project_list_section_counts_the_subtree_s_items(client, street, community, sibling_community, director):
    from tests.governance.test_projects import new_project

    new_project(director, community, title="星城二里45号楼顶层漏雨修缮")  # open, no update this month
    client.force_login(staff(street, Role.SECRETARY))

    projects = sections(client, street)["projects"]

    assert figures(projects)["Items open"] == 1
    assert figures(projects)["No update this month"] == 1
    assert f"unit={street.code}" in projects.figures[0].url
    client.force_login(staff(sibling_community, Role.SECRETARY))
    assert "projects" not in sections(client, sibling_community)
