"""/api/v1/cases/: who sees which cases, what each role may do, filters, pages, intake."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from cases.models import Case, TimelineEvent
from communities.models import Role
from tests.api.conftest import client_for
from tests.cases.factories import CaseFactory, CategoryFactory, new_case, walk
from tests.factories import staff

pytestmark = pytest.mark.django_db
S = Case.Status


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


@pytest.fixture
def case(grid, category):
    return new_case(place=grid, category=category, resident_phone="13812345678")


@pytest.fixture
def sibling_case(sibling_community):
    return CaseFactory(location_unit=sibling_community)


# --- authentication ------------------------------------------------------------------------


def test_anonymous_callers_get_401_with_the_token_scheme(case):
    response = APIClient().get("/api/v1/cases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"detail", "code"}


def test_a_wrong_token_is_401(case):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert client.get("/api/v1/cases/").status_code == 401


def test_a_browser_session_reads_the_api(client, dispatcher, case):
    client.force_login(dispatcher)
    assert codes(client.get("/api/v1/cases/")) == [case.code]


def test_a_browser_session_must_send_the_csrf_token_to_write(dispatcher, case, grid):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(dispatcher)
    url = f"/api/v1/cases/{case.code}/dispatch/"

    refused = browser.post(url, {"to_unit": grid.code}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    browser.get("/api/docs/")  # sets the cookie; Swagger UI sends it back as X-CSRFToken
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(url, {"to_unit": grid.code}, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200, accepted.content


def test_a_token_needs_no_csrf_token(dispatcher, case, grid):
    client = client_for(dispatcher)
    client.handler.enforce_csrf_checks = True
    response = client.post(f"/api/v1/cases/{case.code}/dispatch/", {"to_unit": grid.code}, format="json")
    assert response.status_code == 200


# --- scoping -------------------------------------------------------------------------------


def test_the_list_holds_only_the_users_subtree(worker, case, sibling_case):
    assert codes(client_for(worker).get("/api/v1/cases/")) == []  # at the street's desk, not the grid's yet


def test_a_street_dispatcher_sees_its_communities_cases(dispatcher, case, sibling_case):
    assert set(codes(client_for(dispatcher).get("/api/v1/cases/"))) == {case.code, sibling_case.code}


def test_a_sibling_communitys_case_is_404(community, sibling_case):
    response = client_for(staff(community, Role.CASEWORKER)).get(f"/api/v1/cases/{sibling_case.code}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。", "code": "not_found"}


def test_a_sibling_communitys_case_is_404_for_actions_too(community, sibling_case, grid):
    client = client_for(staff(community, Role.DISPATCHER))
    response = client.post(f"/api/v1/cases/{sibling_case.code}/dispatch/", {"to_unit": grid.code}, format="json")
    assert response.status_code == 404
    assert Case.objects.get(pk=sibling_case.pk).status == S.SUBMITTED


def test_detail_masks_the_phone_and_shows_the_timeline_and_next_actions(dispatcher, case):
    data = client_for(dispatcher).get(f"/api/v1/cases/{case.code}/").json()
    assert data["resident_phone"] == "138****5678"
    assert "13812345678" not in str(data)
    assert [event["action"] for event in data["timeline"]] == ["submitted"]
    assert "dispatch" in data["allowed_actions"] and "accept" not in data["allowed_actions"]


def test_a_department_liaison_sees_only_granted_cases(area, case):
    from communities.services import grant_object

    liaison = staff(area, Role.DEPARTMENT_LIAISON)
    client = client_for(liaison)
    assert codes(client.get("/api/v1/cases/")) == []
    grant_object(perm="view_case", obj=case, to=liaison)
    assert codes(client.get("/api/v1/cases/")) == [case.code]


# --- permissions per role ------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.SUPERVISOR, Role.DIRECTOR, Role.SECRETARY])
def test_roles_without_the_dispatch_permission_get_403(community, case, grid, role):
    client = client_for(staff(community, role))
    response = client.post(f"/api/v1/cases/{case.code}/dispatch/", {"to_unit": grid.code}, format="json")
    # The case waits at the street: a community post does not see it.
    assert response.status_code == 404
    walk(case, to="dispatched", dispatcher=staff(case.unit, Role.DISPATCHER), handler=None, unit=community)
    response = client.post(f"/api/v1/cases/{case.code}/dispatch/", {"to_unit": grid.code}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_supervisor_may_read_but_not_accept(grid, dispatcher, case):
    walk(case, to="dispatched", dispatcher=dispatcher, handler=None)
    supervisor = client_for(staff(grid, Role.SUPERVISOR))
    assert codes(supervisor.get("/api/v1/cases/")) == [case.code]
    assert supervisor.post(f"/api/v1/cases/{case.code}/accept/").status_code == 403


def test_a_user_without_a_post_sees_nothing(db, case):
    from tests.factories import UserFactory

    assert client_for(UserFactory()).get("/api/v1/cases/").status_code == 403


def test_an_administrator_may_not_register_requests(community, category):
    client = client_for(staff(community, Role.ADMINISTRATOR))
    response = client.post("/api/v1/cases/", intake(community, category), format="json")
    assert response.status_code == 403


# --- filters -------------------------------------------------------------------------------


@pytest.fixture
def mixed(street, community, sibling_community, grid, dispatcher):
    lighting, leak = CategoryFactory(code="light-x"), CategoryFactory(code="leak-x")
    now = timezone.now()
    return {
        "old": CaseFactory(location_unit=grid, category=lighting, received_at=now - timedelta(days=40),
                           resolve_due_at=now - timedelta(days=33)),
        "new": CaseFactory(location_unit=grid, category=leak, received_at=now - timedelta(hours=1),
                           status=S.DISPATCHED),
        "sibling": CaseFactory(location_unit=sibling_community, category=leak, received_at=now - timedelta(days=2),
                               hotline_order_no="2411230001"),
    }


def test_filter_by_status_category_unit_and_overdue(dispatcher, mixed, community):
    client = client_for(dispatcher)
    assert codes(client.get("/api/v1/cases/?status=dispatched")) == [mixed["new"].code]
    assert codes(client.get("/api/v1/cases/?category=leak-x")) == [mixed["new"].code, mixed["sibling"].code]
    assert set(codes(client.get(f"/api/v1/cases/?unit={community.code}"))) == {mixed["old"].code, mixed["new"].code}
    assert codes(client.get("/api/v1/cases/?overdue=yes")) == [mixed["old"].code]
    assert codes(client.get("/api/v1/cases/?hotline_order_no=2411230001")) == [mixed["sibling"].code]


def test_a_parent_category_includes_its_children(dispatcher, grid):
    parent = CategoryFactory(code="housing-x")
    child = CaseFactory(location_unit=grid, category=CategoryFactory(code="leak-y", parent=parent))
    assert codes(client_for(dispatcher).get("/api/v1/cases/?category=housing-x")) == [child.code]


def test_filter_by_dates(dispatcher, mixed):
    client = client_for(dispatcher)
    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert codes(client.get(f"/api/v1/cases/?received_after={day}")) == [mixed["new"].code, mixed["sibling"].code]
    assert codes(client.get(f"/api/v1/cases/?received_before={day}")) == [mixed["sibling"].code, mixed["old"].code]
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    assert len(codes(client.get("/api/v1/cases/", {"updated_after": since}))) == 3


def test_a_unit_outside_the_subtree_filters_to_nothing(community, mixed, sibling_community):
    client = client_for(staff(community, Role.DISPATCHER))
    assert codes(client.get(f"/api/v1/cases/?unit={sibling_community.code}")) == []


def test_bad_filter_values_are_400_with_field_errors(dispatcher, mixed):
    response = client_for(dispatcher).get("/api/v1/cases/?status=lost&received_after=0001-01-01&overdue=maybe")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"status", "received_after", "overdue"}


# --- pagination ----------------------------------------------------------------------------


def test_cursor_pages_walk_every_case_once_newest_first(dispatcher, grid):
    now = timezone.now()
    made = [CaseFactory(location_unit=grid, received_at=now - timedelta(minutes=i)) for i in range(7)]
    client, seen, url = client_for(dispatcher), [], "/api/v1/cases/?page_size=3"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 3
        seen += [row["code"] for row in page["results"]]
        url = page["next"]
    assert seen == [case.code for case in made]


def test_a_forged_cursor_is_400(dispatcher, case):
    response = client_for(dispatcher).get("/api/v1/cases/?cursor=bm9wZQ")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["cursor"]


# --- intake --------------------------------------------------------------------------------


def intake(place, category, **fields) -> dict:
    return {
        "source": "walk_in", "category": category.code, "title": "楼道灯坏了",
        "description": "41号楼5单元楼道灯坏了一周", "location_unit": place.code,
        "resident_name": "杨阿姨", "resident_phone": "13812345678", **fields,
    }


def test_staff_register_a_request_that_waits_at_the_street(dispatcher, grid, street, category):
    response = client_for(dispatcher).post("/api/v1/cases/", intake(grid, category), format="json")
    assert response.status_code == 201, response.content
    case = Case.objects.get(code=response.json()["code"])
    assert (case.source, case.unit, case.location_unit, case.status) == ("walk_in", street, grid, S.SUBMITTED)
    assert TimelineEvent.objects.get(case=case).actor == dispatcher


def test_intake_errors_name_every_field(dispatcher, grid, sibling_street, category):
    outside = sibling_street.code
    response = client_for(dispatcher).post(
        "/api/v1/cases/",
        intake(grid, category, source="web", title="", location_unit=outside, resident_phone="abc"),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"source", "title", "location_unit", "resident_phone"}
    assert Case.objects.count() == 0


def test_a_hotline_push_needs_its_order_number(dispatcher, grid, category):
    response = client_for(dispatcher).post("/api/v1/cases/", intake(grid, category, source="hotline"), format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["hotline_order_no"]


def test_the_same_hotline_order_pushed_twice_returns_the_first_case(dispatcher, grid, category):
    client = client_for(dispatcher)
    due = (timezone.now() + timedelta(hours=2)).isoformat()
    data = intake(grid, category, source="hotline", hotline_order_no="2411230099", contact_due_at=due)

    first = client.post("/api/v1/cases/", data, format="json")
    again = client.post("/api/v1/cases/", {**data, "title": "重复推送"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["code"] == first.json()["code"]
    assert Case.objects.filter(hotline_order_no="2411230099").count() == 1
    assert Case.objects.get().title == "楼道灯坏了"


def test_a_hotline_order_registered_outside_the_users_tree_is_a_conflict(community, sibling_community, category):
    earlier = new_case(place=sibling_community, category=category, source="hotline", hotline_order_no="77")
    client = client_for(staff(community, Role.DISPATCHER))
    response = client.post("/api/v1/cases/", intake(community, category, source="hotline", hotline_order_no="77"),
                           format="json")
    assert response.status_code == 409
    assert earlier.code not in response.json()["detail"]  # codes are not harvested through order numbers
    with translation.override("zh-hans"):
        told = translation.gettext("This 12345 order is already registered, in a unit outside your part of the tree.")
    assert response.json()["detail"] == told
    assert Case.objects.count() == 1
