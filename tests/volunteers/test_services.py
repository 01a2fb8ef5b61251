"""The corps' services: joining, seats, attendance and the ledger, tasks, 党员包楼, suggestions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import services as cases_services
from cases.models import Case, TimelineEvent
from communities.models import Role
from tests import factories as f
from tests.cases.factories import CategoryFactory, new_case
from volunteers import selectors, services
from volunteers.models import Activity, HoursEntry, SignUp, Suggestion, Volunteer, VolunteerEvent
from volunteers.services import IllegalTransition

from .factories import ActivityFactory, SkillFactory, TeamFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


def _past_activity(unit, **fields):
    start = timezone.now() - timedelta(hours=5)
    return ActivityFactory(unit=unit, starts_at=start, ends_at=start + timedelta(hours=3), **fields)


def test_registered_volunteer_waits_for_approval_then_is_active(community, director):
    volunteer = services.register(name="杜维臣", phone="138 1234 5678", unit=community, party_member=True)

    assert volunteer.status == Volunteer.Status.APPLIED and volunteer.phone == "13812345678"
    services.approve(volunteer=volunteer, by=director)
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.ACTIVE and volunteer.decided_by == director
    assert list(volunteer.events.values_list("action", flat=True)) == ["applied", "approved"]


def test_an_application_is_decided_once(community, director):
    volunteer = services.register(name="杜维臣", phone="13812345678", unit=community)
    stale = Volunteer.objects.get(pk=volunteer.pk)
    services.approve(volunteer=volunteer, by=director)

    with pytest.raises(IllegalTransition):
        services.decline(volunteer=stale, by=director, reason="重复")
    assert Volunteer.objects.get(pk=volunteer.pk).status == Volunteer.Status.ACTIVE


def test_the_same_phone_cannot_register_twice(community):
    services.register(name="杜维臣", phone="13812345678", unit=community)
    with pytest.raises(ValidationError) as error:
        services.register(name="老杜", phone="+86 138-1234-5678", unit=community)
    assert "phone" in error.value.message_dict


def test_a_sibling_director_cannot_approve(community, sibling_director):
    volunteer = services.register(name="杜维臣", phone="13812345678", unit=community)
    with pytest.raises(IllegalTransition):
        services.approve(volunteer=volunteer, by=sibling_director)


def test_full_activity_refuses_the_next_sign_up(community, director):
    activity = ActivityFactory(unit=community, capacity=2)
    volunteers = VolunteerFactory.create_batch(3, unit=community)
    for volunteer in volunteers[:2]:
        services.sign_up(activity=activity, volunteer=volunteer, by=director)

    with pytest.raises(IllegalTransition) as error:
        services.sign_up(activity=activity, volunteer=volunteers[2], by=director)

    assert "seats are taken" in str(error.value.message)
    assert Activity.objects.get(pk=activity.pk).seats_taken == 2


def test_a_cancelled_sign_up_frees_its_seat(community, director):
    activity = ActivityFactory(unit=community, capacity=1)
    first, second = VolunteerFactory.create_batch(2, unit=community)
    signup = services.sign_up(activity=activity, volunteer=first, by=director)
    services.cancel_sign_up(signup=signup, by=director)

    services.sign_up(activity=activity, volunteer=second, by=director)
    assert Activity.objects.get(pk=activity.pk).seats_taken == 1


def test_stale_check_outs_credit_once(community, director):
    activity = _past_activity(community)
    signup = services.sign_up(activity=activity, volunteer=VolunteerFactory(unit=community), by=director)
    services.check_in(signup=signup, by=director, at=activity.starts_at)
    stale = SignUp.objects.get(pk=signup.pk)
    services.check_out(signup=signup, by=director, at=activity.ends_at)

    with pytest.raises(IllegalTransition):
        services.check_out(signup=stale, by=director, at=activity.ends_at)
    assert HoursEntry.objects.filter(signup=signup).count() == 1


def test_a_volunteer_from_another_community_cannot_sign_up(community, sibling_community, director):
    activity = ActivityFactory(unit=community)
    outsider = VolunteerFactory(unit=sibling_community)
    with pytest.raises(ValidationError):
        services.sign_up(activity=activity, volunteer=outsider, by=f.staff(community.parent, Role.DIRECTOR))


def test_a_grid_activity_draws_on_the_whole_community(community, grid, sibling_grid, director):
    activity = ActivityFactory(unit=grid)
    neighbour = VolunteerFactory(unit=sibling_grid)
    assert services.sign_up(activity=activity, volunteer=neighbour, by=director).status == SignUp.Status.SIGNED_UP


def test_correction_appends_a_compensating_entry_and_never_edits(community, director):
    activity = _past_activity(community)
    volunteer = VolunteerFactory(unit=community)
    signup = services.sign_up(activity=activity, volunteer=volunteer, by=director)
    services.check_in(signup=signup, by=director, at=activity.starts_at)
    services.check_out(signup=signup, by=director, at=activity.starts_at + timedelta(minutes=150))
    credit = HoursEntry.objects.get(signup=signup)

    services.correct(entry=credit, by=director, minutes=120, reason="签到时间记错了")
    services.correct(entry=credit, by=director, minutes=0, reason="当天其实没来")

    credit.refresh_from_db()
    assert credit.minutes == 150
    totals = selectors.volunteer_totals(volunteer)
    assert (totals.minutes, totals.times) == (0, 0)
    assert list(HoursEntry.objects.filter(corrects=credit).order_by("pk").values_list("minutes", "times")) == [
        (-30, 0), (-120, -1)
    ]
    with pytest.raises(IllegalTransition):
        services.correct(entry=credit, by=director, minutes=60, reason="再改")


def test_the_ledger_refuses_edits_and_deletes(community, director):
    entry = services.credit_service(
        volunteer=VolunteerFactory(unit=community), by=director, minutes=60,
        served_on=timezone.localdate(), unit=community, description="上门修暖气",
    )
    entry.minutes = 600
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(ValueError):
        HoursEntry.objects.filter(pk=entry.pk).update(minutes=600)
    with pytest.raises(ValueError):
        HoursEntry.objects.filter(pk=entry.pk).delete()
    assert HoursEntry.objects.get(pk=entry.pk).minutes == 60


def test_moving_a_community_moves_its_ledger_and_roster(community, director, sibling_street):
    from communities import services as community_services

    volunteer = VolunteerFactory(unit=community)
    entry = services.credit_service(
        volunteer=volunteer, by=director, minutes=60, served_on=timezone.localdate(), unit=community,
        description="巡逻",
    )
    community_services.move_unit(unit=community, new_parent=sibling_street)
    community.refresh_from_db()

    assert HoursEntry.objects.get(pk=entry.pk).unit_path == community.path
    assert Volunteer.objects.get(pk=volunteer.pk).unit_path == community.path


def test_task_report_lands_on_the_case_timeline_and_credits_hours(community, grid, building, director):
    heating = SkillFactory(code="t-heating")
    worker = f.staff(community, Role.CASEWORKER)
    case = new_case(place=grid, building=building, category=CategoryFactory())
    case = cases_services.dispatch(case=case, to_unit=community, by=f.staff(community.parent, Role.DISPATCHER))
    volunteer = VolunteerFactory(unit=grid, skills=[heating])

    task = services.assign_task(case=case, volunteer=volunteer, description="帮忙看看暖气阀门", by=worker)
    services.report_task(task=task, report="阀门已修好，暖气热了", minutes=90, by=worker)

    actions = list(TimelineEvent.objects.filter(case=case).values_list("action", "note"))
    assert ("volunteer_task", "帮忙看看暖气阀门") in actions
    assert ("volunteer_report", "阀门已修好，暖气热了") in actions
    assert selectors.volunteer_totals(volunteer).minutes == 90


def test_suggestion_turns_into_a_linked_volunteer_case(community, grid):
    dispatcher = f.staff(community, Role.DISPATCHER)
    volunteer = VolunteerFactory(unit=grid, name="杜维臣")
    suggestion = services.submit_suggestion(
        volunteer=volunteer, title="楼道加装扶手", text="41号楼老人多，楼道需要扶手", by=dispatcher
    )

    case = services.suggestion_to_case(suggestion=suggestion, category=CategoryFactory(), by=dispatcher)

    suggestion.refresh_from_db()
    assert suggestion.case == case and suggestion.status == Suggestion.Status.CASE
    assert (case.source, case.kind, case.resident_name) == (Case.Source.VOLUNTEER, Case.Kind.SUGGESTION, "杜维臣")
    assert TimelineEvent.objects.filter(case=case, action="from_suggestion").exists()
    with pytest.raises(IllegalTransition):
        services.suggestion_to_case(suggestion=suggestion, category=CategoryFactory(), by=dispatcher)


def test_only_party_members_answer_for_a_building(community, building, director):
    with pytest.raises(ValidationError):
        services.assign_building(building=building, volunteer=VolunteerFactory(unit=community), by=director)
    member = VolunteerFactory(unit=community, party_member=True)
    services.assign_building(building=building, volunteer=member, by=director)
    assert [a.volunteer for a in selectors.party_members_of(building)] == [member]
    assert VolunteerEvent.objects.filter(volunteer=member, action="building_assigned").exists()


def test_team_member_must_live_in_the_teams_area(community, sibling_community, director):
    team = TeamFactory(unit=community)
    with pytest.raises(ValidationError):
        services.add_member(team=team, volunteer=VolunteerFactory(unit=sibling_community), by=director)


def test_staff_cannot_put_someone_in_a_team_above_their_post(community, street, director):
    street_team = TeamFactory(unit=street)
    with pytest.raises(IllegalTransition):
        services.add_volunteer(by=director, name="甘起荣", phone="13612345678", unit=community, teams=[street_team])
    assert not Volunteer.objects.filter(phone="13612345678").exists()
