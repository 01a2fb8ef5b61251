"""Who sees which volunteers: another community's roster and people are 404; phones stay masked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.models import Role
from tests import factories as f
from volunteers import services
from volunteers.models import VolunteerEvent

from .factories import ActivityFactory, TeamFactory, VolunteerFactory

pytestmark = pytest.mark.django_db
FULL, MASKED = "13812345678", "138****5678"


@pytest.fixture
def theirs(sibling_community, sibling_building):
    director = f.staff(sibling_community, Role.DIRECTOR)
    volunteer = VolunteerFactory(unit=sibling_community, name="七社区志愿者", phone=FULL, party_member=True)
    team = TeamFactory(unit=sibling_community)
    services.add_member(team=team, volunteer=volunteer, by=director)
    start = timezone.now() - timedelta(hours=3)
    activity = ActivityFactory(unit=sibling_community, starts_at=start, ends_at=start + timedelta(hours=1))
    signup = services.sign_up(activity=activity, volunteer=volunteer, by=director)
    services.record_attendance(signup=signup, by=director, checked_in_at=activity.starts_at, checked_out_at=activity.ends_at)
    suggestion = services.submit_suggestion(volunteer=volunteer, title="七社区的建议XYZ", text="内容", by=director)
    assignment = services.assign_building(building=sibling_building, volunteer=volunteer, by=director)
    return {"volunteer": volunteer, "team": team, "activity": activity, "signup": signup,
            "suggestion": suggestion, "assignment": assignment, "entry": signup.hours.get()}


def test_another_communitys_volunteer_and_everything_of_theirs_is_404(client, director, theirs, sibling_community):
    client.force_login(director)
    v = theirs["volunteer"]
    for url in [
        f"/volunteers/{v.pk}/", f"/volunteers/{v.pk}/edit/", f"/volunteers/teams/{theirs['team'].pk}/",
        f"/volunteers/activities/{theirs['activity'].pk}/", f"/volunteers/suggestions/{theirs['suggestion'].pk}/",
        f"/volunteers/hours/?unit={sibling_community.code}", f"/volunteers/totals/?unit={sibling_community.code}",
        f"/volunteers/buildings/?unit={sibling_community.code}", f"/volunteers/activities/?unit={sibling_community.code}",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        f"/volunteers/{v.pk}/approve/", f"/volunteers/{v.pk}/status/", f"/volunteers/{v.pk}/phone/",
        f"/volunteers/sign-ups/{theirs['signup'].pk}/cancel/", f"/volunteers/hours/{theirs['entry'].pk}/correct/",
        f"/volunteers/buildings/assignments/{theirs['assignment'].pk}/end/",
        f"/volunteers/suggestions/{theirs['suggestion'].pk}/answer/",
    ]:
        assert client.post(url, {"to": "paused", "reason": "x", "minutes": "0", "answer": "x"}).status_code == 404, url


def test_another_communitys_roster_lists_none_of_their_people(client, director, theirs, community):
    mine = VolunteerFactory(unit=community, name="三社区志愿者")
    client.force_login(director)

    roster = client.get("/volunteers/").content.decode()
    teams = client.get("/volunteers/teams/").content.decode()
    suggestions = client.get("/volunteers/suggestions/?status=all").content.decode()

    assert mine.name in roster and theirs["volunteer"].name not in roster
    assert theirs["team"].name not in teams
    assert "七社区的建议XYZ" not in suggestions


def test_the_street_sees_both_communities(client, street, community, theirs):
    VolunteerFactory(unit=community, name="三社区志愿者")
    client.force_login(f.staff(street, Role.DIRECTOR))

    roster = client.get("/volunteers/").content.decode()

    assert "三社区志愿者" in roster and "七社区志愿者" in roster
    assert client.get(f"/volunteers/{theirs['volunteer'].pk}/").status_code == 200


def test_phones_are_masked_on_every_page(client, street, theirs):
    client.force_login(f.staff(street, Role.DIRECTOR))
    v = theirs["volunteer"]
    for url in ["/volunteers/", f"/volunteers/{v.pk}/", f"/volunteers/teams/{theirs['team'].pk}/",
                f"/volunteers/activities/{theirs['activity'].pk}/", "/volunteers/buildings/?unit=xc-7"]:
        page = client.get(url).content.decode()
        assert MASKED in page and FULL not in page, url


def test_revealing_a_phone_shows_it_once_and_logs_it(client, street, theirs):
    director = f.staff(street, Role.DIRECTOR)
    client.force_login(director)
    v = theirs["volunteer"]

    page = client.post(f"/volunteers/{v.pk}/phone/").content.decode()

    assert FULL in page
    assert VolunteerEvent.objects.filter(volunteer=v, action="phone_revealed", actor=director).exists()
    assert FULL not in client.get(f"/volunteers/{v.pk}/").content.decode()


def test_a_supervisor_reads_but_cannot_reveal_or_approve(client, sibling_community, theirs):
    client.force_login(f.staff(sibling_community, Role.SUPERVISOR))
    v = theirs["volunteer"]

    assert client.get(f"/volunteers/{v.pk}/").status_code == 200
    assert client.post(f"/volunteers/{v.pk}/phone/").status_code == 403
    assert client.post(f"/volunteers/{v.pk}/approve/").status_code == 403
    assert client.get("/volunteers/new/").status_code == 403


def test_a_department_liaison_has_no_volunteer_pages(client, area):
    client.force_login(f.staff(area, Role.DEPARTMENT_LIAISON))
    assert client.get("/volunteers/").status_code == 403


def test_logged_out_visitors_go_to_the_login_page(client):
    response = client.get("/volunteers/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_admin_lists_only_the_subtrees_volunteers_and_masks_phones(client, community, theirs):
    VolunteerFactory(unit=community, name="三社区志愿者", phone="13900001111")
    client.force_login(f.staff(community, Role.ADMINISTRATOR))

    page = client.get("/admin/volunteers/volunteer/").content.decode()

    assert "三社区志愿者" in page and "七社区志愿者" not in page
    assert "139****1111" in page and "13900001111" not in page
    assert client.get(f"/admin/volunteers/volunteer/{theirs['volunteer'].pk}/change/").status_code == 404


def test_the_admin_never_edits_the_ledger(client, street, theirs):
    client.force_login(f.staff(street, Role.ADMINISTRATOR))
    entry = theirs["entry"]

    assert client.get("/admin/volunteers/hoursentry/").status_code == 200
    page = client.get(f"/admin/volunteers/hoursentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="minutes"' not in page.content
    assert client.post(f"/admin/volunteers/hoursentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
