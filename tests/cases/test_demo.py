"""The demo requests loaded by ``manage.py load_demo`` are real cases with real histories."""

from io import StringIO

import pytest
from django.core.management import call_command

from cases.demo import STORIES
from cases.models import Case, TimelineEvent


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())


def test_demo_requests_run_through_the_whole_lifecycle(demo):
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"submitted", "dispatched", "in_progress", "returned", "closed"} <= statuses
    elevator = Case.objects.get(title="41号楼5单元想加装电梯")
    assert elevator.satisfaction == Case.Satisfaction.SATISFIED
    assert list(elevator.events.values_list("action", flat=True))[:3] == ["submitted", "dispatched", "accepted"]


def test_demo_history_is_spread_over_past_weeks(demo):
    first, last = sorted(TimelineEvent.objects.values_list("at", flat=True))[:: TimelineEvent.objects.count() - 1]
    assert (last - first).days >= 30


def test_loading_the_demo_twice_adds_no_requests(demo):
    count = Case.objects.count()
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    assert Case.objects.count() == count >= len(STORIES)
