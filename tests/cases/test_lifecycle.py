"""The request lifecycle through cases.services: the journey, refusals, deadlines, reopen, merge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, Notification, ReturnVisit, TimelineEvent
from cases.services import IllegalTransition
from communities.models import Role
from tests.cases.factories import CategoryFactory, new_case, walk
from tests.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(street):
    return staff(street, Role.DISPATCHER)


@pytest.fixture
def worker(grid):
    return staff(grid, Role.GRID_WORKER)


@pytest.fixture
def case(building, grid):
    return new_case(place=grid, building=building, category=CategoryFactory(code="lighting"))


def test_full_journey_from_intake_to_closed(street, grid, building, dispatcher, worker):
    case = new_case(place=grid, building=building, source=Case.Source.WEB, consent=True)
    assert (case.status, case.unit, case.dispatching_unit) == ("submitted", street, street)
    assert services.route_suggestion(case=case) == grid

    case = services.dispatch(case=case, to_unit=grid, by=dispatcher, note="请尽快处理")
    case = services.accept(case=case, by=worker)
    case = services.record_contact(case=case, by=worker, method="phone", summary="约好明天上门")
    case = services.add_progress(case=case, by=worker, note="电工已到场")
    case = services.resolve(case=case, by=worker, result="已更换灯泡", nature="reasonable")
    case = services.rate(case=case, resolved=True, satisfaction="satisfied", channel="web")

    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert case.handler == worker and case.rated_resolved is True and case.satisfaction == "satisfied"
    assert all([case.dispatched_at, case.accepted_at, case.contacted_at, case.resolved_at, case.closed_at, case.rated_at])
    actions = list(case.events.values_list("action", flat=True))
    assert actions == ["submitted", "dispatched", "accepted", "contacted", "progress", "resolved", "rated", "closed"]
