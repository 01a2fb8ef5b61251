"""The demo project list: Yanshan's charging piles (40 of 336 built), the small things, last year's list."""

from __future__ import annotations


import pytest
from django.utils import timezone

from cases import demo as case_demo
from communities import demo
from communities.models import Unit
from governance import coordination_demo
from governance.models import Project
from governance.projects import demo as project_demo
from governance.projects import selectors

pytestmark = pytest.mark.django_db


def test_demo_loads_once_through_the_services(client):
    demo.load()
    case_demo.load()
    coordination_demo.load()

    assert project_demo.load() > 0
    count = Project.objects.count()
    assert project_demo.load() == 0 and Project.objects.count() == count

    charging = Project.objects.get(title=project_demo.CHARGING)
    assert sum(charging.sub_items.values_list("weight", flat=True)) == 336
    assert charging.progress == Project.rolled_up(selectors.roll_up_parts(charging)) == 11  # ≈ 40 / 336
    roof = Project.objects.get(title="星城二里45号楼顶层漏雨修缮")
    assert roof.done_on_time and roof.cases.exists()
    elevator = Project.objects.get(title="星城二里41号楼加装电梯")
    assert Project.objects.filter(selectors.flagged_q(), pk=elevator.pk).exists()

    yanshan = Unit.objects.get(code="yanshan")
    last_year = selectors.on_time_rate(yanshan, timezone.localdate().year - 1)
    assert last_year.due == last_year.done_on_time == len(project_demo.LAST_YEAR)
    page = client.get(f"/progress/{roof.unit.code}/").content.decode()
    assert roof.title in page and elevator.title not in page
