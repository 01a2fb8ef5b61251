"""The whole request journey through the browser-facing pages (Django test client).

A resident reports on /report/ → the street's dispatcher routes it from the case page →
the grid's caseworker accepts, calls the resident, resolves → the resident rates it on
/track/ → the case is closed, with a complete timeline.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case, Notification, TimelineEvent
from communities.models import Role
from tests.cases.factories import CategoryFactory
from tests.factories import staff

pytestmark = pytest.mark.django_db
S = Case.Status


@pytest.fixture
def people(street, grid):
    return {
        "resident": Client(),
        "dispatcher": staff(street, Role.DISPATCHER),
        "caseworker": staff(grid, Role.CASEWORKER),
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def resident_reports(resident: Client, street, community, building, category) -> Case:
    assert resident.get(reverse("cases_public:report")).status_code == 200
    response = resident.post(reverse("cases_public:report"), {
        "category": category.pk, "description": "41号楼5单元楼道灯坏了一周，晚上老人上下楼看不见",
        "street": street.pk, "community": community.pk, "building": building.pk, "address": "",
        "resident_name": "杨阿姨", "resident_phone": "13812345678", "consent": "on", "website": "",
    })
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == reverse("cases_public:done", kwargs={"code": case.code})
    return case


def act(client: Client, case: Case, action: str, **data):
    response = client.post(
        reverse(f"cases:{action}", kwargs={"code": case.code}), {f"{action}-{k}": v for k, v in data.items()}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == case.get_absolute_url()
    return Case.objects.get(pk=case.pk)


def resident_rates(resident: Client, case: Case, *, resolved: str, satisfaction: str) -> None:
    response = resident.post(reverse("cases_public:track"), {"code": case.code.lower(), "phone_last4": "5678"})
    assert response.status_code == 302
    status_page = resident.get(response.url)
    assert status_page.status_code == 200 and "约好明天上午上门查看" not in status_page.content.decode()
    response = resident.post(
        reverse("cases_public:rate", kwargs={"code": case.code}),
        {"resolved": resolved, "satisfaction": satisfaction, "comment": "谢谢社区"},
    )
    assert response.status_code == 302


def test_report_route_accept_contact_resolve_rate_closes_the_case(people, street, community, grid, building):
    category = CategoryFactory(name="楼道照明")
    case = resident_reports(people["resident"], street, community, building, category)
    assert (case.status, case.unit, case.location_unit) == (S.SUBMITTED, street, grid)

    dispatcher = logged_in(people["dispatcher"])
    queue = dispatcher.get(reverse("cases:queue"))
    assert [row.code for row in queue.context["rows"]] == [case.code]  # "to dispatch" is the default tab
    page = dispatcher.get(case.get_absolute_url())
    assert page.context["forms"]["dispatch"].initial["to_unit"] == grid.pk  # the routing suggestion
    case = act(dispatcher, case, "dispatch", to_unit=grid.pk, note="请今天联系居民")
    assert (case.status, case.unit) == (S.DISPATCHED, grid)

    caseworker = logged_in(people["caseworker"])
    assert Notification.objects.filter(user=people["caseworker"], case=case, read_at__isnull=True).exists()
    waiting = caseworker.get(reverse("cases:queue"), {"queue": "waiting_acceptance"})
    assert [row.code for row in waiting.context["rows"]] == [case.code]
    case = act(caseworker, case, "accept")
    assert [row.code for row in caseworker.get(reverse("cases:queue")).context["rows"]] == [case.code]
    case = act(caseworker, case, "contact", method="phone", summary="约好明天上午上门查看")
    case = act(caseworker, case, "progress", note="电工已更换灯泡", public="on")
    case = act(caseworker, case, "resolve", result="已更换楼道灯，居民确认", nature="reasonable")
    assert case.status == S.RESOLVED

    resident_rates(people["resident"], case, resolved="yes", satisfaction="satisfied")

    case = Case.objects.get(pk=case.pk)
    assert case.status == S.CLOSED and (case.rated_resolved, case.satisfaction) == (True, "satisfied")
    assert case.contacted_at <= case.contact_due_at and case.handler == people["caseworker"]
    actions = list(TimelineEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions == ["submitted", "dispatched", "accepted", "contacted", "progress", "resolved", "rated", "closed"]
    html = dispatcher.get(case.get_absolute_url()).content.decode()
    assert "约好明天上午上门查看" in html and "已更换楼道灯，居民确认" in html and "谢谢社区" in html


def test_an_unresolved_rating_comes_back_to_the_dispatcher(people, street, community, grid, building):
    case = resident_reports(people["resident"], street, community, building, CategoryFactory())
    dispatcher, caseworker = logged_in(people["dispatcher"]), logged_in(people["caseworker"])
    act(dispatcher, case, "dispatch", to_unit=grid.pk)
    act(caseworker, case, "accept")
    act(caseworker, case, "contact", method="visit", summary="上门查看")
    act(caseworker, case, "resolve", result="已报修", nature="reasonable")

    resident_rates(people["resident"], case, resolved="no", satisfaction="unsatisfied")

    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.unit) == (S.RETURNED, street)
    queue = dispatcher.get(reverse("cases:queue"))
    assert [row.code for row in queue.context["rows"]] == [case.code]
    case = act(dispatcher, case, "dispatch", to_unit=grid.pk, note="居民不满意，请再处理")
    assert case.status == S.DISPATCHED
