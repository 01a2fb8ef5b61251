"""The cases admin: the taxonomy is edited by the top tier; cases are read-only and scoped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.models import Case, Category, CategoryDeadline
from communities.models import Role
from tests.cases.factories import CaseFactory, new_case, walk
from tests.factories import UserFactory, staff

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:cases_case_changelist"


def _change(case: Case) -> str:
    return reverse("admin:cases_case_change", args=[case.pk])


@pytest.fixture
def admin_here(client, community):
    user = staff(community, Role.ADMINISTRATOR)
    client.force_login(user)
    return user


def test_changelist_shows_only_the_subtree(client, admin_here, community, sibling_community):
    mine = CaseFactory(location_unit=community, title="本社区诉求")
    CaseFactory(location_unit=sibling_community, title="第七社区诉求")
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]


def test_sibling_community_case_is_404(client, admin_here, sibling_community):
    there = CaseFactory(location_unit=sibling_community)
    assert client.get(_change(there)).status_code == 404


def test_a_co_handled_case_is_listed_for_the_co_handling_unit(client, admin_here, community, sibling_community):
    there = CaseFactory(location_unit=sibling_community)
    services.add_co_handler(case=there, unit=community, by=UserFactory(is_superuser=True))
    assert client.get(_change(there)).status_code == 200


def test_case_admin_is_read_only(client, admin_here, community):
    case = CaseFactory(location_unit=community, status=Case.Status.DISPATCHED)
    page = client.get(_change(case))
    assert page.status_code == 200
    assert b'name="status"' not in page.content and b'name="title"' not in page.content
    assert client.post(_change(case), {"status": "closed", "title": "x"}).status_code == 403
    case.refresh_from_db()
    assert case.status == Case.Status.DISPATCHED
    assert client.get(reverse("admin:cases_case_add")).status_code == 403
    assert client.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"}).status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()


def test_superuser_cannot_edit_a_case_either(client, community):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    case = CaseFactory(location_unit=community)
    assert client.post(_change(case), {"status": "closed"}).status_code == 403


def test_case_page_shows_the_timeline_and_masks_the_phone(client, admin_here, street, community, grid):
    dispatcher, worker = staff(street, Role.DISPATCHER), staff(grid, Role.GRID_WORKER)
    case = new_case(place=grid, resident_phone="13912345678")
    walk(case, to="contacted", dispatcher=dispatcher, handler=worker)
    page = client.get(_change(case)).content.decode()
    assert "139****5678" in page and "13912345678" not in page
    for action in ("submitted", "dispatched", "accepted", "contacted"):
        assert f">{action}<" in page


def test_changelist_query_count_does_not_grow(client, admin_here, community):
    counts = []
    for n in (5, 45):
        CaseFactory.create_batch(n, location_unit=community)
        client.get(reverse(CHANGELIST))  # who is asking is read once, then shared (communities.identity)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(CHANGELIST)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


# --- the taxonomy -----------------------------------------------------------------------


def _category_form(category: Category, **changes) -> dict:
    data = {
        "parent": category.parent_id or "", "code": category.code, "name": category.name,
        "public_name": category.public_name, "portfolio": category.portfolio,
        "default_urgency": category.default_urgency, "sort_order": category.sort_order,
        "active": "on" if category.active else "",
        "deadlines-TOTAL_FORMS": "1", "deadlines-INITIAL_FORMS": "0",
        "deadlines-MIN_NUM_FORMS": "0", "deadlines-MAX_NUM_FORMS": "1000",
        "deadlines-0-urgency": "ordinary", "deadlines-0-contact_within": "04:00:00",
        "deadlines-0-resolve_within": "3 00:00:00",
    }
    data.update(changes)
    return data


def test_the_area_administrator_edits_a_category_and_its_deadline(client, area):
    client.force_login(staff(area, Role.ADMINISTRATOR))
    noise = Category.objects.get(code="noise")
    url = reverse("admin:cases_category_change", args=[noise.pk])
    response = client.post(url, _category_form(noise, public_name="楼上太吵、施工扰民"))
    assert response.status_code == 302, response.content
    noise.refresh_from_db()
    assert noise.public_name == "楼上太吵、施工扰民"
    deadline = CategoryDeadline.objects.get(category=noise)
    assert (deadline.contact_within, deadline.resolve_within) == (timedelta(hours=4), timedelta(days=3))


def test_a_community_administrator_only_reads_the_taxonomy(client, admin_here):
    noise = Category.objects.get(code="noise")
    url = reverse("admin:cases_category_change", args=[noise.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, _category_form(noise, public_name="改了")).status_code == 403
    noise.refresh_from_db()
    assert noise.public_name != "改了"
    assert client.get(reverse("admin:cases_category_add")).status_code == 403


def test_roles_without_admin_access_are_sent_to_login(client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302 and "login" in response["Location"]
