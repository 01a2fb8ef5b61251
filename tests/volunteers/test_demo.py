"""The demo corps: teams, people, attendance, 党员包楼, suggestions and a task, loaded twice without change."""

import pytest

from cases import demo as case_demo
from cases.models import TimelineEvent
from communities import demo as community_demo
from volunteers import demo, selectors
from volunteers.models import Activity, BuildingAssignment, HoursEntry, Suggestion, Task, Team, Volunteer


@pytest.fixture
def loaded(db):
    community_demo.load()
    case_demo.load()
    return demo.load()


def _counts():
    return [m.objects.count() for m in (Team, Volunteer, Activity, HoursEntry, BuildingAssignment, Suggestion, Task)]


def test_the_demo_corps_is_real_and_loads_once(loaded):
    counts = _counts()
    assert demo.load() and _counts() == counts
    laodu = Volunteer.objects.get(name="杜维臣")
    assert laodu.user.username == "laodu" and [login.username for login in loaded] == ["laodu"]
    assert selectors.volunteer_totals(laodu).times >= 2
    assert Volunteer.objects.filter(status="applied").count() == 2
    assert TimelineEvent.objects.filter(action="volunteer_report").exists()
    assert Suggestion.objects.filter(case__isnull=False).count() == 1


def test_the_demo_leaves_a_building_without_a_party_member(loaded):
    from communities.models import Unit

    community = Unit.objects.get(code="xc-3")
    superuser = type(Volunteer.objects.get(name="杜维臣").user).objects.get(username="admin")
    uncovered = [b.name for b in selectors.buildings_without_party_member(superuser, community)]
    assert uncovered == ["星城二里45号楼"]
