"""Case actions through the API: the same services, the same timeline, clear refusals."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone, translation

from cases import services
from cases.services.rules import REACH_REFUSALS
from cases.models import Case, CoHandling, ExtensionRequest, PhoneReveal, Supervision, TimelineEvent
from communities.models import Role
from governance.api.views import NOT_ALLOWED
from tests.api.conftest import client_for
from tests.cases.factories import new_case, walk
from tests.factories import staff

S = Case.Status


@pytest.fixture
def case(grid, building, category):
    return new_case(place=grid, building=building, category=category, resident_phone="13812345678")


@pytest.fixture
def director(community):
    return staff(community, Role.DIRECTOR)


def zh(message) -> str:
    """What the API answers (in the portal's default language, Chinese)."""
    with translation.override("zh-hans"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def act(user, case: Case, action: str, data: dict | None = None):
    return client_for(user).post(f"/api/v1/cases/{case.code}/{action}/", data or {}, format="json")


def status_of(case: Case) -> str:
    return Case.objects.get(pk=case.pk).status


def history(case: Case) -> list[tuple]:
    return list(
        TimelineEvent.objects.filter(case=case).order_by("at", "pk")
        .values_list("action", "actor__username", "from_status", "to_status", "note", "public")
    )


# --- the journey ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_whole_journey_through_the_api(dispatcher, worker, case, grid, sibling_grid):
    assert act(dispatcher, case, "dispatch", {"to_unit": grid.code, "co_units": [sibling_grid.code]}).status_code == 200
    assert CoHandling.objects.filter(case=case, unit=sibling_grid).exists()
    assert act(worker, case, "accept").json()["handler"] == worker.username
    assert act(worker, case, "contact", {"method": "phone", "summary": "约明天上门"}).json()["status"] == S.CONTACTED
    assert act(worker, case, "progress", {"note": "电工到场", "public": True}).json()["status"] == S.IN_PROGRESS
    due = (timezone.now() + timedelta(days=20)).isoformat()
    assert act(worker, case, "request-extension", {"new_due_at": due, "reason": "等配件"}).status_code == 200
    assert act(dispatcher, case, "decide-extension", {"approve": True, "note": "同意"}).status_code == 200
    assert ExtensionRequest.objects.get(case=case).decision == "approved"
    assert act(worker, case, "resolve", {"nature": "reasonable", "result": "已修复"}).json()["status"] == S.RESOLVED
    visit = act(dispatcher, case, "record-return-visit", {"resolved": True, "satisfaction": "satisfied"})
    assert visit.json()["status"] == S.CLOSED
    assert [e[0] for e in history(case)] == [
        "submitted", "dispatched", "accepted", "contacted", "progress", "extension_requested",
        "extension_approved", "resolved", "rated", "closed",
    ]


@pytest.mark.django_db
def test_transitions_through_the_api_write_the_same_timeline_as_the_pages(
    client, dispatcher, worker, grid, building, category
):
    by_page = new_case(place=grid, building=building, category=category)
    by_api = new_case(place=grid, building=building, category=category)
    steps = [
        (dispatcher, "dispatch", {"to_unit": grid}, {"note": "速办"}),
        (worker, "accept", {}, {}),
        (worker, "contact", {}, {"method": "phone", "summary": "已电话联系"}),
        (worker, "progress", {}, {"note": "已安排电工", "public": True}),
        (worker, "resolve", {}, {"nature": "reasonable", "result": "已更换灯泡"}),
        (dispatcher, "close", {}, {"note": "办结"}),
    ]
    for user, action, units, fields in steps:
        client.force_login(user)
        page_data = {**fields, **{k: v.pk for k, v in units.items()}}
        if page_data.get("public") is True:
            page_data["public"] = "on"
        prefixed = {f"{action}-{key}": value for key, value in page_data.items()}
        assert client.post(reverse(f"cases:{action}", kwargs={"code": by_page.code}), prefixed).status_code == 302
        api_data = {**fields, **{k: v.code for k, v in units.items()}}
        assert act(user, by_api, action, api_data).status_code == 200

    assert len(history(by_page)) == 7
    assert history(by_api) == history(by_page)
    assert Case.objects.get(pk=by_api.pk).status == Case.objects.get(pk=by_page.pk).status == S.CLOSED


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_illegal_move_is_409_with_the_reason(dispatcher, worker, case):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    response = act(worker, case, "resolve", {"nature": "reasonable", "result": "好了"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "请先联系诉求人，再办结工单；工单当前为“已接单”。", "code": "illegal_transition",
    }
    assert status_of(case) == S.ACCEPTED


@pytest.mark.django_db
def test_a_second_accept_is_409_naming_the_handler(dispatcher, worker, grid, case):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    response = act(staff(grid, Role.GRID_WORKER), case, "accept")
    assert response.status_code == 409
    assert worker.username in response.json()["detail"]


@pytest.mark.django_db
def test_a_role_without_the_permission_is_403_before_any_input_is_read(dispatcher, case):
    response = act(dispatcher, case, "accept")
    assert response.status_code == 403
    assert response.json() == {"detail": zh(NOT_ALLOWED), "code": "permission_denied"}
    assert status_of(case) == S.SUBMITTED


@pytest.mark.django_db
def test_acting_from_the_wrong_place_in_the_tree_is_403(dispatcher, street, case, grid):
    walk(case, to="dispatched", dispatcher=dispatcher, handler=None)
    street_caseworker = staff(street, Role.CASEWORKER)  # sees the grid's case, does not handle it
    response = act(street_caseworker, case, "accept")
    assert response.status_code == 403
    assert response.json()["detail"] == zh(REACH_REFUSALS["lead"])
    assert status_of(case) == S.DISPATCHED


@pytest.mark.django_db
def test_missing_input_is_400_naming_the_field(dispatcher, worker, case):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    response = act(worker, case, "return", {})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]


@pytest.mark.django_db
def test_a_services_field_error_is_400_on_that_field(dispatcher, worker, case):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    earlier = (Case.objects.get(pk=case.pk).resolve_due_at - timedelta(days=1)).isoformat()
    response = act(worker, case, "request-extension", {"new_due_at": earlier, "reason": "等配件"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"new_due_at": [zh("The new deadline must be later than the current one.")]}


@pytest.mark.django_db
def test_deciding_without_a_pending_extension_is_409(dispatcher, worker, case):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    response = act(dispatcher, case, "decide-extension", {"approve": True})
    assert response.status_code == 409


# --- the other actions ---------------------------------------------------------------------


@pytest.mark.django_db
def test_return_hands_the_case_back_and_answers_204_when_it_leaves_the_users_tree(dispatcher, worker, case):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    response = act(worker, case, "return", {"reason": "不属于本网格"})
    assert response.status_code == 204
    assert status_of(case) == S.RETURNED
    assert act(dispatcher, case, "close", {"note": "已转区级部门"}).json()["status"] == S.CLOSED


@pytest.mark.django_db
def test_reassign_and_add_co_handler(dispatcher, worker, case, sibling_grid, community):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    assert act(dispatcher, case, "add-co-handler", {"unit": community.code}).json()["co_handling_units"] == [community.code]
    data = act(dispatcher, case, "reassign", {"to_unit": sibling_grid.code, "note": "改派"}).json()
    assert (data["status"], data["unit"], data["handler"]) == (S.DISPATCHED, sibling_grid.code, None)


@pytest.mark.django_db
def test_supervise_on_behalf_of_the_only_own_unit_then_lift(director, dispatcher, worker, case, community):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    due = (timezone.now() + timedelta(days=3)).isoformat()
    assert act(director, case, "supervise", {"comment": "三天内答复", "due_at": due}).json()["is_supervised"]
    assert Supervision.objects.get(case=case).unit == community
    assert act(director, case, "lift-supervision", {"note": "已答复"}).json()["is_supervised"] is False
    assert act(director, case, "lift-supervision", {}).status_code == 409


@pytest.mark.django_db
def test_merge_and_exclude_from_rates(dispatcher, grid, case, category):
    lead = new_case(place=grid, category=category)
    assert act(dispatcher, case, "merge", {"into": lead.code.lower()}).json()["merged_into"] == lead.code
    assert act(dispatcher, lead, "exclude-from-rates", {"reason": "恶意重复来电"}).json()["excluded_from_rates"]


@pytest.mark.django_db
def test_merging_into_a_case_the_user_cannot_see_is_a_field_error(dispatcher, case, sibling_street):
    hidden = new_case(place=sibling_street)
    response = act(dispatcher, case, "merge", {"into": hidden.code})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["into"]


@pytest.mark.django_db
def test_the_handler_reveals_the_phone_and_the_reveal_is_logged(dispatcher, worker, case):
    walk(case, to="accepted", dispatcher=dispatcher, handler=worker)
    assert act(worker, case, "reveal-phone").json() == {"phone": "13812345678"}
    assert PhoneReveal.objects.filter(case=case, by=worker).count() == 1
    assert act(dispatcher, case, "reveal-phone").status_code == 403


@pytest.mark.django_db
def test_actions_answer_post_only(dispatcher, case):
    assert client_for(dispatcher).get(f"/api/v1/cases/{case.code}/dispatch/").status_code == 405


# --- a real race (PostgreSQL: two threads, two connections) --------------------------------


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_api_accepts_at_once_give_one_200_and_one_409(area):
    from tests.factories import CommunityFactory, GridFactory, StreetFactory

    street = StreetFactory(parent=area)
    grid = GridFactory(parent=CommunityFactory(parent=street))
    workers = [staff(grid, Role.GRID_WORKER) for _i in range(2)]
    case = services.dispatch(case=new_case(place=grid), to_unit=grid, by=staff(street, Role.DISPATCHER))
    clients = [client_for(worker) for worker in workers]
    assert connection.vendor == "postgresql"

    responses = _race(*[
        (lambda c=c: c.post(f"/api/v1/cases/{case.code}/accept/", format="json")) for c in clients
    ])

    assert sorted(r.status_code for r in responses) == [200, 409], [r.content for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert "已由" in loser.json()["detail"]
    case.refresh_from_db()
    assert case.status == S.ACCEPTED
    assert TimelineEvent.objects.filter(case=case, action="accepted").count() == 1
