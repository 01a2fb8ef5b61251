"""Issue 16, co-handling, dates and approvals: stories that broke at their edges.

- a co-handling unit (协办) inside the handling unit's subtree acted as the handling unit (主办);
- the day a case was resolved could not be given (it was always the click);
- an imported 12345 order's "request received" was dated to the import;
- one person holding two posts approved their own extension;
- the status page and the rating service disagreed on when the resident may rate.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from cases import services, tallies
from cases.models import Case, CoHandling, ContactRecord, ExtensionRequest, TimelineEvent
from cases.services import IllegalTransition
from communities.models import Role
from communities.services import assign_post
from tests.api.conftest import client_for
from tests.cases.factories import CategoryFactory, new_case, walk
from tests.factories import staff

pytestmark = pytest.mark.django_db
S = Case.Status
BEIJING = ZoneInfo("Asia/Shanghai")


def zh(message) -> str:
    with translation.override("zh-hans"):
        return str(translation.gettext(message))


def reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def post(client, case: Case, action: str, data: dict):
    url = reverse(f"cases:{action}", kwargs={"code": case.code})
    return client.post(url, {f"{action}-{key}": value for key, value in data.items()})


# --- 1. co-handling: the 协办 unit records its part, only the 主办 unit resolves -------------


@pytest.fixture
def street_dispatcher(street):
    return staff(street, Role.DISPATCHER)


@pytest.fixture
def street_worker(street):
    return staff(street, Role.CASEWORKER)


@pytest.fixture
def community_worker(community):
    return staff(community, Role.CASEWORKER)


@pytest.fixture
def street_case(street, community, street_dispatcher):
    """The street handles it (主办); its community co-handles (协办)."""
    case = new_case(place=community)
    return services.dispatch(case=case, to_unit=street, by=street_dispatcher, co_units=[community])


def test_a_community_co_handling_its_street_s_case_cannot_accept_it(street_case, community_worker, street):
    with pytest.raises(IllegalTransition) as error:
        services.accept(case=street_case, by=community_worker)
    assert str(error.value.message) == (
        f"贵单位是本诉求的协办单位：请记录联系情况、办理进展和协办完成情况。此操作只能由主办单位（{street.name}）进行。"
    )
    case = reload(street_case)
    assert (case.status, case.handler) == (S.DISPATCHED, None)


def test_a_co_handler_records_its_part_and_only_the_lead_resolves_returns_and_closes(
    street_case, community_worker, street_worker, street_dispatcher, community,
):
    services.accept(case=street_case, by=street_worker)

    # Its contact with the caller is its part: the lead's first contact (the response clock) is still due.
    services.record_contact(case=street_case, by=community_worker, method="visit", summary="社区上门了解情况")
    case = reload(street_case)
    assert (case.status, case.contacted_at) == (S.ACCEPTED, None)
    assert ContactRecord.objects.get(case=case).by == community_worker
    services.add_progress(case=case, by=community_worker, note="社区协调物业清理")

    for refused in (
        lambda: services.resolve(case=case, by=community_worker, result="已解决", nature="reasonable"),
        lambda: services.return_case(case=case, by=community_worker, reason="不归社区管"),
        lambda: services.request_extension(
            case=case, by=community_worker, new_due_at=case.resolve_due_at + timedelta(days=3), reason="需要时间"
        ),
    ):
        with pytest.raises(IllegalTransition):
            refused()

    services.finish_co_handling(case=case, by=community_worker, note="协办部分已完成：楼道已清理")
    part = CoHandling.objects.get(case=case, unit=community)
    assert (part.done_by, part.done_note) == (community_worker, "协办部分已完成：楼道已清理")
    assert part.done_at is not None
    event = TimelineEvent.objects.filter(case=case).last()
    assert (event.action, event.actor, event.data) == ("co_handling_done", community_worker, {"units": [community.name]})
    with pytest.raises(IllegalTransition):  # its part is done once
        services.finish_co_handling(case=case, by=community_worker, note="再报一次")

    services.record_contact(case=case, by=street_worker, method="phone", summary="街道电话回复")
    case = services.resolve(case=case, by=street_worker, result="已清理", nature="reasonable")
    assert reload(case).status == S.RESOLVED
    with pytest.raises(IllegalTransition):
        services.close(case=case, by=community_worker)
    services.close(case=case, by=street_dispatcher)
    assert reload(case).status == S.CLOSED


def test_the_lead_has_no_co_handling_part_to_report(street_case, street_worker):
    services.accept(case=street_case, by=street_worker)
    with pytest.raises(IllegalTransition):
        services.finish_co_handling(case=street_case, by=street_worker, note="主办不是协办")


def test_a_grid_worker_below_a_co_handling_community_is_a_co_handler_too(street_case, grid, street_worker):
    services.accept(case=street_case, by=street_worker)
    grid_worker = staff(grid, Role.GRID_WORKER)
    assert services.allowed_actions(reload(street_case), grid_worker) == {"contact", "progress", "finish_co_handling"}


def test_holding_a_lead_post_too_makes_one_the_lead(street_case, street, community_worker):
    assign_post(user=community_worker, unit=street, role=Role.CASEWORKER)
    assert services.accept(case=street_case, by=community_worker).handler == community_worker


def test_the_case_page_offers_a_co_handler_only_its_part(client, street_case, community_worker, street_worker):
    client.force_login(community_worker)
    html = client.get(street_case.get_absolute_url()).content.decode()
    assert reverse("cases:accept", kwargs={"code": street_case.code}) not in html

    services.accept(case=street_case, by=street_worker)
    services.record_contact(case=street_case, by=street_worker, method="phone", summary="已联系")
    response = client.get(street_case.get_absolute_url())
    offered = set(response.context["forms"])
    assert offered == {"contact", "progress", "finish_co_handling"}
    html = response.content.decode()
    for hidden in ("resolve", "return", "request_extension"):
        assert reverse(f"cases:{hidden}", kwargs={"code": street_case.code}) not in html

    response = post(client, street_case, "resolve", {"result": "社区办结", "nature": "reasonable"})
    assert reload(street_case).status == S.CONTACTED  # a forged POST is refused by the same rule
    response = post(client, street_case, "finish_co_handling", {"note": "协办部分已完成"})
    assert response.status_code == 302
    assert CoHandling.objects.get(case=street_case).done_at is not None
    html = client.get(street_case.get_absolute_url()).content.decode()
    assert zh("Co-handling part done") in html


def test_the_api_offers_a_co_handler_only_its_part(street_case, community_worker, street_worker):
    api = client_for(community_worker)
    detail = api.get(f"/api/v1/cases/{street_case.code}/").json()
    assert "accept" not in detail["allowed_actions"]
    refused = api.post(f"/api/v1/cases/{street_case.code}/accept/", {}, format="json")
    assert refused.status_code == 403
    assert street_case.unit.name in refused.json()["detail"]

    services.accept(case=street_case, by=street_worker)
    detail = api.get(f"/api/v1/cases/{street_case.code}/").json()
    assert detail["allowed_actions"] == ["contact", "finish-co-handling", "progress"]
    done = api.post(f"/api/v1/cases/{street_case.code}/finish-co-handling/", {"note": "协办部分已完成"}, format="json")
    assert done.status_code == 200
    assert "finish-co-handling" not in api.get(f"/api/v1/cases/{street_case.code}/").json()["allowed_actions"]


# --- 2. the day it was resolved -------------------------------------------------------------


@pytest.fixture
def grid_worker(grid):
    return staff(grid, Role.GRID_WORKER)


@pytest.fixture
def grid_dispatcher(street):
    return staff(street, Role.DISPATCHER)


NOW = datetime(2026, 11, 20, 10, 0, tzinfo=BEIJING)


@pytest.fixture
def contacted(grid, building, grid_dispatcher, grid_worker):
    with time_machine.travel(NOW - timedelta(days=6), tick=False):
        case = new_case(place=grid, building=building)
        return walk(case, to="contacted", dispatcher=grid_dispatcher, handler=grid_worker)


@time_machine.travel(NOW, tick=False)
def test_the_handler_gives_the_day_it_was_resolved_and_the_click_stays_in_the_timeline(contacted, grid_worker):
    case = services.resolve(
        case=contacted, by=grid_worker, result="已更换灯泡", nature="reasonable", resolved_on=date(2026, 11, 16)
    )
    case = reload(case)
    assert case.resolved_on == date(2026, 11, 16)
    assert case.resolved_at == NOW
    event = TimelineEvent.objects.get(case=case, action="resolved")
    assert (event.at, event.data["resolved_on"]) == (NOW, "2026-11-16")
    assert tallies.differences() == []


@time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=ZoneInfo("UTC")), tick=False)
def test_without_a_day_it_was_resolved_today_in_beijing(grid, building, grid_dispatcher, grid_worker):
    case = walk(new_case(place=grid, building=building), to="resolved", dispatcher=grid_dispatcher, handler=grid_worker)
    assert reload(case).resolved_on == date(2027, 1, 1)  # 00:30 on 1 January in Beijing


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("day", "message"), [
    (date(2026, 11, 21), "The resolution date cannot be in the future."),
    (date(2026, 11, 13), "The resolution date cannot be before the case was received (%(day)s)."),
])
def test_a_resolution_day_in_the_future_or_before_receipt_is_refused_in_chinese(contacted, grid_worker, day, message):
    with translation.override("zh-hans"), pytest.raises(Exception) as error:
        services.resolve(case=contacted, by=grid_worker, result="已解决", nature="reasonable", resolved_on=day)
    expected = zh(message) % {"day": "2026-11-14"} if "%(day)s" in message else zh(message)
    assert error.value.message_dict == {"resolved_on": [expected]}
    assert expected != message  # translated
    assert reload(contacted).status == S.CONTACTED


@time_machine.travel(NOW, tick=False)
def test_the_case_page_takes_the_resolution_day_and_keeps_what_was_typed(client, contacted, grid_worker):
    client.force_login(grid_worker)
    page = client.get(contacted.get_absolute_url())
    assert page.context["forms"]["resolve"].initial["resolved_on"] == date(2026, 11, 20)

    refused = post(client, contacted, "resolve", {"result": "路灯已修好", "nature": "reasonable", "resolved_on": "2026-11-25"})
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "路灯已修好" in html and 'value="2026-11-25"' in html
    assert zh("The resolution date cannot be in the future.") in html

    post(client, contacted, "resolve", {"result": "路灯已修好", "nature": "reasonable", "resolved_on": "2026-11-18"})
    case = reload(contacted)
    assert (case.status, case.resolved_on) == (S.RESOLVED, date(2026, 11, 18))
    html = client.get(case.get_absolute_url()).content.decode()
    assert "2026-11-18" in html and "2026-11-20 10:00" in html  # the day, and when it was recorded


@time_machine.travel(NOW, tick=False)
def test_the_api_takes_the_resolution_day(contacted, grid_worker):
    api = client_for(grid_worker)
    url = f"/api/v1/cases/{contacted.code}/resolve/"
    refused = api.post(url, {"nature": "reasonable", "result": "已修好", "resolved_on": "2026-11-01"}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["resolved_on"]
    done = api.post(url, {"nature": "reasonable", "result": "已修好", "resolved_on": "2026-11-17"}, format="json")
    assert done.status_code == 200
    assert (done.json()["resolved_on"], done.json()["status"]) == ("2026-11-17", S.RESOLVED)


@time_machine.travel(NOW, tick=False)
def test_the_resident_sees_the_day_it_was_resolved(client, contacted, grid_worker):
    Case.objects.filter(pk=contacted.pk).update(resident_phone="13812345678")
    services.resolve(case=contacted, by=grid_worker, result="已修好", nature="reasonable", resolved_on=date(2026, 11, 17))
    client.post("/track/", {"code": contacted.code, "phone_last4": "5678"})
    html = client.get(reverse("cases_public:status", kwargs={"code": contacted.code})).content.decode()
    assert f"<dt>{zh('Resolved on')}</dt><dd>2026-11-17</dd>" in html


@time_machine.travel(NOW, tick=False)
def test_the_return_visit_queue_and_the_export_go_by_the_day_it_was_resolved(
    client, grid, building, grid_dispatcher, grid_worker,
):
    with time_machine.travel(NOW - timedelta(days=6), tick=False):
        first = walk(new_case(place=grid, building=building), to="contacted", dispatcher=grid_dispatcher, handler=grid_worker)
        second = walk(new_case(place=grid, building=building), to="contacted", dispatcher=grid_dispatcher, handler=grid_worker)
    services.resolve(case=first, by=grid_worker, result="已修好", nature="reasonable")  # recorded first: today
    services.resolve(case=second, by=grid_worker, result="已修好", nature="reasonable", resolved_on=date(2026, 11, 15))
    from cases.selectors import queue

    assert list(queue(grid_dispatcher, "awaiting_return_visit")) == [reload(second), reload(first)]
    client.force_login(grid_dispatcher)
    body = b"".join(client.get("/cases/export.csv?queue=awaiting_return_visit").streaming_content).decode("utf-8-sig")
    assert "2026-11-15" in body and "2026-11-20" in body


# --- 3. an imported 12345 order is received at its 受理时间 ----------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_imported_order_is_received_at_its_order_time_and_the_import_is_its_own_event(client, grid_dispatcher, community):
    from tests.cases.test_imports import csv_bytes, row

    CategoryFactory(code="lighting", name="楼道照明")
    client.force_login(grid_dispatcher)
    client.post("/cases/import/", {"file": _upload(csv_bytes([row(1, 受理时间="2026-11-18 08:15")]))})
    case = Case.objects.get(source=Case.Source.HOTLINE)
    received = datetime(2026, 11, 18, 8, 15, tzinfo=BEIJING)
    assert case.received_at == received
    events = list(TimelineEvent.objects.filter(case=case).order_by("at", "pk"))
    assert [(e.action, e.at, e.public) for e in events] == [("submitted", received, True), ("imported", NOW, False)]
    assert events[1].actor == grid_dispatcher

    from cases.selectors import timeline

    public = timeline(case, public_only=True)
    assert [(e.action, e.at) for e in public] == [("submitted", received)]


@time_machine.travel(NOW, tick=False)
def test_the_import_command_dates_receipt_to_the_order_too(tmp_path, grid_dispatcher, community):
    from django.core.management import call_command

    from tests.cases.test_imports import csv_bytes, row

    CategoryFactory(code="lighting", name="楼道照明")
    path = tmp_path / "dispatch.csv"
    path.write_bytes(csv_bytes([row(1, 受理时间="2026-11-19 23:50")], encoding="gb18030"))
    call_command("import_hotline", str(path), "--user", grid_dispatcher.username)
    case = Case.objects.get(source=Case.Source.HOTLINE)
    received = datetime(2026, 11, 19, 23, 50, tzinfo=BEIJING)
    assert case.received_at == received
    assert case.resolve_due_at == received + timedelta(days=7)  # the category's deadline, from the order's time
    assert list(TimelineEvent.objects.filter(case=case).order_by("at", "pk").values_list("action", "at")) == [
        ("submitted", received), ("imported", NOW),
    ]


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("dispatch.csv", data, content_type="application/octet-stream")


@time_machine.travel(NOW, tick=False)
def test_the_resident_sees_the_order_time_on_the_status_page(client, grid):
    received = datetime(2026, 11, 18, 8, 15, tzinfo=BEIJING)
    case = new_case(
        place=grid, source=Case.Source.HOTLINE, hotline_order_no="2026111800001", received_at=received,
        resident_phone="13812345678",
    )
    client.post("/track/", {"code": case.code, "phone_last4": "5678"})
    response = client.get(reverse("cases_public:status", kwargs={"code": case.code}))
    received_line = [e for e in response.context["events"] if e.action == "submitted"]
    assert [e.at for e in received_line] == [received]
    assert "2026-11-18 08:15" in response.content.decode()
    assert "2026-11-20 10:00" not in response.content.decode()


def test_a_case_taken_in_now_has_one_received_event(grid):
    case = new_case(place=grid)
    assert list(TimelineEvent.objects.filter(case=case).values_list("action", flat=True)) == ["submitted"]


# --- 4. nobody approves their own extension ---------------------------------------------------


@pytest.fixture
def two_posts(grid, street):
    """A grid worker who is also the street's dispatcher (the tier that decides extensions)."""
    user = staff(grid, Role.GRID_WORKER)
    assign_post(user=user, unit=street, role=Role.DISPATCHER)
    return type(user).objects.get(pk=user.pk)


def test_one_person_with_two_posts_cannot_approve_their_own_extension(grid, building, two_posts, grid_dispatcher):
    case = walk(new_case(place=grid, building=building), to="contacted", dispatcher=grid_dispatcher, handler=two_posts)
    extension = services.request_extension(
        case=case, by=two_posts, new_due_at=case.resolve_due_at + timedelta(days=5), reason="需要等配件"
    )
    assert "decide_extension" not in services.allowed_actions(reload(case), two_posts)
    with pytest.raises(IllegalTransition) as error:
        services.decide_extension(extension=extension, by=two_posts, approve=True)
    assert str(error.value.message) == "这是您本人提出的延期申请，须由派单单位的其他人员审批。"
    assert ExtensionRequest.objects.get(pk=extension.pk).decision == ExtensionRequest.Decision.PENDING
    assert reload(case).resolve_due_at == case.resolve_due_at

    assert "decide_extension" in services.allowed_actions(reload(case), grid_dispatcher)
    services.decide_extension(extension=extension, by=grid_dispatcher, approve=True)
    assert reload(case).resolve_due_at == extension.new_due_at


def test_the_case_page_hides_the_decision_from_the_requester(client, grid, building, two_posts, grid_dispatcher):
    case = walk(new_case(place=grid, building=building), to="contacted", dispatcher=grid_dispatcher, handler=two_posts)
    services.request_extension(case=case, by=two_posts, new_due_at=case.resolve_due_at + timedelta(days=5), reason="等配件")
    client.force_login(two_posts)
    response = client.get(case.get_absolute_url())
    assert "decide_extension" not in response.context["forms"]
    assert reverse("cases:decide_extension", kwargs={"code": case.code}) not in response.content.decode()


# --- 5. one rule for the resident's rating ---------------------------------------------------


def test_a_case_closed_after_a_second_result_can_be_rated_on_the_status_page(
    client, grid, building, grid_dispatcher, grid_worker,
):
    case = new_case(place=grid, building=building, source=Case.Source.WEB, consent=True, resident_phone="13812345678")
    walk(case, to="resolved", dispatcher=grid_dispatcher, handler=grid_worker)
    services.rate(case=case, resolved=False, satisfaction="unsatisfied", channel="web", comment="灯还是不亮")
    walk(case, to="closed", dispatcher=grid_dispatcher, handler=grid_worker)  # handled again, closed without waiting
    case = reload(case)
    assert case.status == S.CLOSED and case.rated_at is not None  # the first result's rating

    client.post("/track/", {"code": case.code, "phone_last4": "5678"})
    page = client.get(reverse("cases_public:status", kwargs={"code": case.code}))
    assert page.context["can_rate"] is True  # the page offered no rating, though the service took one
    assert reverse("cases_public:rate", kwargs={"code": case.code}) in page.content.decode()
    assert services.resident_may_rate(case)

    client.post(
        reverse("cases_public:rate", kwargs={"code": case.code}), {"resolved": "yes", "satisfaction": "satisfied"}
    )
    case = reload(case)
    assert (case.rated_resolved, case.satisfaction) == (True, "satisfied")
    assert services.resident_may_rate(case) is False
    page = client.get(reverse("cases_public:status", kwargs={"code": case.code}))
    assert page.context["can_rate"] is False


def test_the_status_page_and_the_service_agree_in_every_state(client, grid, building, grid_dispatcher, grid_worker):
    case = new_case(place=grid, building=building, source=Case.Source.WEB, consent=True, resident_phone="13812345679")
    client.post("/track/", {"code": case.code, "phone_last4": "5679"})
    url = reverse("cases_public:status", kwargs={"code": case.code})
    seen = []
    for step in ("submitted", "dispatched", "accepted", "contacted", "in_progress", "resolved"):
        if step != "submitted":
            _one_step(case, step, grid_dispatcher, grid_worker)
        current = reload(case)
        shown = client.get(url).context["can_rate"]
        assert shown == services.resident_may_rate(current)
        seen.append((current.status, shown))
    assert seen[-1] == (S.RESOLVED, True) and all(not shown for _status, shown in seen[:-1])


def _one_step(case: Case, step: str, dispatcher, handler) -> None:
    case = reload(case)
    if step == "dispatched":
        services.dispatch(case=case, to_unit=case.location_unit, by=dispatcher)
    elif step == "accepted":
        services.accept(case=case, by=handler)
    elif step == "contacted":
        services.record_contact(case=case, by=handler, method="phone", summary="已联系")
    elif step == "in_progress":
        services.add_progress(case=case, by=handler, note="处理中")
    elif step == "resolved":
        services.resolve(case=case, by=handler, result="已修好", nature="reasonable")


def test_a_co_handling_unit_the_case_is_then_passed_to_handles_it(street_case, community, street_dispatcher):
    services.dispatch(case=street_case, to_unit=community, by=street_dispatcher)  # passed down to the 协办
    community_worker = staff(community, Role.CASEWORKER)
    assert services.accept(case=street_case, by=community_worker).handler == community_worker
    assert "finish_co_handling" not in services.allowed_actions(reload(street_case), community_worker)


def test_the_case_page_of_a_co_handler_runs_the_same_queries_whatever_the_co_handling_units(
    client, street, street_case, community_worker, street_worker, street_dispatcher,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import CommunityFactory

    services.accept(case=street_case, by=street_worker)
    client.force_login(community_worker)
    counts = []
    for _more in range(2):
        # The first request fills caches (and reads who is asking anew: new units renew it).
        client.get(street_case.get_absolute_url())
        with CaptureQueriesContext(connection) as queries:
            assert client.get(street_case.get_absolute_url()).status_code == 200
        counts.append(len(queries))
        for _ in range(4):
            services.add_co_handler(case=street_case, unit=CommunityFactory(parent=street), by=street_dispatcher)
    assert counts[0] == counts[1], counts
