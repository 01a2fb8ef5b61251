"""Deadline reminders and escalation: once each, never for finished cases, a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases import reminders
from cases.models import Case, Notification, TimelineEvent
from communities.models import Role
from tests.cases.factories import CaseFactory
from tests.factories import staff

pytestmark = pytest.mark.django_db
K = Notification.Kind


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def grid_worker(grid):
    return staff(grid, Role.GRID_WORKER)


@pytest.fixture
def caseworkers(grid):
    return [staff(grid, Role.CASEWORKER), staff(grid, Role.CASEWORKER)]


def due_case(unit, now, *, contact_in=None, resolve_in=timedelta(days=3), **fields) -> Case:
    fields.setdefault("status", Case.Status.ACCEPTED)
    return CaseFactory(
        location_unit=unit, unit=unit, received_at=now - timedelta(hours=3),
        contact_due_at=now + contact_in if contact_in is not None else now + timedelta(days=1),
        resolve_due_at=now + resolve_in, **fields,
    )


def notes(**filters):
    return sorted(Notification.objects.filter(**filters).values_list("user_id", "case_id", "kind"))


def test_contact_due_soon_reminds_the_handler_once(grid, grid_worker, caseworkers, now):
    case = due_case(grid, now, contact_in=timedelta(minutes=90), handler=grid_worker)

    run = reminders.send_reminders(now=now)
    assert (run.contact_due, run.notifications) == (1, 1)
    assert notes() == [(grid_worker.pk, case.pk, K.CONTACT_DUE)]
    assert case.code in Notification.objects.get().message

    run = reminders.send_reminders(now=now + timedelta(minutes=10))
    assert (run.contact_due, run.notifications) == (0, 0)
    assert Notification.objects.count() == 1


def test_without_a_handler_the_units_caseworkers_are_reminded(grid, caseworkers, now):
    case = due_case(grid, now, contact_in=timedelta(hours=1), status=Case.Status.DISPATCHED)
    reminders.send_reminders(now=now)
    assert notes() == sorted((user.pk, case.pk, K.CONTACT_DUE) for user in caseworkers)


def test_a_unit_without_caseworkers_reminds_its_dispatchers(community, now):
    dispatcher = staff(community, Role.DISPATCHER)
    case = due_case(community, now, contact_in=timedelta(hours=1), status=Case.Status.SUBMITTED)
    reminders.send_reminders(now=now)
    assert notes() == [(dispatcher.pk, case.pk, K.CONTACT_DUE)]


def test_resolution_due_soon_reminds_once(grid, grid_worker, now):
    case = due_case(grid, now, resolve_in=timedelta(minutes=100), handler=grid_worker,
                    contacted_at=now - timedelta(hours=1), status=Case.Status.IN_PROGRESS)
    assert reminders.send_reminders(now=now).resolve_due == 1
    assert reminders.send_reminders(now=now).resolve_due == 0
    assert notes() == [(grid_worker.pk, case.pk, K.RESOLVE_DUE)]


def test_nothing_is_sent_outside_the_two_hour_window_or_once_contacted(grid, grid_worker, now):
    due_case(grid, now, contact_in=timedelta(hours=3), handler=grid_worker)
    due_case(grid, now, contact_in=timedelta(hours=1), handler=grid_worker, contacted_at=now)
    assert reminders.send_reminders(now=now) == reminders.ReminderRun()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("status", [Case.Status.RESOLVED, Case.Status.CLOSED, Case.Status.MERGED])
def test_finished_cases_get_no_reminder_and_no_escalation(status, grid, community, grid_worker, now):
    staff(community, Role.DIRECTOR)
    due_case(grid, now, contact_in=timedelta(hours=1), handler=grid_worker, status=status)
    due_case(grid, now, resolve_in=-timedelta(hours=5), handler=grid_worker, status=status)
    assert reminders.send_reminders(now=now) == reminders.ReminderRun()
    assert not Notification.objects.exists()
    assert not TimelineEvent.objects.filter(action="escalated").exists()


def test_overdue_case_is_escalated_to_the_tier_above_once(grid, community, grid_worker, now):
    director, dispatcher = staff(community, Role.DIRECTOR), staff(community, Role.DISPATCHER)
    staff(community, Role.CASEWORKER)  # not told: escalation goes to those who direct and dispatch
    case = due_case(grid, now, resolve_in=-timedelta(hours=5), handler=grid_worker)

    run = reminders.send_reminders(now=now)
    assert (run.escalated, run.notifications) == (1, 2)
    assert notes() == sorted((user.pk, case.pk, K.OVERDUE) for user in (director, dispatcher))
    event = TimelineEvent.objects.get(case=case, action="escalated")
    assert not event.public and event.actor is None
    assert event.data["to_unit"] == community.code and community.name in event.note

    run = reminders.send_reminders(now=now + timedelta(hours=1))
    assert (run.escalated, run.notifications) == (0, 0)
    assert TimelineEvent.objects.filter(action="escalated").count() == 1
    assert Notification.objects.count() == 2


def test_case_at_the_top_of_the_tree_escalates_to_its_own_directors(area, now):
    director = staff(area, Role.DIRECTOR)
    case = due_case(area, now, resolve_in=-timedelta(minutes=1))
    reminders.send_reminders(now=now)
    assert notes() == [(director.pk, case.pk, K.OVERDUE)]


def test_escalation_is_recorded_even_when_nobody_is_above(grid, now):
    case = due_case(grid, now, resolve_in=-timedelta(minutes=1))
    assert reminders.send_reminders(now=now).escalated == 1
    assert TimelineEvent.objects.filter(case=case, action="escalated").exists()
    assert reminders.send_reminders(now=now).escalated == 0


def build(size, grid, handler, now):
    for n in range(size):
        if n % 3 == 0:
            due_case(grid, now, contact_in=timedelta(minutes=30 + n), handler=handler)
        elif n % 3 == 1:
            due_case(grid, now, contact_in=timedelta(minutes=30 + n), status=Case.Status.DISPATCHED)
        else:
            due_case(grid, now, resolve_in=-timedelta(hours=n), handler=handler)


@pytest.mark.parametrize("size", [5, 50])
def test_a_run_takes_a_fixed_number_of_queries(size, grid, community, grid_worker, caseworkers, now,
                                               django_assert_num_queries):
    staff(community, Role.DIRECTOR)
    build(size, grid, grid_worker, now)
    with django_assert_num_queries(11):
        run = reminders.send_reminders(now=now)
    assert run.contact_due == len(range(0, size, 3)) + len(range(1, size, 3))
    assert run.escalated == len(range(2, size, 3))


def test_send_reminders_command_reports_what_it_did(grid, grid_worker, capsys):
    due_case(grid, timezone.now(), contact_in=timedelta(hours=1), handler=grid_worker)
    call_command("send_reminders")
    assert "1 contact" in capsys.readouterr().out
    call_command("send_reminders")
    assert "0 contact" in capsys.readouterr().out
    assert Notification.objects.count() == 1
