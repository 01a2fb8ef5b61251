"""What this app adds to the case, building and workspace pages (communities.panels)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from cases.selectors import visible_cases
from governance.coordination import panels, services
from tests.governance.coordination_factories import households

pytestmark = pytest.mark.django_db


def request_by(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_case_panel_offers_blowing_meeting_and_poll_to_the_own_unit(director, case):
    html = panels.case_panel(request_by(director), case)
    assert "/whistles/blow/" in html and "/meetings/new/?case=" in html and "/polls/new/?case=" in html


def test_case_panel_offers_nothing_to_a_liaison_who_only_looks(director, community, housing, housing_liaison, case):
    services.blow_whistle(case=case, unit=community, reason="emergency", description="外墙脱落",
                          departments=[housing], by=director)
    assert case in visible_cases(housing_liaison)
    html = panels.case_panel(request_by(housing_liaison), case)
    assert "燕山住建委" in html and "/whistles/blow/" not in html


def test_building_panel_lists_its_polls(director, building):
    households(building, units=1, floors=2)
    today = timezone.localdate()
    services.open_poll(title="加装电梯意见征询", question="?", buildings=[building], rule="yanshan", by=director,
                       opens_on=today, closes_on=today + timedelta(days=5))
    html = panels.building_panel(request_by(director), building)
    assert "加装电梯意见征询" in html and "0/4" in html


def test_workspace_panel_lists_a_liaisons_summonses_and_nothing_for_others(director, community, housing,
                                                                           housing_liaison, case):
    services.blow_whistle(case=case, unit=community, reason="emergency", description="外墙脱落",
                          departments=[housing], by=director)
    assert case.title in panels.workspace_panel(request_by(housing_liaison), None)
    assert panels.workspace_panel(request_by(director), None) is None


def test_case_panel_queries_do_not_grow_with_whistles(director, community, housing, hr, case, django_assert_max_num_queries):
    def count() -> int:
        with django_assert_max_num_queries(15) as captured:
            panels.case_panel(request_by(director), case)
        return len(captured)

    services.blow_whistle(case=case, unit=community, reason="emergency", description="a", departments=[housing],
                          by=director)
    count()
    few = count()
    for _n in range(5):
        services.blow_whistle(case=case, unit=community, reason="emergency", description="b",
                              departments=[housing, hr], by=director)
    assert count() == few
