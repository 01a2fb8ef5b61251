"""A resident registers, the community approves, signs them up, checks them in and out:
hours and person-times come out right on every page that counts them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from volunteers.models import HoursEntry, SignUp, Volunteer

from .factories import ActivityFactory, SkillFactory, TeamFactory

pytestmark = pytest.mark.django_db


def _join(client, street, community, building, **extra):
    data = {
        "name": "杜维臣", "phone": "138 1234 5678", "street": str(street.pk), "community": str(community.pk),
        "building": str(building.pk), "skills": [str(SkillFactory(code="heating", name="修暖气").pk)],
        "availability": "工作日上午", "party_member": "on", "party_since": "1988-07-01", "consent": "on", "website": "",
    }
    data.update(extra)
    return client.post("/volunteers/join/", data)


def test_registration_approval_sign_up_attendance_and_totals(en_client, street, community, grid, building, director):
    client = en_client
    assert _join(client, street, community, building).status_code == 302
    volunteer = Volunteer.objects.get(phone="13812345678")
    assert (volunteer.status, volunteer.unit, volunteer.building) == (Volunteer.Status.APPLIED, grid, building)
    assert [s.code for s in volunteer.skills.all()] == ["heating"]

    client.force_login(director)
    assert "杜维臣" in client.get("/volunteers/applications/").content.decode()
    client.post(f"/volunteers/{volunteer.pk}/approve/")
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.ACTIVE

    team = TeamFactory(unit=community, name="老工友志愿者服务队")
    start = timezone.now() - timedelta(hours=3)
    patrol = ActivityFactory(unit=community, team=team, title="夜间巡逻", starts_at=start, ends_at=start + timedelta(hours=3), capacity=5)
    assert client.post(f"/volunteers/activities/{patrol.pk}/sign-up/", {"volunteer": volunteer.pk}).status_code == 302
    signup = SignUp.objects.get(activity=patrol, volunteer=volunteer)
    client.post(f"/volunteers/sign-ups/{signup.pk}/attendance/", {
        "checked_in_at": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
        "checked_out_at": timezone.localtime(start + timedelta(minutes=150)).strftime("%Y-%m-%dT%H:%M"),
    })
    signup.refresh_from_db()
    assert signup.status == SignUp.Status.COMPLETED

    credit = HoursEntry.objects.get(signup=signup)
    assert (credit.minutes, credit.times, credit.team, credit.unit) == (150, 1, team, community)
    roster = client.get("/volunteers/").content.decode()
    assert "2.5" in roster
    hours_page = client.get(f"/volunteers/hours/?unit={community.code}").content.decode()
    assert "老工友志愿者服务队" in hours_page and "2.5" in hours_page
    totals = client.get(f"/volunteers/{volunteer.pk}/").context["totals"]
    assert (totals.minutes, totals.times) == (150, 1)


def test_check_in_now_and_out_now_credits_the_minutes_between(en_client, community, director):
    from volunteers import services
    from .factories import VolunteerFactory

    start = timezone.now() - timedelta(minutes=30)
    activity = ActivityFactory(unit=community, starts_at=start, ends_at=start + timedelta(hours=2))
    volunteer = VolunteerFactory(unit=community)
    signup = services.sign_up(activity=activity, volunteer=volunteer, by=director)
    en_client.force_login(director)

    en_client.post(f"/volunteers/sign-ups/{signup.pk}/check-in/")
    SignUp.objects.filter(pk=signup.pk).update(checked_in_at=timezone.now() - timedelta(minutes=45))
    en_client.post(f"/volunteers/sign-ups/{signup.pk}/check-out/")

    assert HoursEntry.objects.get(signup=signup).minutes == 45


def test_person_times_count_people_not_hours(community, director):
    from volunteers import selectors, services
    from .factories import VolunteerFactory

    start = timezone.now() - timedelta(hours=5)
    first = ActivityFactory(unit=community, starts_at=start, ends_at=start + timedelta(hours=1))
    second = ActivityFactory(unit=community, starts_at=start + timedelta(hours=2), ends_at=start + timedelta(hours=4))
    people = VolunteerFactory.create_batch(3, unit=community)
    for activity, attending in ((first, people), (second, people[:2])):
        for volunteer in attending:
            signup = services.sign_up(activity=activity, volunteer=volunteer, by=director)
            services.record_attendance(signup=signup, by=director, checked_in_at=activity.starts_at, checked_out_at=activity.ends_at)

    overall, _rows = selectors.totals_by_unit(director, community, [], selectors.Period())
    assert (overall.times, overall.minutes) == (5, 3 * 60 + 2 * 120)
    assert overall.volunteers == 3
