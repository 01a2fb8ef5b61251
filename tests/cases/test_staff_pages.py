"""The case page, its actions, staff intake, notifications and the navigation badge."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from cases import services
from cases.models import (
    Attachment,
    Case,
    CoHandling,
    ContactRecord,
    ExtensionRequest,
    Notification,
    PhoneReveal,
    ReturnVisit,
    Supervision,
    TimelineEvent,
)
from communities.models import Role
from tests.cases.factories import CategoryFactory, new_case, walk
from tests.factories import staff

pytestmark = pytest.mark.django_db
S = Case.Status


@pytest.fixture
def director(community):
    return staff(community, Role.DIRECTOR)


@pytest.fixture
def case(grid, building):
    return new_case(place=grid, building=building, resident_phone="13812345678")


@pytest.fixture
def accepted(case, dispatcher, worker):
    return walk(case, to="accepted", dispatcher=dispatcher, handler=worker)


@pytest.fixture
def contacted(case, dispatcher, worker):
    return walk(case, to="contacted", dispatcher=dispatcher, handler=worker)


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def url(case: Case, action: str) -> str:
    return reverse(f"cases:{action}", kwargs={"code": case.code})


def post(client, case, action, data=None, **extra):
    prefixed = {f"{action}-{key}": value for key, value in (data or {}).items()}
    return client.post(url(case, action), prefixed, **extra)


def levels(response) -> list[str]:
    return [message.level_tag for message in get_messages(response.wsgi_request)]


def reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


# --- the case page -------------------------------------------------------------------


def test_case_page_shows_place_deadlines_and_masked_phone(client, dispatcher, case, building):
    client.force_login(dispatcher)
    html = client.get(case.get_absolute_url()).content.decode()
    assert case.title in html and case.description in html and building.name in html
    assert case.location_unit.name in html
    assert timezone.localtime(case.resolve_due_at).strftime("%Y-%m-%d %H:%M") in html
    assert "138****5678" in html and "13812345678" not in html


def test_case_page_shows_overdue_state(client, dispatcher, case):
    Case.objects.filter(pk=case.pk).update(resolve_due_at=timezone.now() - timedelta(hours=1))
    client.force_login(dispatcher)
    assert "badge-overdue" in client.get(case.get_absolute_url()).content.decode()


def test_staff_see_internal_notes_on_the_timeline(client, dispatcher, worker, contacted):
    services.add_progress(case=contacted, by=worker, note="内部备注：物业推诿", public=False)
    client.force_login(dispatcher)
    html = client.get(contacted.get_absolute_url()).content.decode()
    assert "内部备注：物业推诿" in html
    assert "已电话联系" in html  # what was said on the phone: hidden from residents, not from staff


def test_dispatch_form_preselects_the_routing_suggestion(client, dispatcher, case, grid):
    client.force_login(dispatcher)
    html = client.get(case.get_absolute_url()).content.decode()
    assert services.route_suggestion(case=case) == grid
    assert f'<option value="{grid.pk}" selected>' in html


def test_only_the_actions_the_user_may_take_now_are_shown(client, dispatcher, worker, case):
    client.force_login(worker)
    html = client.get(case.get_absolute_url()).content.decode()
    assert url(case, "dispatch") not in html  # a grid worker does not dispatch, and it is not theirs yet
    client.force_login(dispatcher)
    html = client.get(case.get_absolute_url()).content.decode()
    assert url(case, "dispatch") in html and url(case, "accept") not in html


def test_photos_are_served_to_staff_through_the_checked_view(client, dispatcher, worker, contacted):
    client.force_login(worker)
    post(client, contacted, "progress", {"note": "现场照片", "photos": [jpeg("a.jpg"), jpeg("b.jpg")]})
    attachment = Attachment.objects.filter(case=contacted).first()
    client.force_login(dispatcher)
    html = client.get(contacted.get_absolute_url()).content.decode()
    photo_url = reverse("cases:photo", kwargs={"code": contacted.code, "pk": attachment.pk})
    assert photo_url in html
    response = client.get(photo_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_case_page_queries_do_not_grow_with_its_history(client, dispatcher, worker, contacted):
    client.force_login(dispatcher)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(contacted.get_absolute_url()).status_code == 200
        return len(queries)

    services.add_progress(case=contacted, by=worker, note="第一次", photos=[])
    count()
    few = count()
    for n in range(15):
        services.add_progress(case=contacted, by=worker, note=f"进展{n}")
        services.record_contact(case=contacted, by=worker, method="phone", summary=f"回电{n}")
    assert count() == few


# --- each action ---------------------------------------------------------------------


def test_dispatch_sends_the_case_with_co_handlers(client, dispatcher, case, grid, sibling_grid):
    client.force_login(dispatcher)
    response = post(client, case, "dispatch", {"to_unit": grid.pk, "co_units": [sibling_grid.pk], "note": "速办"})
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    case = reload(case)
    assert (case.status, case.unit) == (S.DISPATCHED, grid)
    assert CoHandling.objects.filter(case=case, unit=sibling_grid).exists()
    assert levels(response) == ["success"]


def test_accept_then_a_second_accept_is_refused_with_a_message(client, dispatcher, worker, case, grid):
    walk(case, to="dispatched", dispatcher=dispatcher, handler=worker)
    other = staff(grid, Role.CASEWORKER)
    client.force_login(worker)
    assert post(client, case, "accept").status_code == 302
    client.force_login(other)
    response = post(client, case, "accept")
    assert response.status_code == 302 and levels(response) == ["error"]
    assert reload(case).handler == worker


def test_return_needs_a_reason_and_keeps_what_was_typed(client, worker, accepted):
    client.force_login(worker)
    response = post(client, accepted, "return", {"reason": ""})
    assert response.status_code == 200 and response.context["failed"] == "return"
    assert response.context["forms"]["return"].errors
    response = post(client, accepted, "return", {"reason": "不属于本网格"})
    case = reload(accepted)
    assert case.status == S.RETURNED and case.handler is None


def test_bad_input_re_renders_the_case_page_with_the_typed_text(client, worker, contacted):
    client.force_login(worker)
    response = post(client, contacted, "resolve", {"result": "已更换灯泡，居民满意", "nature": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "已更换灯泡，居民满意" in html and 'class="field-error"' in html
    assert reload(contacted).status == S.CONTACTED


def test_a_refused_contact_in_chinese_keeps_the_promised_date_in_its_date_picker(client, settings, worker, accepted):
    # A date picker takes only ISO values; the Chinese locale's 2030/01/02 would come back blank.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(worker)
    response = post(client, accepted, "contact", {"method": "phone", "summary": "", "promised_date": "2030-01-02"})
    assert response.status_code == 200
    assert 'name="contact-promised_date" value="2030-01-02"' in response.content.decode()


def test_reassign_and_add_co_handler(client, dispatcher, accepted, sibling_grid, community):
    client.force_login(dispatcher)
    post(client, accepted, "add_co_handler", {"unit": community.pk})
    assert CoHandling.objects.filter(case=accepted, unit=community).exists()
    post(client, accepted, "reassign", {"to_unit": sibling_grid.pk, "note": "改派二网格"})
    case = reload(accepted)
    assert (case.unit, case.status, case.handler) == (sibling_grid, S.DISPATCHED, None)


def test_record_contact_progress_with_photos_and_resolve(client, worker, accepted):
    client.force_login(worker)
    post(client, accepted, "contact", {"method": "phone", "summary": "约明天上门", "promised_date": "2030-01-02"})
    assert reload(accepted).status == S.CONTACTED
    assert ContactRecord.objects.get(case=accepted).promised_date.isoformat() == "2030-01-02"
    post(client, accepted, "progress", {"note": "电工到场", "public": "on", "photos": [jpeg()]})
    event = TimelineEvent.objects.get(case=accepted, action="progress")
    assert event.public and event.attachments.count() == 1
    post(client, accepted, "resolve", {"result": "已修复", "nature": "reasonable"})
    assert reload(accepted).status == S.RESOLVED


def test_a_non_image_photo_is_refused_on_the_form(client, worker, contacted):
    client.force_login(worker)
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    response = post(client, contacted, "progress", {"note": "照片", "photos": [fake]})
    assert response.status_code == 200 and response.context["forms"]["progress"].errors["photos"]
    assert not TimelineEvent.objects.filter(case=contacted, action="progress").exists()


def test_extension_requested_by_the_handler_and_decided_by_the_dispatcher(client, dispatcher, worker, accepted):
    new_due = timezone.localtime(accepted.resolve_due_at + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    client.force_login(worker)
    post(client, accepted, "request_extension", {"new_due_at": new_due, "reason": "需等待配件"})
    extension = ExtensionRequest.objects.get(case=accepted)
    client.force_login(dispatcher)
    html = client.get(accepted.get_absolute_url()).content.decode()
    assert url(accepted, "decide_extension") in html
    assert html.count('name="decide_extension-extension"') == 1
    assert f'name="decide_extension-extension" value="{extension.pk}"' in html
    post(client, accepted, "decide_extension", {"extension": extension.pk, "approve": "yes", "note": "同意"})
    extension.refresh_from_db()
    assert extension.decision == ExtensionRequest.Decision.APPROVED
    assert reload(accepted).resolve_due_at == extension.new_due_at


def test_close_after_a_phone_return_visit(client, dispatcher, worker, case):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker)
    client.force_login(dispatcher)
    post(client, case, "record_return_visit", {"resolved": "yes", "satisfaction": "basic", "comment": "基本满意"})
    visit = ReturnVisit.objects.get(case=case)
    assert (visit.channel, visit.by, visit.satisfaction) == ("phone", dispatcher, "basic")
    assert reload(case).status == S.CLOSED


def test_close_a_returned_case_with_a_note(client, dispatcher, worker, accepted):
    services.return_case(case=accepted, by=worker, reason="非本辖区")
    client.force_login(dispatcher)
    post(client, accepted, "close", {"note": "已转区级部门"})
    assert reload(accepted).status == S.CLOSED


def test_supervise_and_lift(client, director, accepted, community):
    client.force_login(director)
    due = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    post(client, accepted, "supervise", {"unit": community.pk, "comment": "三天内答复", "due_at": due})
    supervision = Supervision.objects.get(case=accepted)
    assert reload(accepted).is_supervised
    html = client.get(accepted.get_absolute_url()).content.decode()
    assert url(accepted, "lift_supervision") in html
    post(client, accepted, "lift_supervision", {"supervision": supervision.pk, "note": "已答复"})
    assert not reload(accepted).is_supervised
    response = post(client, accepted, "lift_supervision", {"supervision": supervision.pk})
    assert response.status_code == 302 and levels(response)[-1] == "error"  # already lifted


def test_deciding_an_extension_already_decided_says_so(client, dispatcher, worker, accepted):
    new_due = accepted.resolve_due_at + timedelta(days=5)
    extension = services.request_extension(case=accepted, by=worker, new_due_at=new_due, reason="配件")
    client.force_login(dispatcher)
    post(client, accepted, "decide_extension", {"extension": extension.pk, "approve": "no"})
    response = post(client, accepted, "decide_extension", {"extension": extension.pk, "approve": "yes"})
    assert response.status_code == 302 and levels(response)[-1] == "error"
    extension.refresh_from_db()
    assert extension.decision == ExtensionRequest.Decision.REFUSED


def test_merge_into_a_likely_duplicate(client, dispatcher, case, grid, building):
    lead = new_case(place=grid, building=building, category=case.category)
    client.force_login(dispatcher)
    html = client.get(case.get_absolute_url()).content.decode()
    assert lead.code in html  # listed as a likely duplicate
    post(client, case, "merge", {"into": lead.code.lower(), "note": "同一问题"})
    case = reload(case)
    assert (case.status, case.merged_into) == (S.MERGED, lead)


def test_merge_into_an_unknown_code_is_a_form_error(client, dispatcher, case):
    client.force_login(dispatcher)
    response = post(client, case, "merge", {"into": "ZZZZZZZZZZ"})
    assert response.status_code == 200 and response.context["forms"]["merge"].errors["into"]


def test_exclude_from_rates(client, dispatcher, accepted):
    client.force_login(dispatcher)
    post(client, accepted, "exclude_from_rates", {"reason": "恶意重复来电"})
    case = reload(accepted)
    assert case.excluded_from_rates and case.exclusion_reason == "恶意重复来电"


def test_reveal_phone_shows_the_number_once_and_logs_it(client, worker, accepted):
    client.force_login(worker)
    response = post(client, accepted, "reveal_phone")
    assert response.status_code == 200 and "13812345678" in response.content.decode()
    assert PhoneReveal.objects.filter(case=accepted, by=worker).count() == 1
    assert TimelineEvent.objects.filter(case=accepted, action="phone_revealed").exists()
    assert "13812345678" not in client.get(accepted.get_absolute_url()).content.decode()


def test_only_the_handler_gets_the_reveal_button(client, dispatcher, accepted):
    client.force_login(dispatcher)
    assert url(accepted, "reveal_phone") not in client.get(accepted.get_absolute_url()).content.decode()
    response = post(client, accepted, "reveal_phone")
    assert response.status_code == 403  # dispatchers lack the permission
    assert not PhoneReveal.objects.exists()


def test_actions_answer_only_post(client, worker, accepted):
    client.force_login(worker)
    assert client.get(url(accepted, "accept")).status_code == 405


# --- staff intake --------------------------------------------------------------------


def intake_data(grid, category, **overrides) -> dict:
    data = {
        "source": "walk_in", "category": category.pk, "kind": "help", "title": "楼道堆物",
        "description": "5单元楼道堆放杂物", "location_unit": grid.pk, "address": "",
        "resident_name": "王先生", "resident_phone": "13900001111", "consent": "on",
    }
    data.update(overrides)
    return data


def test_intake_registers_a_walk_in_case_at_the_street(client, dispatcher, grid, street):
    category = CategoryFactory()
    client.force_login(dispatcher)
    response = client.post(reverse("cases:new"), intake_data(grid, category, photos=[jpeg()]))
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert (case.source, case.status, case.unit, case.location_unit) == ("walk_in", S.SUBMITTED, street, grid)
    assert case.attachments.count() == 1


def test_hotline_intake_needs_its_order_number_and_keeps_its_deadlines(client, dispatcher, grid):
    category = CategoryFactory()
    client.force_login(dispatcher)
    response = client.post(reverse("cases:new"), intake_data(grid, category, source="hotline"))
    assert response.status_code == 200 and response.context["form"].errors["hotline_order_no"]
    assert "楼道堆物" in response.content.decode()  # what was typed is kept
    received = timezone.localtime() - timedelta(hours=1)
    due = received + timedelta(hours=12)
    fmt = "%Y-%m-%dT%H:%M"
    data = intake_data(
        grid, category, source="hotline", hotline_order_no="GD20260001", received_at=received.strftime(fmt),
        contact_due_at=(received + timedelta(hours=1)).strftime(fmt), resolve_due_at=due.strftime(fmt),
    )
    assert levels(client.post(reverse("cases:new"), data)) == ["success"]
    response = client.post(reverse("cases:new"), {**data, "save_anyway": "1"})
    assert levels(response) == ["success", "info"]  # told it was already there
    case = Case.objects.get(hotline_order_no="GD20260001")  # the same order twice is one case
    assert case.resolve_due_at == due.replace(second=0, microsecond=0)


def test_a_hotline_order_registered_outside_the_users_tree_does_not_name_its_case(
    client, community, sibling_community
):
    category = CategoryFactory()
    earlier = new_case(place=sibling_community, category=category, source="hotline", hotline_order_no="GD77")
    client.force_login(staff(community, Role.DISPATCHER))
    data = intake_data(community, category, source="hotline", hotline_order_no="GD77", save_anyway="1")
    response = client.post(reverse("cases:new"), data, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    with translation.override("zh-hans"):
        told = translation.gettext("This 12345 order is already registered, in a unit outside your part of the tree.")
    assert shown == [told]
    assert earlier.code not in response.content.decode()
    assert Case.objects.count() == 1


def test_intake_warns_of_likely_duplicates_before_saving(client, dispatcher, grid, building):
    existing = new_case(place=grid, building=building)
    client.force_login(dispatcher)
    data = intake_data(grid, existing.category, building=building.pk)
    response = client.post(reverse("cases:new"), data)
    assert response.status_code == 200 and existing.code in response.content.decode()
    assert Case.objects.count() == 1
    response = client.post(reverse("cases:new"), {**data, "save_anyway": "1"})
    assert response.status_code == 302 and Case.objects.count() == 2


def test_intake_place_must_be_in_the_users_subtree(client, grid, sibling_community):
    worker = staff(grid, Role.GRID_WORKER)
    client.force_login(worker)
    response = client.post(reverse("cases:new"), intake_data(sibling_community, CategoryFactory()))
    assert response.status_code == 200 and response.context["form"].errors["location_unit"]
    assert not Case.objects.exists()


def test_a_grid_workers_intake_leaves_for_the_street_queue(client, grid):
    worker = staff(grid, Role.GRID_WORKER)
    client.force_login(worker)
    response = client.post(reverse("cases:new"), intake_data(grid, CategoryFactory(), source="grid_patrol"))
    assert response.status_code == 302 and response.url == reverse("cases:queue")
    assert Case.objects.get().source == "grid_patrol"


def test_a_read_only_supervisor_cannot_take_in_a_case(client, community):
    client.force_login(staff(community, Role.SUPERVISOR))
    assert client.get(reverse("cases:new")).status_code == 403


# --- notifications -------------------------------------------------------------------


def test_notifications_list_unread_first_and_mark_read(client, dispatcher, worker, case, grid):
    services.dispatch(case=case, to_unit=grid, by=dispatcher)  # notifies the grid's workers
    second = new_case(place=grid)
    services.dispatch(case=second, to_unit=grid, by=dispatcher)
    first_note = Notification.objects.get(user=worker, case=case)
    Notification.objects.filter(pk=first_note.pk).update(read_at=timezone.now())
    client.force_login(worker)
    page = client.get(reverse("cases:notifications")).context["page"]
    assert [n.case_id for n in page.object_list] == [second.pk, case.pk]
    unread = Notification.objects.get(user=worker, case=second)
    client.post(reverse("cases:notification_read", kwargs={"pk": unread.pk}))
    assert not Notification.objects.filter(user=worker, read_at__isnull=True).exists()


def test_one_cannot_mark_someone_elses_notification(client, dispatcher, case, grid, worker):
    services.dispatch(case=case, to_unit=grid, by=dispatcher)
    note = Notification.objects.get(user=worker)
    client.force_login(dispatcher)
    client.post(reverse("cases:notification_read", kwargs={"pk": note.pk}))
    client.post(reverse("cases:notifications_read_all"))
    note.refresh_from_db()
    assert note.read_at is None



@pytest.fixture
def nav_badge(settings):
    """The project wiring the unread badge's context processor into the templates."""
    templates = [dict(t, OPTIONS=dict(t["OPTIONS"])) for t in settings.TEMPLATES]
    templates[0]["OPTIONS"]["context_processors"] = [
        *templates[0]["OPTIONS"]["context_processors"], "cases.queries_staff.nav_counts",
    ]
    settings.TEMPLATES = templates


def test_nav_shows_the_unread_count_in_one_query(client, nav_badge, dispatcher, worker, grid):
    for _ in range(3):
        services.dispatch(case=new_case(place=grid), to_unit=grid, by=dispatcher)
    client.force_login(worker)
    html = client.get(reverse("cases:notifications")).content.decode()
    assert 'class="badge badge-count"' in html and ">3</span>" in html
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("communities:workspace"))
    counted = [q for q in queries.captured_queries if "cases_notification" in q["sql"] and "COUNT" in q["sql"]]
    assert len(counted) == 1  # the badge appears twice on the workspace, counted once


def test_the_case_page_counts_the_badge_with_its_row(client, nav_badge, dispatcher, worker, grid):
    cases = [services.dispatch(case=new_case(place=grid), to_unit=grid, by=dispatcher) for _ in range(3)]
    client.force_login(worker)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(cases[0].get_absolute_url()).content.decode()
    assert 'class="badge badge-count"' in html and ">3</span>" in html
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "cases_notification"')]


def test_nav_links_follow_the_roles(client, community):
    client.force_login(staff(community, Role.SUPERVISOR))
    html = client.get(reverse("cases:queue")).content.decode()
    assert reverse("cases:queue") in html and reverse("cases:notifications") in html
    assert reverse("cases:new") not in html and reverse("cases:import") not in html
    client.force_login(staff(community, Role.DISPATCHER))
    html = client.get(reverse("cases:queue")).content.decode()
    assert reverse("cases:new") in html and reverse("cases:import") in html
