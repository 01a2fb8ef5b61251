"""The admin of themes and home visits: every changelist in the administrator's subtree; roles' permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from cases import rates
from communities.models import Role
from governance.models import CareNeed, Theme
from governance.themes import services as themes
from governance.visits import services as visits
from tests.factories import HouseholdFactory, StairwellFactory, staff

pytestmark = pytest.mark.django_db


def theme(by, unit) -> Theme:
    return themes.adopt_theme(unit=unit, month=rates.current_month(), title="电动自行车充电难", by=by)


def need(by, building) -> CareNeed:
    household = HouseholdFactory(stairwell=StairwellFactory(building=building))
    return visits.flag_need(household=household, kind=CareNeed.Kind.ELDERLY_ALONE, person_name="王奶奶", by=by)


@pytest.fixture
def admin_here(client, community):
    user = staff(community, Role.ADMINISTRATOR)
    client.force_login(user)
    return user


def test_theme_changelist_shows_only_the_subtree(client, admin_here, director, sibling_director, community,
                                                sibling_community):
    mine, there = theme(director, community), theme(sibling_director, sibling_community)
    response = client.get(reverse("admin:governance_theme_changelist"))
    assert list(response.context["cl"].result_list) == [mine]
    assert client.get(reverse("admin:governance_theme_change", args=[there.pk])).status_code == 404


def test_a_sibling_communitys_household_is_404_in_the_admin(client, admin_here, director, sibling_director,
                                                            building, sibling_building):
    mine, there = need(director, building), need(sibling_director, sibling_building)
    assert list(client.get(reverse("admin:governance_careneed_changelist")).context["cl"].result_list) == [mine]
    assert client.get(reverse("admin:governance_careneed_change", args=[there.pk])).status_code == 404
    assert client.get(reverse("admin:governance_visit_change", args=[there.visits.get().pk])).status_code == 404


def test_an_administrator_can_stop_the_visits(client, admin_here, director, building):
    flagged = need(director, building)
    url = reverse("admin:governance_careneed_change", args=[flagged.pk])
    response = client.post(url, {
        "kind": flagged.kind, "person_name": "王奶奶", "phone": "", "note": "搬去女儿家住了", "visit_every_days": 30,
        "visits-TOTAL_FORMS": 1, "visits-INITIAL_FORMS": 1, "visits-MIN_NUM_FORMS": 0, "visits-MAX_NUM_FORMS": 1000,
        "visits-0-id": flagged.visits.get().pk, "visits-0-need": flagged.pk,
    })
    assert response.status_code == 302, response.context["errors"] if response.context else response
    flagged.refresh_from_db()
    assert not flagged.active and flagged.note == "搬去女儿家住了"


@pytest.mark.parametrize("role, allowed, refused", [
    ("director", ["add_theme", "close_theme", "add_careneed", "record_visit"], []),
    ("grid_worker", ["view_theme", "add_careneed", "record_visit"], ["add_theme"]),
    ("dispatcher", ["change_theme"], ["view_careneed", "record_visit"]),
    ("supervisor", ["view_theme", "view_visit"], ["record_visit", "add_theme"]),
    ("department_liaison", [], ["view_theme", "view_careneed"]),
])
def test_role_permissions(role, allowed, refused):
    codenames = set(Group.objects.get(name=role).permissions.filter(content_type__app_label="governance")
                    .values_list("codename", flat=True))
    assert set(allowed) <= codenames and not set(refused) & codenames
