"""/report/: the resident request form, its place lists, honeypot and rate limit."""

from __future__ import annotations

import io
import logging
import re
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from cases import tallies
from cases.models import Attachment, Case, Category, CategoryDeadline
from tests.cases.factories import CategoryFactory
from tests.factories import BuildingFactory, CommunityFactory, GridFactory

pytestmark = pytest.mark.django_db
REPORT = "/report/"
INVALID_CHOICE = "Select a valid choice. %(value)s is not one of the available choices."
PHONE_ERROR = "Enter a mainland mobile number: 11 digits starting with 1, e.g. 13812345678."


@pytest.fixture
def category(report_form_data):
    return Category.objects.get(pk=report_form_data["category"])


def jpeg(name="p.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 10)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


# --- the happy path -------------------------------------------------------------------------


def test_valid_request_creates_exactly_one_web_case_and_shows_its_code(client, report_form_data, street, grid, building):
    response = client.post(REPORT, report_form_data)

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases_public:done", kwargs={"code": case.code})
    assert (case.source, case.status) == (Case.Source.WEB, Case.Status.SUBMITTED)
    assert (case.location_unit, case.building, case.unit) == (grid, building, street)
    assert case.resident_phone == "13812345678"  # normalised
    assert case.consent_at is not None
    assert case.events.get().action == "submitted"

    done = client.get(response["Location"])
    assert done.status_code == 200
    assert f'id="tracking-code">{case.code}<' in done.content.decode()
    assert reverse("cases_public:status", kwargs={"code": case.code}) in done.content.decode()


def test_done_page_of_someone_elses_code_reveals_nothing(client, report_form_data):
    client.post(REPORT, report_form_data)
    case = Case.objects.get()
    other = client.__class__()
    response = other.get(reverse("cases_public:done", kwargs={"code": case.code}))
    assert response.status_code == 302 and response["Location"].startswith("/track/")


def test_photos_are_attached_to_the_intake_event(client, report_form_data):
    report_form_data["photos"] = [jpeg("a.jpg"), jpeg("b.jpg")]
    client.post(REPORT, report_form_data)
    case = Case.objects.get()
    attachments = Attachment.objects.filter(case=case)
    assert attachments.count() == 2
    assert {a.event.action for a in attachments} == {"submitted"}


def test_free_address_with_a_street_only_is_accepted(client, report_form_data, street):
    report_form_data.update(community="", building="", address="星城市场南门")
    client.post(REPORT, report_form_data)
    case = Case.objects.get()
    assert (case.location_unit, case.address) == (street, "星城市场南门")


def test_category_options_are_plain_language_names_grouped_by_parent(client, category):
    html = client.get(REPORT).content.decode()
    assert '<optgroup label="房子和楼道">' in html
    assert "楼道灯不亮、单元门坏了" in html


# --- bad input: message, everything else kept -------------------------------------------------


def test_bad_phone_keeps_input_and_explains_in_chinese(client, report_form_data):
    report_form_data["resident_phone"] = "12345"
    response = client.post(REPORT, report_form_data)

    html = response.content.decode()
    assert response.status_code == 200 and not Case.objects.exists()
    assert response["Content-Language"] == "zh-hans"
    assert zh(PHONE_ERROR) in html
    assert report_form_data["description"] in html and 'value="杨阿姨"' in html and 'value="12345"' in html
    if zh(PHONE_ERROR) != PHONE_ERROR:  # once the catalogue is compiled the message is really Chinese
        assert PHONE_ERROR not in html


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("category", "", "This field is required."),
        ("category", "999999", INVALID_CHOICE),
        ("description", "", "This field is required."),
        ("resident_name", "", "This field is required."),
        ("resident_phone", "", "This field is required."),
        ("resident_phone", "010-62345678", PHONE_ERROR),
        ("building", "999999", INVALID_CHOICE),
    ],
)
def test_each_bad_field_is_explained_and_the_rest_is_kept(client, report_form_data, field, value, message):
    report_form_data[field] = value
    response = client.post(REPORT, report_form_data)
    html = response.content.decode()
    assert not Case.objects.exists()
    assert zh(message) % {"value": value} in html
    kept = {k: v for k, v in report_form_data.items() if k != field}
    assert field == "description" or report_form_data["description"] in html
    assert f'value="{kept.get("resident_name", "")}"' in html
    assert f'<option value="{report_form_data["community"]}" selected>' in html


def test_required_field_message_is_really_chinese(client, report_form_data):
    report_form_data["resident_name"] = ""
    # Django and DRF word it differently (这个字段是必填项 / 该字段是必填项): either is Chinese.
    assert "字段是必填项" in client.post(REPORT, report_form_data).content.decode()


def test_bad_phone_message_is_english_with_the_english_cookie(client, report_form_data, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    report_form_data["resident_phone"] = "99999999999"
    response = client.post(REPORT, report_form_data)
    assert response["Content-Language"] == "en"
    assert PHONE_ERROR in response.content.decode()


def test_missing_consent_is_refused_with_the_input_kept(client, report_form_data):
    del report_form_data["consent"]
    response = client.post(REPORT, report_form_data)
    html = response.content.decode()
    assert not Case.objects.exists()
    assert zh("Your consent is needed to handle the request.") in html
    assert report_form_data["description"] in html


def test_missing_place_is_refused(client, report_form_data):
    report_form_data.update(street="", community="", building="")
    response = client.post(REPORT, report_form_data)
    assert not Case.objects.exists()
    assert zh("Choose the street and community where it happened.") in response.content.decode()


def test_community_of_another_street_is_refused(client, report_form_data, sibling_street):
    other = CommunityFactory(parent=sibling_street)
    report_form_data.update(community=str(other.pk), building="")
    client.post(REPORT, report_form_data)
    assert not Case.objects.exists()


def test_bad_photo_asks_to_choose_photos_again_and_keeps_text(client, report_form_data):
    report_form_data["photos"] = [SimpleUploadedFile("photo.jpg", b"plain text, not a photo", content_type="image/jpeg")]
    response = client.post(REPORT, report_form_data)
    html = response.content.decode()
    assert not Case.objects.exists()
    assert "photo.jpg" in html
    assert zh("Please correct the marked fields. Photos are not kept after an error: choose them again.") in html
    assert report_form_data["description"] in html


def test_six_photos_are_refused(client, report_form_data):
    report_form_data["photos"] = [jpeg(f"{i}.jpg") for i in range(6)]
    client.post(REPORT, report_form_data)
    assert not Case.objects.exists()


# --- bots and floods --------------------------------------------------------------------------


def test_filled_honeypot_creates_nothing_shows_a_generic_error_and_logs(client, report_form_data, caplog):
    report_form_data["website"] = "http://spam.example"
    with caplog.at_level(logging.WARNING, logger="cases.views_public"):
        response = client.post(REPORT, report_form_data)
    assert response.status_code == 200 and not Case.objects.exists()
    assert zh("Your request could not be accepted. Please try again later.") in response.content.decode()
    assert "honeypot" in caplog.text


def test_sixth_request_from_one_address_is_throttled_and_kept(client, report_form_data):
    for _ in range(5):
        assert client.post(REPORT, report_form_data).status_code == 302

    response = client.post(REPORT, report_form_data)

    assert response.status_code == 429
    assert Case.objects.count() == 5
    html = response.content.decode()
    assert zh("Too many submissions from your network. Please wait ten minutes and try again; what you typed is kept.") in html
    assert report_form_data["description"] in html


def test_typing_mistakes_do_not_use_up_the_limit(client, report_form_data):
    bad = {**report_form_data, "resident_phone": "1"}
    for _ in range(6):
        client.post(REPORT, bad)
    assert client.post(REPORT, report_form_data).status_code == 302


def test_limit_is_per_client_behind_the_trusted_proxy(client, report_form_data, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    balancer = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(5):
        client.post(REPORT, report_form_data, HTTP_X_FORWARDED_FOR="203.0.113.7", **balancer)
    assert client.post(REPORT, report_form_data, HTTP_X_FORWARDED_FOR="203.0.113.7", **balancer).status_code == 429
    # a forged left-most entry does not give a fresh key; another real client does
    forged = client.post(REPORT, report_form_data, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7", **balancer)
    assert forged.status_code == 429
    assert client.post(REPORT, report_form_data, HTTP_X_FORWARDED_FOR="198.51.100.9", **balancer).status_code == 302


def test_without_a_trusted_proxy_forwarded_for_is_ignored(client, report_form_data, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for i in range(5):
        client.post(REPORT, report_form_data, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert client.post(REPORT, report_form_data, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


# --- places: poster pre-fill, dependent lists -------------------------------------------------


def test_unit_parameter_prefills_the_place(client, street, community, grid, building):
    html = client.get(f"{REPORT}?unit={grid.code}").content.decode()
    assert f'<option value="{street.pk}" selected>' in html
    assert f'<option value="{community.pk}" selected>' in html
    assert f'value="{grid.code}"' in html  # the hidden poster unit
    assert building.name in html  # the community's buildings are offered at once


def test_request_from_a_grid_poster_is_placed_in_that_grid(client, report_form_data, grid):
    report_form_data.update(building="", unit=grid.code)
    client.post(REPORT, report_form_data)
    assert Case.objects.get().location_unit == grid


def test_unknown_unit_parameter_is_ignored(client, category):
    assert client.get(f"{REPORT}?unit=nope").status_code == 200


def test_places_endpoint_lists_the_communities_of_the_street_and_the_buildings_of_the_community(
    client, street, community, sibling_community, building, sibling_building, sibling_street
):
    other = CommunityFactory(parent=sibling_street, name="向阳社区")
    html = client.get(reverse("cases_public:places"), {"street": street.pk}).content.decode()
    assert community.name in html and sibling_community.name in html and other.name not in html

    html = client.get(reverse("cases_public:places"), {"street": street.pk, "community": community.pk}).content.decode()
    assert building.name in html and sibling_building.name not in html


def test_changing_the_street_clears_a_community_of_the_old_street(client, community, sibling_street):
    html = client.get(
        reverse("cases_public:places"), {"street": sibling_street.pk, "community": community.pk}
    ).content.decode()
    assert f'<option value="{community.pk}" selected>' not in html


def test_without_javascript_the_refresh_button_shows_buildings_and_keeps_input(client, report_form_data, building):
    report_form_data.update(building="", refresh="1")
    response = client.post(REPORT, report_form_data)
    html = response.content.decode()
    assert not Case.objects.exists()
    assert building.name in html and report_form_data["description"] in html
    assert "field-error" not in html


def test_report_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, street, category):
    def grow(n):
        for i in range(n):
            community = CommunityFactory(parent=street)
            BuildingFactory(unit=GridFactory(parent=community))
            CategoryFactory(code=f"q-{n}-{i}", parent=category.parent)

    grow(3)
    with django_assert_max_num_queries(4) as small:
        client.get(REPORT)
    grow(30)
    with django_assert_max_num_queries(4) as large:
        client.get(REPORT)
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_submission_writes_its_case_line_and_tallies_in_one_transaction_whatever_the_size(
    client, report_form_data, django_assert_max_num_queries, street, category
):
    """Case, timeline line, day, category, hotspot (area and street) and work tallies; on PostgreSQL in one
    statement, one round trip."""
    def grow(n):
        for i in range(n):
            community = CommunityFactory(parent=street)
            BuildingFactory(unit=GridFactory(parent=community))
            CategoryFactory(code=f"w-{n}-{i}", parent=category.parent)

    captured_sql: list[str] = []

    def submit() -> list[str]:
        # The resident's browser loads the form, then the buildings of the community chosen: the shared lists.
        client.get(REPORT)
        client.get(reverse("cases_public:places"), {"street": report_form_data["street"], "community": report_form_data["community"]})
        with django_assert_max_num_queries(10) as captured:
            assert client.post(REPORT, report_form_data).status_code == 302
        captured_sql[:] = [query["sql"] for query in captured.captured_queries]
        return [re.sub(r'"s\d+_x\d+"', "sp", query["sql"].split(" (")[0]) for query in captured.captured_queries]

    grow(2)
    small = submit()
    grow(20)
    large = submit()
    assert small == large
    writes = [sql for sql in small if not sql.startswith(("SELECT", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    if connection.vendor == "postgresql":  # all of them in one statement: one round trip, atomic on its own
        assert small == ["WITH new_case AS"]
        statement = captured_sql[-1]
        assert [table for table in re.findall(r"INSERT INTO \"?(\w+)", statement)] == [
            "cases_case", "cases_timelineevent", "cases_daytally", "cases_categorytally", "cases_hotspottally",
            "cases_worktally",
        ]
    else:
        assert writes == [
            'INSERT INTO "cases_case"', 'INSERT INTO "cases_timelineevent"', "INSERT INTO cases_daytally",
            "INSERT INTO cases_categorytally", "INSERT INTO cases_hotspottally", "INSERT INTO cases_hotspottally",
            "INSERT INTO cases_worktally",
        ]
    assert not [sql for sql in small if sql.startswith("SELECT")]
    assert not [line for line in tallies.differences()]


def test_a_deadline_changed_by_an_administrator_applies_to_the_next_request(client, report_form_data, category):
    client.get(REPORT)  # the lists are now shared
    CategoryDeadline.objects.create(
        category=category.parent, urgency=category.default_urgency,
        contact_within=timedelta(minutes=45), resolve_within=timedelta(days=3),
    )
    client.post(REPORT, report_form_data)
    case = Case.objects.get()
    assert case.contact_due_at - case.received_at == timedelta(minutes=45)
    assert case.resolve_due_at - case.received_at == timedelta(days=3)


def test_a_community_added_by_an_administrator_is_offered_at_once(client, street):
    client.get(REPORT)
    CommunityFactory(parent=street, name="新建社区")
    assert "新建社区" in client.get(REPORT).content.decode()


# --- the same form sent twice -----------------------------------------------------------------


def submission_token(client) -> str:
    html = client.get(REPORT).content.decode()
    return re.search(r'name="submission" value="([0-9a-f]{32})"', html).group(1)


def test_the_same_form_sent_twice_makes_one_case(client, report_form_data):
    report_form_data["submission"] = submission_token(client)
    first = client.post(REPORT, report_form_data)
    second = client.post(REPORT, report_form_data)
    assert Case.objects.count() == 1
    assert second.status_code == 302 and second["Location"] == first["Location"]


def test_a_form_sent_again_while_the_first_is_in_flight_is_not_a_second_case(client, report_form_data):
    report_form_data["submission"] = submission_token(client)
    cache.add(f"cases_public:submission:{report_form_data['submission']}", "pending", 120)
    response = client.post(REPORT, report_form_data)
    assert response.status_code == 409 and not Case.objects.exists()
    assert report_form_data["description"] in response.content.decode()


def test_a_form_sent_again_while_its_case_is_being_made_is_not_a_second_case(client, report_form_data):
    report_form_data["submission"] = submission_token(client)
    cache.add(f"cases_public:submission:{report_form_data['submission']}", f"ABCDEFGHJK {time.time():.0f}", 3600)
    response = client.post(REPORT, report_form_data)
    assert response.status_code == 409 and not Case.objects.exists()


def test_a_form_whose_first_sending_died_can_be_sent_again(client, report_form_data):
    """The claim names a case that never came (the worker was killed): after two minutes it is taken over."""
    report_form_data["submission"] = submission_token(client)
    cache.add(f"cases_public:submission:{report_form_data['submission']}", f"ABCDEFGHJK {time.time() - 600:.0f}", 3600)
    response = client.post(REPORT, report_form_data)
    case = Case.objects.get()
    assert response.status_code == 302 and case.code in response["Location"]
    assert client.post(REPORT, report_form_data)["Location"] == response["Location"]
    assert Case.objects.count() == 1


def test_a_refused_form_can_be_corrected_and_sent_with_the_same_token(client, report_form_data):
    report_form_data["submission"] = submission_token(client)
    client.post(REPORT, {**report_form_data, "resident_phone": "1"})
    assert client.post(REPORT, report_form_data).status_code == 302
    assert Case.objects.count() == 1


def test_a_resent_form_is_not_blocked_by_the_rate_limit(client, report_form_data):
    report_form_data["submission"] = submission_token(client)
    client.post(REPORT, report_form_data)
    for _ in range(4):
        client.post(REPORT, {**report_form_data, "submission": ""})
    assert Case.objects.count() == 5
    assert client.post(REPORT, report_form_data).status_code == 302  # the first one's done page, no sixth case
    assert Case.objects.count() == 5


def test_a_listener_to_case_saves_hears_a_report_sent_through_the_form(client, report_form_data):
    """The one-statement insert skips Model.save: with a listener connected the report goes through it."""
    from django.db.models.signals import post_save

    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((sender, created))

    post_save.connect(listener, sender=Case, dispatch_uid="test-report-listener")
    try:
        assert client.post(REPORT, report_form_data).status_code == 302
    finally:
        post_save.disconnect(sender=Case, dispatch_uid="test-report-listener")
    assert heard == [(Case, True)]
    case = Case.objects.get()
    assert list(case.events.values_list("action", flat=True)) == ["submitted"]
    assert not tallies.differences()


def test_a_report_loads_no_user_and_no_session(client, report_form_data, monkeypatch):
    """Nothing on the form's accepting path needs who is asking: no session read, no user looked up."""
    from django.contrib import auth
    from django.contrib.sessions.backends.base import SessionBase

    looked_up = []
    real_get_user, real_load = auth.get_user, SessionBase._get_session
    monkeypatch.setattr(auth, "get_user", lambda request: looked_up.append("user") or real_get_user(request))
    monkeypatch.setattr(SessionBase, "_session", property(lambda self: looked_up.append("session") or real_load(self)))
    assert client.post(REPORT, report_form_data).status_code == 302
    assert looked_up == []


def test_tracking_codes_are_ten_letters_of_the_alphabet_drawn_evenly():
    from collections import Counter

    from cases.models import TRACKING_ALPHABET, new_tracking_code

    codes = [new_tracking_code() for _ in range(3100)]
    letters = Counter("".join(codes))
    assert {len(code) for code in codes} == {10} and set(letters) == set(TRACKING_ALPHABET)
    assert max(letters.values()) < 1.25 * min(letters.values())  # 1 000 of each expected: no letter favoured
    assert len(set(codes)) == len(codes)
