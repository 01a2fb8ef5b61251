"""The 未呼先应 demo: e-bike charging rises, becomes 星城街道's theme and falls; home visits in 星城二里41号楼."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases import demo as case_demo
from cases import rates
from communities import demo
from communities.models import Unit
from governance import proactive_demo
from governance.hotspots.selectors import top_clusters
from governance.models import CareNeed, Theme, Visit
from governance.themes.selectors import effect
from volunteers import demo as volunteer_demo

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_tells_the_seeds_story():
    demo.load()
    case_demo.load()
    volunteer_demo.load()

    assert proactive_demo.load() > 0
    counts = [Theme.objects.count(), CareNeed.objects.count(), Visit.objects.count()]
    assert proactive_demo.load() == 0
    assert counts == [Theme.objects.count(), CareNeed.objects.count(), Visit.objects.count()]

    theme = Theme.objects.select_related("place").get()
    result = effect(theme)
    assert result.after_average < result.before_average  # the calls fell after adoption

    street = Unit.objects.get(code="xingcheng")
    before_adoption = rates.previous_month(theme.month)
    rising = top_clusters(street, before_adoption, level="community").rising
    assert any(c.place == "星城第三社区" and c.category == "充电设施" for c in rising)

    assert Visit.objects.filter(visited_on__isnull=True, due_on__lt=timezone.localdate()).count() == 1
    assert Visit.objects.filter(case__isnull=False).count() == 1
    assert Visit.objects.filter(volunteer__name="甘起荣").exists()


def test_demo_pages_open_for_the_demo_staff(client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    demo.load()
    case_demo.load()
    volunteer_demo.load()
    proactive_demo.load()
    users = get_user_model().objects
    client.force_login(users.get(username="street_director"))
    theme = Theme.objects.get()
    month = rates.previous_month(theme.month).strftime("%Y-%m")
    page = client.get(reverse("proactive:hotspots_unit", kwargs={"code": "xingcheng"}), {"month": month})
    assert page.status_code == 200 and "星城第三社区" in page.content.decode()
    assert client.get(theme.get_absolute_url()).status_code == 200
    client.force_login(users.get(username="xc3g1_grid_worker"))
    visits = client.get(reverse("proactive:visits"))
    assert visits.status_code == 200 and visits.context["overdue"] == 1
    case = Visit.objects.get(case__isnull=False).case
    client.force_login(users.get(username="street_dispatcher"))
    assert "41号楼" in client.get(case.get_absolute_url()).content.decode()
