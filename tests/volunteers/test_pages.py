"""The corps' staff pages and the volunteer's own page: each does what its buttons say."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case
from communities import panels
from communities.models import Role
from tests import factories as f
from tests.cases.factories import CategoryFactory
from volunteers import services
from volunteers.models import Activity, BuildingAssignment, HoursEntry, Membership, SignUp, Suggestion, Team, Volunteer

from .factories import ActivityFactory, SkillFactory, TeamFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(en_client, director):
    en_client.force_login(director)
    return en_client


def test_staff_add_a_volunteer_who_is_active_at_once(logged_in, community, grid, building):
    skill = SkillFactory(code="t-patrol", name="巡逻")
    team = TeamFactory(unit=community)

    response = logged_in.post("/volunteers/new/", {
        "name": "甘起荣", "phone": "13612345678", "unit": grid.pk, "building": building.pk, "party_member": "on",
        "party_since": "1975-07-01", "skills": [skill.pk], "teams": [team.pk],
    })

    volunteer = Volunteer.objects.get(phone="13612345678")
    assert response.status_code == 302 and volunteer.status == "active" and volunteer.source == "staff"
    assert Membership.objects.filter(team=team, volunteer=volunteer).exists()


def test_a_bad_add_keeps_what_was_typed(logged_in, grid):
    response = logged_in.post("/volunteers/new/", {"name": "甘起荣", "phone": "123", "unit": grid.pk})
    page = response.content.decode()
    assert response.status_code == 200 and 'value="甘起荣"' in page and "Enter a mainland mobile number" in page


def test_editing_without_a_new_phone_keeps_the_number(logged_in, community):
    volunteer = VolunteerFactory(unit=community, phone="13612345678")
    form = logged_in.get(f"/volunteers/{volunteer.pk}/edit/").content.decode()
    assert "136****5678" in form and "13612345678" not in form

    logged_in.post(f"/volunteers/{volunteer.pk}/edit/", {"name": "新名字", "phone": "", "unit": community.pk})

    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.phone) == ("新名字", "13612345678")


def test_declining_needs_a_reason_and_records_it(logged_in, community):
    volunteer = services.register(name="报名者", phone="13612345678", unit=community)

    assert logged_in.post(f"/volunteers/{volunteer.pk}/decline/", {"reason": ""}).status_code == 400
    logged_in.post(f"/volunteers/{volunteer.pk}/decline/", {"reason": "不在本社区居住"})

    volunteer.refresh_from_db()
    assert volunteer.status == "declined" and volunteer.events.get(action="declined").note == "不在本社区居住"


def test_pausing_and_leaving_follow_the_rules(logged_in, community):
    volunteer = VolunteerFactory(unit=community)
    logged_in.post(f"/volunteers/{volunteer.pk}/status/", {"to": "paused", "note": "住院"})
    volunteer.refresh_from_db()
    assert volunteer.status == "paused"
    logged_in.post(f"/volunteers/{volunteer.pk}/status/", {"to": "left"})
    response = logged_in.post(f"/volunteers/{volunteer.pk}/status/", {"to": "paused"}, follow=True)
    assert "cannot become" in response.content.decode()
    assert Volunteer.objects.get(pk=volunteer.pk).status == "left"


def test_a_login_links_a_volunteer_to_their_own_page(logged_in, en_client, community):
    volunteer = VolunteerFactory(unit=community, name="杜维臣")
    account = f.UserFactory(username="laodu")
    logged_in.post(f"/volunteers/{volunteer.pk}/login/", {"username": "laodu"})
    assert Volunteer.objects.get(pk=volunteer.pk).user == account
    staff_account = f.staff(community, Role.CASEWORKER)
    response = logged_in.post(f"/volunteers/{volunteer.pk}/login/", {"username": staff_account.username})
    assert response.status_code == 400 and "staff account" in response.content.decode()

    en_client.force_login(account)
    assert "Hello, 杜维臣" in en_client.get("/volunteers/me/").content.decode()


def test_an_account_without_a_volunteer_is_told_so(en_client):
    en_client.force_login(f.UserFactory())
    response = en_client.get("/volunteers/me/")
    assert response.status_code == 404 and "not linked to a volunteer" in response.content.decode()


def test_a_volunteer_signs_up_and_cancels_on_their_own_page(en_client, community, grid):
    account = f.UserFactory()
    volunteer = VolunteerFactory(unit=grid, user=account)
    activity = ActivityFactory(unit=community, title="理发日", capacity=3)
    elsewhere = ActivityFactory(unit=f.CommunityFactory(parent=community.parent), title="别处的活动")
    en_client.force_login(account)
    page = en_client.get("/volunteers/me/").content.decode()
    assert "理发日" in page and "别处的活动" not in page

    en_client.post(f"/volunteers/me/activities/{activity.pk}/sign-up/")
    signup = SignUp.objects.get(volunteer=volunteer)
    assert Activity.objects.get(pk=activity.pk).seats_taken == 1
    assert en_client.post(f"/volunteers/me/activities/{elsewhere.pk}/sign-up/").status_code == 404
    en_client.post(f"/volunteers/me/sign-ups/{signup.pk}/cancel/")
    assert SignUp.objects.get(pk=signup.pk).status == "cancelled"
    assert Activity.objects.get(pk=activity.pk).seats_taken == 0


def test_a_volunteer_sends_a_suggestion_from_their_page(en_client, community):
    account = f.UserFactory()
    volunteer = VolunteerFactory(unit=community, user=account)
    en_client.force_login(account)

    en_client.post("/volunteers/me/suggestions/", {"title": "楼道加扶手", "text": "老人上下楼不方便"})

    suggestion = Suggestion.objects.get()
    assert (suggestion.volunteer, suggestion.recorded_by) == (volunteer, None)


def test_staff_create_edit_and_cancel_an_activity(logged_in, community):
    start = timezone.localtime() + timedelta(days=3)
    response = logged_in.post("/volunteers/activities/new/", {
        "title": "义务理发", "kind": "haircut", "unit": community.pk, "place": "社区服务站",
        "starts_at": start.strftime("%Y-%m-%dT09:00"), "ends_at": start.strftime("%Y-%m-%dT11:00"), "capacity": 2,
    })
    activity = Activity.objects.get()
    assert response.status_code == 302
    assert "义务理发" in logged_in.get(f"/volunteers/activities/?month={start:%Y-%m}").content.decode()
    services.sign_up(activity=activity, volunteer=VolunteerFactory(unit=community), by=activity.created_by)
    services.sign_up(activity=activity, volunteer=VolunteerFactory(unit=community), by=activity.created_by)

    fewer = logged_in.post(f"/volunteers/activities/{activity.pk}/edit/", {
        "title": "义务理发", "kind": "haircut", "unit": community.pk, "place": "社区服务站",
        "starts_at": start.strftime("%Y-%m-%dT09:00"), "ends_at": start.strftime("%Y-%m-%dT11:00"), "capacity": 1,
    })
    assert "already signed up" in fewer.content.decode()
    logged_in.post(f"/volunteers/activities/{activity.pk}/cancel/")
    activity.refresh_from_db()
    assert activity.cancelled_at and not activity.signups.exclude(status="cancelled").exists()


def test_an_activity_ending_before_it_starts_is_refused(logged_in, community):
    response = logged_in.post("/volunteers/activities/new/", {
        "title": "巡逻", "kind": "patrol", "unit": community.pk, "place": "小区",
        "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T09:00", "capacity": 5,
    })
    assert "The end must come after the start." in response.content.decode() and not Activity.objects.exists()


def test_a_full_activity_says_so_on_its_page(logged_in, community):
    activity = ActivityFactory(unit=community, capacity=1)
    first = VolunteerFactory(unit=community)
    logged_in.post(f"/volunteers/activities/{activity.pk}/sign-up/", {"volunteer": first.pk})
    page = logged_in.get(activity.get_absolute_url()).content.decode()
    assert "All seats are taken." in page


def test_teams_are_made_and_led(logged_in, community):
    logged_in.post("/volunteers/teams/new/", {"name": "星城老工友", "kind": "veteran_workers", "unit": community.pk,
                                              "active": "on"})
    team = Team.objects.get()
    member = VolunteerFactory(unit=community)
    logged_in.post(f"/volunteers/teams/{team.pk}/members/", {"volunteer": member.pk})
    logged_in.post(f"/volunteers/teams/{team.pk}/leader/", {"volunteer": member.pk})
    assert Team.objects.get().leader == member
    logged_in.post(f"/volunteers/teams/{team.pk}/members/{member.pk}/remove/")
    assert Team.objects.get().leader is None and not Membership.objects.exists()


def test_other_service_is_credited_and_corrected_on_the_volunteers_page(logged_in, community):
    volunteer = VolunteerFactory(unit=community)
    logged_in.post(f"/volunteers/{volunteer.pk}/credit/", {
        "description": "上门修水阀", "minutes": "2", "served_on": timezone.localdate().isoformat(), "unit": community.pk,
    })
    entry = HoursEntry.objects.get()
    assert entry.minutes == 120

    response = logged_in.post(f"/volunteers/hours/{entry.pk}/correct/", {"minutes": "1.5", "reason": ""})
    assert response.status_code == 400 and HoursEntry.objects.count() == 1
    logged_in.post(f"/volunteers/hours/{entry.pk}/correct/", {"minutes": "1.5", "reason": "实际一个半小时"})

    assert list(HoursEntry.objects.order_by("pk").values_list("kind", "minutes")) == [("service", 120), ("correction", -30)]
    assert "counts 1.5 h after corrections" in logged_in.get(volunteer.get_absolute_url()).content.decode()


def test_suggestion_answered_and_made_a_case_in_one_step(en_client, community, grid):
    dispatcher = f.staff(community, Role.DISPATCHER)
    volunteer = VolunteerFactory(unit=grid, name="杜维臣")
    suggestion = services.submit_suggestion(volunteer=volunteer, title="更换节能灯", text="楼道灯太耗电", by=dispatcher)
    category = CategoryFactory(name="楼道设施")
    en_client.force_login(dispatcher)

    en_client.post(f"/volunteers/suggestions/{suggestion.pk}/answer/", {"answer": "已转物业，下周更换"})
    en_client.post(f"/volunteers/suggestions/{suggestion.pk}/case/", {"category": category.pk, "title": ""})

    suggestion.refresh_from_db()
    case = Case.objects.get()
    assert suggestion.case == case and suggestion.answer == "已转物业，下周更换"
    assert (case.source, case.title, case.location_unit) == ("volunteer", "更换节能灯", grid)
    page = en_client.get(suggestion.get_absolute_url()).content.decode()
    assert case.code in page


def test_the_case_from_a_suggestion_shows_where_it_came_from(en_client, street, community, grid):
    dispatcher = f.staff(street, Role.DISPATCHER)
    suggestion = services.submit_suggestion(volunteer=VolunteerFactory(unit=grid), title="加装扶手", text="老人多",
                                            by=f.staff(community, Role.DIRECTOR))
    case = services.suggestion_to_case(suggestion=suggestion, category=CategoryFactory(), by=dispatcher)
    en_client.force_login(dispatcher)

    page = en_client.get(case.get_absolute_url()).content.decode()

    assert "came from a volunteer" in page and suggestion.get_absolute_url() in page


def test_buildings_without_a_party_member_are_listed_and_assigned(logged_in, director, grid, building):
    other = f.BuildingFactory(unit=grid, name="星城二里40号楼")
    member = VolunteerFactory(unit=grid, party_member=True, name="甘起荣")
    services.assign_building(building=other, volunteer=member, by=director)
    page = logged_in.get("/volunteers/buildings/")
    assert page.context["without"] == 1
    assert [b.name for b in page.context["page"].object_list][0] == building.name

    logged_in.post("/volunteers/buildings/assign/", {"building": building.pk, "volunteer": member.pk})

    assert BuildingAssignment.objects.filter(building=building, volunteer=member, ended_on=None).exists()
    assert logged_in.get("/volunteers/buildings/").context["without"] == 0


def test_a_case_in_a_building_shows_its_party_members(en_client, community, grid, building, director):
    from tests.cases.factories import CaseFactory

    member = VolunteerFactory(unit=grid, party_member=True, name="甘起荣", phone="13512340000")
    services.assign_building(building=building, volunteer=member, by=director)
    case = CaseFactory(location_unit=grid, unit=community, building=building)
    en_client.force_login(f.staff(community, Role.CASEWORKER))

    page = en_client.get(case.get_absolute_url()).content.decode()

    assert "甘起荣" in page and "135****0000" in page and "13512340000" not in page


def test_the_building_panel_is_registered_and_names_the_party_members(rf, building, director, grid):
    member = VolunteerFactory(unit=grid, party_member=True, name="甘起荣")
    services.assign_building(building=building, volunteer=member, by=director)
    request = rf.get("/")
    request.user = director

    html = "".join(panels.render("building_detail", request, building))

    assert "甘起荣" in html


def test_totals_by_unit_and_team_kind(en_client, street, community, sibling_community):
    director = f.staff(street, Role.DIRECTOR)
    mine, theirs = TeamFactory(unit=community, kind="patrol"), TeamFactory(unit=sibling_community, kind="party_365")
    for team, minutes in ((mine, 60), (theirs, 90)):
        volunteer = VolunteerFactory(unit=team.unit, party_member=True)
        services.add_member(team=team, volunteer=volunteer, by=director)
        start = timezone.now() - timedelta(hours=3)
        activity = ActivityFactory(unit=team.unit, team=team, starts_at=start, ends_at=start + timedelta(minutes=minutes))
        signup = services.sign_up(activity=activity, volunteer=volunteer, by=director)
        services.record_attendance(signup=signup, by=director, checked_in_at=start, checked_out_at=activity.ends_at)
    en_client.force_login(director)

    response = en_client.get(f"/volunteers/totals/?unit={street.code}")

    rows = {child.code: row for child, row in response.context["children"]}
    assert (rows["xc-3"].minutes, rows["xc-3"].times, rows["xc-3"].teams) == (60, 1, 1)
    assert (rows["xc-7"].minutes, rows["xc-7"].party_members) == (90, 1)
    kinds = {kind: row for kind, _label, row in response.context["kinds"]}
    assert (kinds["patrol"].minutes, kinds["party_365"].minutes, kinds["party_365"].members) == (60, 90, 1)
    assert response.context["overall"].minutes == 150


def test_the_workspace_panel_leads_a_volunteer_to_their_page(rf, community, director):
    account = f.UserFactory()
    VolunteerFactory(unit=community, user=account, name="杜维臣")
    request = rf.get("/")
    request.user = account

    html = "".join(panels.render("workspace", request, None))

    assert "/volunteers/me/" in html and "杜维臣" in html
    request.user = director
    assert panels.render("workspace", request, None) == []


def test_the_building_page_names_its_party_members(en_client, building, director, grid):
    member = VolunteerFactory(unit=grid, party_member=True, name="甘起荣", phone="13512340000")
    services.assign_building(building=building, volunteer=member, by=director)
    en_client.force_login(director)

    page = en_client.get(building.get_absolute_url()).content.decode()

    assert "Responsible party members" in page and "甘起荣" in page and "135****0000" in page


def test_a_volunteer_signing_in_finds_their_page_on_the_workspace(en_client, community):
    account = f.UserFactory()
    VolunteerFactory(unit=community, user=account)
    en_client.force_login(account)

    assert "/volunteers/me/" in en_client.get("/workspace/").content.decode()
