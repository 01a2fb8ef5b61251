"""Retention: `anonymise_volunteers` removes the personal data of volunteers who are gone and quiet,
keeps every figure (hours, person-times, counts per unit), never touches an active volunteer; the
person can come back with their real number; batched, idempotent, with a dry run."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import Attachment, Case, TimelineEvent
from communities.models import Role
from communities.services import assign_post
from governance.models import CareNeed, Visit
from tests import factories as f
from tests.api.conftest import client_for
from tests.cases.factories import CategoryFactory, new_case, walk
from volunteers import imports, retention, selectors, services
from volunteers.filters import RosterFilter
from volunteers.models import (
    Activity, BuildingAssignment, HoursEntry, Membership, SignUp, Suggestion, Task, Volunteer, VolunteerEvent,
)
from volunteers.selectors import Period

from .factories import ActivityFactory, SkillFactory, TeamFactory, VolunteerFactory
from .test_import import csv_file

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - timedelta(days=4 * 365)
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def three_years(settings):
    settings.VOLUNTEER_DATA_RETENTION_DAYS = 3 * 365


def run(*args: str) -> str:
    out = StringIO()
    call_command("anonymise_volunteers", *args, stdout=out)
    return out.getvalue()


def age_everything(when=LONG_AGO) -> None:
    """Move every date of the corps (and home visits) to ``when``: all of it happened long ago."""
    day = timezone.localdate(when)
    Volunteer.objects.update(created_at=when, updated_at=when)
    VolunteerEvent.objects.update(at=when)
    # The ledger refuses changes on purpose; a test may move its dates through the plain QuerySet.
    QuerySet.update(HoursEntry.objects.all(), served_on=day, created_at=when)
    Activity.objects.update(starts_at=when, ends_at=when + timedelta(hours=3))
    SignUp.objects.update(signed_up_at=when)
    SignUp.objects.filter(cancelled_at__isnull=False).update(cancelled_at=when)
    Task.objects.update(assigned_at=when)
    Task.objects.filter(reported_at__isnull=False).update(reported_at=when)
    Membership.objects.update(joined_on=day)
    BuildingAssignment.objects.update(since=day)
    BuildingAssignment.objects.filter(ended_on__isnull=False).update(ended_on=day)
    Suggestion.objects.update(submitted_at=when)
    Suggestion.objects.filter(answered_at__isnull=False).update(answered_at=when)
    Visit.objects.update(due_on=day)
    Visit.objects.filter(visited_on__isnull=False).update(visited_on=day)
    from_suggestions = Case.objects.filter(suggestion__isnull=False)
    from_suggestions.filter(status=Case.Status.CLOSED).update(closed_at=when, updated_at=when)
    from_suggestions.filter(status=Case.Status.MERGED).update(updated_at=when)


def past_activity(unit, **fields) -> Activity:
    start = timezone.now() - timedelta(hours=5)
    return ActivityFactory(unit=unit, starts_at=start, ends_at=start + timedelta(hours=3), **fields)


@pytest.fixture
def worker(community):
    """Hands tasks to volunteers, records suggestions and turns them into cases."""
    user = f.staff(community, Role.CASEWORKER)
    assign_post(user=user, unit=community.parent, role=Role.DISPATCHER)  # and dispatches at the street
    return get_user_model().objects.get(pk=user.pk)


def a_whole_life(
    community, grid, building, director, worker, *, name="杜维臣", phone=PHONE, suggestion_case_to: str | None = "closed"
) -> Volunteer:
    """A volunteer through the real services: registered, approved, in a team, at an activity, extra
    service, a task from a case, a suggestion turned into a case (taken to ``suggestion_case_to``), a
    building, a login, a home visit; left."""
    volunteer = services.register(
        name=name, phone=phone, unit=grid, building=building, party_member=True, party_since=LONG_AGO.date(),
        employer_party_org="燕山石化党委", reported_on=LONG_AGO.date(), availability="周末上午",
        note="住41号楼302，腿脚不好", skills=[SkillFactory(code="t-repairs", name="维修")],
    )
    volunteer = services.approve(volunteer=volunteer, by=director)
    team = TeamFactory(unit=community)
    services.add_member(team=team, volunteer=volunteer, by=director)
    activity = past_activity(community, team=team)
    signup = services.sign_up(activity=activity, volunteer=volunteer, by=director)
    start = activity.starts_at
    services.record_attendance(signup=signup, by=director, checked_in_at=start, checked_out_at=start + timedelta(hours=2))
    entry = services.credit_service(
        volunteer=volunteer, by=director, minutes=60, served_on=timezone.localdate(), unit=community,
        description="给302王阿姨理发",
    )
    services.correct(entry=entry, by=director, minutes=45, reason=f"{name}说只理了45分钟")
    case = case_services.dispatch(case=new_case(place=grid, building=building), to_unit=community, by=worker)
    task = services.assign_task(case=case, volunteer=volunteer, description=f"请{name}帮忙换灯泡", by=worker)
    services.report_task(task=task, report=f"已换好，有事打我电话{phone}", minutes=30, by=worker)
    suggestion = services.submit_suggestion(volunteer=volunteer, title="楼道加装扶手", text=f"我是{name}，建议装扶手", by=worker)
    from_suggestion = services.suggestion_to_case(suggestion=suggestion, category=CategoryFactory(), by=worker)
    if suggestion_case_to:
        finish(from_suggestion, suggestion_case_to, worker=worker, community=community)
    services.answer_suggestion(suggestion=suggestion, answer=f"{name}您好，已立项", by=worker)
    assignment = services.assign_building(building=building, volunteer=volunteer, by=director, note=f"{name}负责5单元")
    services.end_assignment(assignment=assignment, by=director)
    login = f.UserFactory(username=phone, first_name=name, email="du@example.cn")
    services.link_login(volunteer=volunteer, username=login.username, by=director)
    household = f.HouseholdFactory(stairwell=f.StairwellFactory(building=building), room="302")
    need = CareNeed.objects.create(household=household, kind=CareNeed.Kind.ELDERLY_ALONE, created_by=director)
    Visit.objects.create(need=need, due_on=timezone.localdate(), volunteer=volunteer,
                         visited_on=timezone.localdate(), visitor_name=name, outcome=Visit.Outcome.ALL_WELL)
    services.remove_member(team=team, volunteer=volunteer, by=director)
    services.add_member(team=team, volunteer=volunteer, by=director)
    return services.set_status(volunteer=volunteer, to=Volunteer.Status.LEFT, by=director, note=f"{name}搬去女儿家了")


@pytest.fixture
def leaver(community, grid, building, director, worker) -> Volunteer:
    volunteer = a_whole_life(community, grid, building, director, worker)
    age_everything()
    return Volunteer.objects.get(pk=volunteer.pk)


@pytest.fixture
def suggester(community, grid, building, director, worker) -> Volunteer:
    """A leaver quiet for years but for the case made from their suggestion, still open."""
    volunteer = a_whole_life(community, grid, building, director, worker, suggestion_case_to=None)
    age_everything()
    return Volunteer.objects.get(pk=volunteer.pk)


# --- what goes, what stays ----------------------------------------------------------------------


def test_a_quiet_leaver_loses_every_personal_detail(leaver, community):
    facts = Volunteer.objects.filter(pk=leaver.pk).values(
        "unit", "unit_path", "status", "source", "party_member", "applied_at", "decided_at", "created_at",
    ).get()
    assert run() == (
        f"1 volunteers inactive since before {retention.cutoff():%Y-%m-%d} (1095 days) anonymised; "
        "1 login accounts closed.\n"
    )
    volunteer = Volunteer.objects.get(pk=leaver.pk)
    assert (volunteer.name, volunteer.phone) == ("", f"anon#{volunteer.pk}#")
    assert (volunteer.building, volunteer.party_since, volunteer.employer_party_org, volunteer.reported_on) == (None, None, "", None)
    assert (volunteer.availability, volunteer.note, volunteer.user) == ("", "", None)
    assert volunteer.is_anonymised and volunteer.masked_phone == ""
    assert Volunteer.objects.filter(pk=leaver.pk).values(*facts).get() == facts
    assert list(volunteer.skills.values_list("code", flat=True)) == ["t-repairs"]


def test_the_related_free_text_goes_and_the_rows_stay(leaver):
    counts = _row_counts(leaver)
    run()
    assert _row_counts(leaver) == counts
    assert set(VolunteerEvent.objects.filter(volunteer=leaver).values_list("note", flat=True)) == {""}
    assert set(BuildingAssignment.objects.filter(volunteer=leaver).values_list("note", flat=True)) == {""}
    assert set(Task.objects.filter(volunteer=leaver).values_list("description", "report")) == {("", "")}
    assert set(Suggestion.objects.filter(volunteer=leaver).values_list("title", "text", "answer")) == {("楼道加装扶手", "", "")}
    descriptions = dict(HoursEntry.objects.filter(volunteer=leaver).values_list("kind", "description"))
    assert descriptions["service"] == descriptions["correction"] == ""
    assert descriptions["activity"] == Activity.objects.get().title  # a copy of the activity's title
    assert set(Visit.objects.filter(volunteer=leaver).values_list("visitor_name", flat=True)) == {""}


def _row_counts(volunteer: Volunteer) -> dict:
    return {
        model.__name__: model.objects.filter(volunteer=volunteer).count()
        for model in (VolunteerEvent, HoursEntry, SignUp, Task, Membership, BuildingAssignment, Suggestion, Visit)
    }


def test_the_volunteers_name_leaves_the_case_timelines_and_the_cases_stay(leaver):
    helped = Case.objects.filter(pk__in=Task.objects.filter(volunteer=leaver).values("case"))
    suggested = Case.objects.filter(suggestion__volunteer=leaver)  # anonymised with them: they were its caller
    events = TimelineEvent.objects.filter(case__in=helped | suggested, action__in=[*retention.TASK_ACTIONS, "from_suggestion"])
    assert events.count() == 3 and all(event.data["volunteer"] == "杜维臣" for event in events)
    others = TimelineEvent.objects.exclude(pk__in=events.values("pk")).exclude(case__in=suggested).order_by("pk")
    before = list(others.values())
    run()
    for event in events.all():
        assert "volunteer" not in event.data and event.actor_label == ""
        assert {"task", "suggestion"} & set(event.data) and event.note == ""
    assert list(others.values()) == before  # the resident's case they helped with keeps its history


def finish(case: Case, how: str, *, worker, community) -> Case:
    """Take ``case`` through the real services to ``how``: a status of ``STEPS``, or "merged" (into a
    new case of its own, whose caller has the same phone)."""
    if how == "merged":
        lead = case_services.dispatch(case=new_case(place=community, resident_phone=PHONE), to_unit=community, by=worker)
        return case_services.merge(case=case, into=lead, by=worker)
    return walk(case, to=how, dispatcher=worker, handler=worker, unit=community)


def suggestion_case(volunteer: Volunteer) -> Case:
    return Case.objects.get(suggestion__volunteer=volunteer)


@pytest.mark.parametrize("how", ["closed", "merged"])
def test_a_case_made_from_their_suggestion_finished_long_ago_loses_them_as_its_caller(
    suggester, community, worker, how, media, django_capture_on_commit_callbacks
):
    leaver = suggester
    finish(suggestion_case(leaver), how, worker=worker, community=community)
    age_everything()
    case = suggestion_case(leaver)
    photo = Attachment(case=case, content_type="image/jpeg", size=3)
    photo.file.save("p.jpg", ContentFile(b"abc"))
    assert (case.resident_name, case.resident_phone, case.anonymised_at) == ("杜维臣", PHONE, None)
    facts = Case.objects.filter(pk=case.pk).values("status", "kind", "source", "unit", "title", "received_at", "closed_at").get()
    with django_capture_on_commit_callbacks(execute=True):
        run()
    case.refresh_from_db()
    assert (case.resident_name, case.resident_phone, case.description) == ("", "", "")
    assert case.anonymised_at == Volunteer.objects.get(pk=leaver.pk).anonymised_at  # the same batch
    assert Case.objects.filter(pk=case.pk).values(*facts).get() == facts
    assert set(TimelineEvent.objects.filter(case=case).values_list("note", flat=True)) == {""}
    assert not Attachment.objects.filter(case=case).exists() and not default_storage.exists(photo.file.name)
    assert Suggestion.objects.filter(volunteer=leaver, case=case).exists()  # still linked
    if case.merged_into_id:  # the lead case is a resident's own, whatever its phone
        assert Case.objects.filter(pk=case.merged_into_id, resident_phone=PHONE, anonymised_at=None).exists()


@pytest.mark.parametrize("how", [None, "accepted", "resolved", "closed", "merged"])
def test_a_case_made_from_their_suggestion_open_or_finished_lately_keeps_them(suggester, community, worker, how):
    """Its handler, or whoever makes the return visit, may still call them."""
    case = suggestion_case(suggester)
    if how:
        finish(case, how, worker=worker, community=community)
    assert run().startswith("0 volunteers")
    assert Volunteer.objects.get(pk=suggester.pk).name == "杜维臣"
    case = Case.objects.get(pk=case.pk)
    assert (case.resident_name, case.resident_phone, case.anonymised_at) == ("杜维臣", PHONE, None)
    assert case.description == "我是杜维臣，建议装扶手"


def test_other_cases_with_their_name_or_phone_are_not_theirs_to_anonymise(leaver, community, worker):
    task_case = Case.objects.get(volunteer_tasks__volunteer=leaver)  # a resident's case, same phone
    task_case = case_services.accept(case=task_case, by=worker)  # dispatched to the community already
    task_case = case_services.record_contact(case=task_case, by=worker, method="phone", summary="已电话联系")
    task_case = case_services.resolve(case=task_case, by=worker, result="已修好", nature="reasonable")
    case_services.close(case=task_case, by=worker)
    namesake = finish(new_case(place=community, resident_name="杜维臣", resident_phone=PHONE), "closed",
                      worker=worker, community=community)
    assert {task_case.resident_phone, namesake.resident_phone} == {PHONE}
    others = Case.objects.exclude(pk=suggestion_case(leaver).pk)
    before = list(others.order_by("pk").values())
    run()
    assert suggestion_case(leaver).anonymised_at is not None
    assert list(others.order_by("pk").values()) == before
    assert not others.filter(anonymised_at__isnull=False).exists()


def test_a_suggestion_case_anonymised_by_the_cases_retention_first_is_left_as_it_is(leaver, community, worker, settings):
    case = suggestion_case(leaver)
    settings.RESIDENT_DATA_RETENTION_DAYS = 30
    call_command("anonymise_closed_cases", stdout=StringIO())
    stamped = Case.objects.get(pk=case.pk).anonymised_at
    run()
    assert Volunteer.objects.get(pk=leaver.pk).is_anonymised
    assert Case.objects.get(pk=case.pk).anonymised_at == stamped


def test_the_volunteers_own_login_is_closed_and_nameless(leaver, client):
    login = leaver.user
    run()
    login.refresh_from_db()
    assert login.username == f"~anonymised-{login.pk}"
    assert (login.first_name, login.last_name, login.email, login.is_active) == ("", "", "", False)
    assert not login.has_usable_password()
    assert not client.login(username=PHONE, password="pw-for-tests-123")


def test_a_staff_account_linked_to_a_volunteer_is_only_unlinked(community, grid, building, director, worker):
    volunteer = a_whole_life(community, grid, building, director, worker)
    colleague = f.staff(grid, Role.GRID_WORKER)
    Volunteer.objects.filter(pk=volunteer.pk).update(user=colleague)
    age_everything()
    assert run().endswith("0 login accounts closed.\n")
    colleague.refresh_from_db()
    assert colleague.is_active and colleague.has_usable_password() and not colleague.username.startswith("~")
    assert Volunteer.objects.get(pk=volunteer.pk).user is None


# --- who is due -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["left", "declined", "paused", "applied"])
def test_every_inactive_status_is_due_once_quiet(community, status):
    volunteer = VolunteerFactory(unit=community, status=status, note="住302")
    age_everything()
    run()
    assert Volunteer.objects.get(pk=volunteer.pk).is_anonymised


def test_an_active_volunteer_is_never_touched_however_old(community):
    volunteer = VolunteerFactory(unit=community, status=Volunteer.Status.ACTIVE, name="甘起荣", phone="13911112222")
    age_everything()
    assert run().startswith("0 volunteers")
    assert Volunteer.objects.filter(pk=volunteer.pk, name="甘起荣", phone="13911112222", anonymised_at=None).exists()


def test_a_recent_leaver_is_kept(community, director):
    volunteer = VolunteerFactory(unit=community)
    age_everything()
    services.set_status(volunteer=volunteer, to=Volunteer.Status.LEFT, by=director)  # left today
    run()
    assert not Volunteer.objects.get(pk=volunteer.pk).is_anonymised


def _recent_history(volunteer, director, **_):
    VolunteerEvent.objects.create(volunteer=volunteer, at=timezone.now(), action="phone_revealed", actor=director)


def _recent_hours(volunteer, director, community, **_):
    QuerySet.update(HoursEntry.objects.filter(volunteer=volunteer), served_on=timezone.localdate())


def _hours_recorded_lately(volunteer, director, community, **_):
    QuerySet.update(HoursEntry.objects.filter(volunteer=volunteer), created_at=timezone.now())


def _signed_up_for_a_coming_activity(volunteer, **_):
    Activity.objects.filter(signups__volunteer=volunteer).update(
        starts_at=timezone.now() + timedelta(days=3), ends_at=timezone.now() + timedelta(days=3, hours=2)
    )


def _recent_task(volunteer, **_):
    Task.objects.filter(volunteer=volunteer).update(assigned_at=timezone.now())


def _joined_a_team_lately(volunteer, **_):
    Membership.objects.filter(volunteer=volunteer).update(joined_on=timezone.localdate())


def _still_answers_for_a_building(volunteer, **_):
    BuildingAssignment.objects.filter(volunteer=volunteer).update(ended_on=None)


def _recent_suggestion_answer(volunteer, **_):
    Suggestion.objects.filter(volunteer=volunteer).update(answered_at=timezone.now())


def _open_home_visit(volunteer, **_):
    Visit.objects.filter(volunteer=volunteer).update(visited_on=None)


def _changed_lately(volunteer, **_):
    Volunteer.objects.filter(pk=volunteer.pk).update(updated_at=timezone.now())


@pytest.mark.parametrize("happened", [
    _recent_history, _recent_hours, _hours_recorded_lately, _signed_up_for_a_coming_activity, _recent_task,
    _joined_a_team_lately, _still_answers_for_a_building, _recent_suggestion_answer, _open_home_visit, _changed_lately,
])
def test_anything_recent_keeps_the_volunteer(leaver, director, community, happened):
    happened(volunteer=leaver, director=director, community=community)
    assert run().startswith("0 volunteers")
    assert Volunteer.objects.get(pk=leaver.pk).name == "杜维臣"


# --- the run itself -------------------------------------------------------------------------------


def test_a_dry_run_counts_and_changes_nothing(leaver, community, worker):
    case = suggestion_case(leaver)
    assert run("--dry-run") == (
        f"1 volunteers inactive since before {retention.cutoff():%Y-%m-%d} (1095 days) would be anonymised; "
        "1 login accounts would be closed.\n"
    )
    assert Volunteer.objects.get(pk=leaver.pk).name == "杜维臣"
    assert Case.objects.filter(pk=case.pk, resident_name="杜维臣", resident_phone=PHONE, anonymised_at=None).exists()


def test_running_again_changes_nothing(leaver, community, worker):
    case = suggestion_case(leaver)
    run()
    stamped = Volunteer.objects.get(pk=leaver.pk).anonymised_at
    assert Case.objects.get(pk=case.pk).anonymised_at == stamped
    assert run().startswith("0 volunteers")
    assert Volunteer.objects.get(pk=leaver.pk).anonymised_at == stamped
    assert Case.objects.get(pk=case.pk).anonymised_at == stamped


def test_a_volunteer_brought_back_after_the_batch_was_chosen_is_left_alone(leaver, director):
    ids = next(retention.batches(retention.due_volunteers(before=retention.cutoff())))
    Volunteer.objects.filter(pk=leaver.pk).update(status=Volunteer.Status.ACTIVE)  # a colleague, a moment later
    assert retention.anonymise(ids).volunteers == 0
    assert Volunteer.objects.get(pk=leaver.pk).name == "杜维臣"


def test_batches_cover_everyone_due(community):
    volunteers = VolunteerFactory.create_batch(7, unit=community, status=Volunteer.Status.LEFT)
    age_everything()
    assert run("--batch-size", "3").startswith("7 volunteers")
    assert not Volunteer.objects.filter(pk__in=[v.pk for v in volunteers], anonymised_at=None).exists()


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(Exception, match="at least 1"):
        run("--batch-size", "0")


@pytest.mark.parametrize("size", [3, 30])
def test_a_batch_costs_the_same_queries_whatever_its_size(
    community, grid, building, director, worker, size, media, django_assert_max_num_queries
):
    for n in range(size):
        volunteer = VolunteerFactory(unit=grid, status=Volunteer.Status.ACTIVE, note="住302", party_member=True)
        _busy(volunteer, n, community=community, building=building, director=director, worker=worker)
        services.set_status(volunteer=volunteer, to=Volunteer.Status.LEFT, by=director, note="搬走了")
    age_everything()
    ids = list(Volunteer.objects.values_list("pk", flat=True))
    finished = Case.objects.filter(suggestion__isnull=False, status__in=Case.FINAL)
    assert finished.count() == size
    with django_assert_max_num_queries(23):  # 12 statements, 7 for the finished cases, two savepoints
        assert retention.anonymise(ids).volunteers == size
    assert Volunteer.objects.filter(name="", anonymised_at__isnull=False).count() == size
    assert finished.filter(resident_name="", resident_phone="", anonymised_at__isnull=False).count() == size
    assert not Attachment.objects.exists()


def _busy(volunteer, n, *, community, building, director, worker) -> None:
    """Hours, a task on a case, a suggestion made a case (closed with a photo or merged as n goes
    round), a login, a home visit, a building note."""
    services.credit_service(volunteer=volunteer, by=director, minutes=30 + n, served_on=timezone.localdate(),
                            unit=community, description="理发")
    case = case_services.dispatch(case=new_case(place=community), to_unit=community, by=worker)
    services.assign_task(case=case, volunteer=volunteer, description="看看", by=worker)
    suggestion = services.submit_suggestion(volunteer=volunteer, title="扶手", text="装扶手", by=worker)
    case = services.suggestion_to_case(suggestion=suggestion, category=CategoryFactory(), by=worker)
    if n % 2 == 0:
        finish(case, "closed", worker=worker, community=community)
        Attachment(case=case, content_type="image/jpeg", size=3).file.save("p.jpg", ContentFile(b"abc"))
    else:
        finish(case, "merged", worker=worker, community=community)
    services.link_login(volunteer=volunteer, username=f.UserFactory().username, by=director)
    assignment = services.assign_building(building=building, volunteer=volunteer, by=director, note="5单元")
    services.end_assignment(assignment=assignment, by=director)
    household = f.HouseholdFactory(stairwell=f.StairwellFactory(building=building), room=str(100 + n))
    need = CareNeed.objects.create(household=household, kind=CareNeed.Kind.ELDERLY_ALONE, created_by=director)
    Visit.objects.create(need=need, due_on=timezone.localdate(), volunteer=volunteer, visited_on=timezone.localdate(),
                         visitor_name="老杜", outcome=Visit.Outcome.ALL_WELL)


# --- the figures stay -----------------------------------------------------------------------------


def test_hours_person_times_and_counts_per_unit_are_the_same_after(community, sibling_community, grid, building, director, worker):
    for name, phone in (("杜维臣", "13812345678"), ("甘起荣", "13812345679")):
        a_whole_life(community, grid, building, director, worker, name=name, phone=phone)
    stayer = VolunteerFactory(unit=grid)
    services.credit_service(volunteer=stayer, by=director, minutes=120, served_on=timezone.localdate(), unit=community,
                            description="巡逻")
    age_everything()
    before = _figures(director, community.parent)
    assert run().startswith("2 volunteers")
    assert Case.objects.filter(anonymised_at__isnull=False).count() == 2  # made from their suggestions
    assert _figures(director, community.parent) == before


CASE_FACTS = ("unit", "kind", "source", "status", "received_at", "closed_at", "rated_resolved", "satisfaction")


def _figures(user, unit) -> dict:
    children = list(unit.children.order_by("path"))
    overall, by_child = selectors.totals_by_unit(user, unit, children, Period())
    return {
        "overall": overall, "by_child": by_child,
        "team_kinds": selectors.totals_by_team_kind(user, unit, Period()),
        "teams": selectors.totals_by_team(user, unit, Period()),
        "by_volunteer": sorted((r["volunteer_id"], r["minutes"], r["times"]) for r in selectors.totals_by_volunteer(user, unit, Period())),
        "activities": list(Activity.objects.values("unit_path").annotate(n=Count("pk"), seats=Count("signups")).order_by("unit_path")),
        "signups": list(SignUp.objects.values("activity__unit_path", "status").annotate(n=Count("pk")).order_by("activity__unit_path", "status")),
        "members": list(Membership.objects.values("team").annotate(n=Count("pk")).order_by("team")),
        "tasks": list(Task.objects.values("case__unit", "status").annotate(n=Count("pk")).order_by("case__unit", "status")),
        "suggestions": list(Suggestion.objects.values("unit_path", "status").annotate(n=Count("pk")).order_by("unit_path", "status")),
        "volunteers": list(Volunteer.objects.values("unit_path", "status", "party_member").annotate(n=Count("pk")).order_by("unit_path", "status", "party_member")),
        "cases": list(Case.objects.values(*CASE_FACTS).annotate(n=Count("pk")).order_by(*CASE_FACTS)),
    }


# --- coming back, and placeholders that never match ------------------------------------------------


def test_the_person_registers_again_with_their_real_number(leaver, community, director):
    run()
    again = services.register(name="杜维臣", phone=PHONE, unit=community)
    services.approve(volunteer=again, by=director)
    assert Volunteer.objects.filter(phone=PHONE).get() == again and again.pk != leaver.pk
    assert Volunteer.objects.get(pk=leaver.pk).is_anonymised


def test_a_placeholder_is_never_taken_for_a_number(leaver, community, director):
    run()
    placeholder = Volunteer.objects.get(pk=leaver.pk).phone
    with pytest.raises(ValidationError) as error:
        services.register(name="某人", phone=placeholder, unit=community)
    assert "phone" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.add_volunteer(by=director, name="某人", phone=placeholder, unit=community)


def test_an_import_takes_the_real_number_back_and_never_a_placeholder(leaver, community, director):
    run()
    placeholder = Volunteer.objects.get(pk=leaver.pk).phone
    result = imports.import_file(csv_file(f"某人,{placeholder},{community.code},,,,否,,,,,"), user=director)
    assert not result.committed and not result.skipped and result.errors[0].column == "手机号码"
    result = imports.import_file(csv_file(f"杜维臣,{PHONE},{community.code},,,,否,,,,,"), user=director)
    assert result.committed and not result.skipped
    assert Volunteer.objects.get(phone=PHONE).pk != leaver.pk


def test_the_roster_search_by_last_four_digits_never_finds_an_anonymised_volunteer(leaver, community, director):
    run()
    Volunteer.objects.filter(pk=leaver.pk).update(phone="anon#5678")  # even a placeholder ending in digits
    found = RosterFilter({"q": "5678", "status": "all"}, queryset=Volunteer.objects.all())
    assert not found.qs.exists()


# --- nothing more is recorded for an anonymised volunteer -----------------------------------------


def test_the_services_refuse_to_act_on_an_anonymised_volunteer(leaver, community, director):
    run()
    volunteer = Volunteer.objects.get(pk=leaver.pk)
    refused = [
        lambda: services.reveal_phone(volunteer=volunteer, by=director),
        lambda: services.update_volunteer(volunteer=volunteer, by=director, name="杜维臣", phone=PHONE),
        lambda: services.set_status(volunteer=volunteer, to=Volunteer.Status.ACTIVE, by=director),
        lambda: services.link_login(volunteer=volunteer, username=f.UserFactory().username, by=director),
        lambda: services.credit_service(volunteer=volunteer, by=director, minutes=30, served_on=timezone.localdate(),
                                        unit=community, description="巡逻"),
        lambda: services.add_member(team=TeamFactory(unit=community), volunteer=volunteer, by=director),
    ]
    for call in refused:
        with pytest.raises(services.IllegalTransition, match="retention period"):
            call()
    assert Volunteer.objects.filter(pk=volunteer.pk, name="", status=Volunteer.Status.LEFT).exists()
    assert not VolunteerEvent.objects.filter(volunteer=volunteer).exclude(note="").exists()
    assert not VolunteerEvent.objects.filter(volunteer=volunteer, at__gt=LONG_AGO).exists()


# --- pages and the admin --------------------------------------------------------------------------


def test_the_volunteer_page_says_anonymised_and_offers_no_number(client, leaver, director):
    run()
    client.force_login(director)
    page = client.get(leaver.get_absolute_url()).content.decode()  # in Chinese, the portal's language
    assert f"已匿名 #{leaver.pk}" in page and "保留期" in page
    assert "杜维臣" not in page and PHONE not in page and "138****5678" not in page and "anon#" not in page
    assert reverse("volunteers:reveal_phone", kwargs={"pk": leaver.pk}) not in page
    assert reverse("volunteers:edit", kwargs={"pk": leaver.pk}) not in page


def test_revealing_an_anonymised_volunteers_number_is_refused(client, leaver, director):
    run()
    client.force_login(director)
    response = client.post(reverse("volunteers:reveal_phone", kwargs={"pk": leaver.pk}))
    assert response.status_code == 403 and b"anon#" not in response.content
    assert not VolunteerEvent.objects.filter(volunteer=leaver, action="phone_revealed").exists()


def test_editing_an_anonymised_volunteer_is_refused(en_client, leaver, director):
    run()
    en_client.force_login(director)
    url = reverse("volunteers:edit", kwargs={"pk": leaver.pk})
    for response in (en_client.get(url, follow=True), en_client.post(url, {"name": "杜维臣", "phone": PHONE}, follow=True)):
        assert response.redirect_chain == [(leaver.get_absolute_url(), 302)]
        assert "retention period" in response.content.decode()
    assert Volunteer.objects.get(pk=leaver.pk).name == ""


def test_lists_name_an_anonymised_volunteer_as_such(client, leaver, community, director):
    run()
    client.force_login(director)
    roster = client.get(reverse("volunteers:roster"), {"status": "all"}).content.decode()
    assert f"已匿名 #{leaver.pk}" in roster and "杜维臣" not in roster
    hours = client.get(reverse("volunteers:hours"), {"unit": community.code, "start": ""}).content.decode()
    assert f"已匿名 #{leaver.pk}" in hours


def test_the_admin_shows_an_anonymised_volunteer_and_never_edits_it(client, leaver, community):
    run()
    client.force_login(f.staff(community, Role.ADMINISTRATOR))
    listing = client.get("/admin/volunteers/volunteer/", {"anonymised_at__isnull": "False"}).content.decode()
    assert f"已匿名 #{leaver.pk}" in listing and "已匿名</td>" in listing and "anon#" not in listing
    page = client.get(f"/admin/volunteers/volunteer/{leaver.pk}/change/")
    assert page.status_code == 200 and b'name="name"' not in page.content
    assert client.post(f"/admin/volunteers/volunteer/{leaver.pk}/change/", {"name": "杜维臣"}).status_code == 403
    assert Volunteer.objects.get(pk=leaver.pk).name == ""


def test_an_anonymised_application_no_longer_waits_nor_counts_as_current(client, community, director):
    waiting = VolunteerFactory(unit=community, status=Volunteer.Status.APPLIED, name="申请人甲")
    paused = VolunteerFactory(unit=community, status=Volunteer.Status.PAUSED, name="暂停者乙")
    age_everything()
    run()
    client.force_login(director)
    assert f"已匿名 #{waiting.pk}" not in client.get(reverse("volunteers:applications")).content.decode()
    current = client.get(reverse("volunteers:roster")).content.decode()
    assert f"已匿名 #{waiting.pk}" not in current and f"已匿名 #{paused.pk}" not in current
    with pytest.raises(services.IllegalTransition):
        services.approve(volunteer=Volunteer.objects.get(pk=waiting.pk), by=director)


def test_the_api_says_anonymised_and_its_case_timelines_no_longer_name_the_volunteer(leaver, community):
    run()
    client = client_for(f.staff(community.parent, Role.DIRECTOR))
    row = client.get(f"/api/v1/volunteers/{leaver.pk}/").json()
    assert (row["name"], row["phone"], row["employer_party_org"]) == ("", "", "") and row["anonymised_at"]
    for task in Task.objects.filter(volunteer=leaver).select_related("case"):
        timeline = client.get(f"/api/v1/cases/{task.case.code}/").json()["timeline"]
        assert {"volunteer_task", "volunteer_report"} <= {event["action"] for event in timeline}
        assert "杜维臣" not in str(timeline)
