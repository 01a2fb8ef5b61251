"""/track/: tracking code + last four digits → status, public timeline, more information, rating."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from cases import services
from cases.models import Attachment, Case, ReturnVisit
from cases.uploads import validate_photos
from cases.views_public import TRACK_COOKIE
from tests.cases.factories import CategoryFactory, new_case, walk

pytestmark = pytest.mark.django_db
TRACK = "/track/"
NO_MATCH = "No request matches this tracking code and these digits. Check both and try again."
THROTTLED = "Too many attempts. Please wait a while and try again."


@pytest.fixture
def case(grid, building):
    return new_case(
        place=grid, building=building, category=CategoryFactory(code="lights", public_name="楼道灯不亮"),
        source=Case.Source.WEB, consent=True, resident_phone="13812345678",
    )


@pytest.fixture
def other_case(grid, building):
    return new_case(place=grid, building=building, resident_phone="13900001111")


def jpeg(name="p.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 0, 200)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def verify(client, code, last4="5678", **extra):
    return client.post(TRACK, {"code": code, "phone_last4": last4}, **extra)


def status_url(case) -> str:
    return reverse("cases_public:status", kwargs={"code": case.code})


# --- verifying ------------------------------------------------------------------------------


def test_right_code_and_digits_open_the_public_timeline(client, case, dispatcher, worker, grid):
    case = services.dispatch(case=case, to_unit=grid, by=dispatcher, note="内部派单说明：先找物业")
    case = services.accept(case=case, by=worker)
    services.add_progress(case=case, by=worker, note="内部备注：住户情绪激动")
    services.add_progress(case=case, by=worker, note="已联系物业，明天更换灯泡", public=True)

    response = verify(client, case.code.lower())  # codes are typed in any case
    assert response.status_code == 302 and response["Location"] == status_url(case)

    html = client.get(status_url(case)).content.decode()
    assert "已联系物业，明天更换灯泡" in html
    assert "内部派单说明" not in html and "内部备注" not in html
    assert "13812345678" not in html and "138****5678" in html
    assert grid.name in html  # handling unit
    assert worker.username not in html
    assert "楼道灯不亮" in html


def test_wrong_digits_and_unknown_code_get_the_same_answer(client, case):
    wrong_digits = verify(client, case.code, "0000").content.decode()
    unknown_code = verify(client, "ZZZZZZZZZZ", "5678").content.decode()
    assert zh(NO_MATCH) in wrong_digits and zh(NO_MATCH) in unknown_code
    assert case.title not in wrong_digits and case.get_status_display() not in wrong_digits
    assert client.get(status_url(case)).status_code == 302  # nothing remembered


def test_status_page_without_verification_redirects_to_the_form(client, case):
    response = client.get(status_url(case))
    assert response.status_code == 302 and response["Location"] == f"{TRACK}?code={case.code}"


def test_verified_case_is_remembered_in_this_browser_only(client, case):
    verify(client, case.code)
    assert client.get(status_url(case)).status_code == 200
    assert case.code in client.get(TRACK).content.decode()  # listed for the next visit
    assert Client().get(status_url(case)).status_code == 302


def test_remembered_case_expires(client, case, settings):
    settings.PUBLIC_TRACK_SESSION_SECONDS = -1
    verify(client, case.code)
    assert client.get(status_url(case)).status_code == 302


def test_wrong_digits_are_throttled_per_address(client, case):
    for _ in range(10):
        verify(client, case.code, "0000")
    response = verify(client, case.code)  # even the right digits now
    assert response.status_code == 429
    assert zh(THROTTLED) in response.content.decode()
    assert client.get(status_url(case)).status_code == 302


def test_wrong_guesses_from_anywhere_do_not_lock_out_the_resident_on_a_new_client(case):
    """Ten wrong guesses at one code from ten addresses: the code is guarded, yet the resident with
    the right digits on another phone or network still gets in (issue 17, item 7)."""
    for i in range(10):
        assert verify(Client(REMOTE_ADDR=f"198.51.100.{i}"), case.code, f"{i:04d}").status_code == 200
    response = verify(Client(REMOTE_ADDR="203.0.113.1"), case.code)
    assert response.status_code == 302 and response["Location"] == status_url(case)


def test_a_guarded_code_gives_each_client_one_try(case):
    for i in range(10):
        verify(Client(REMOTE_ADDR=f"198.51.100.{i}"), case.code, f"{i:04d}")
    again = verify(Client(REMOTE_ADDR="198.51.100.3"), case.code)  # already guessed wrong: no more tries
    assert again.status_code == 429 and zh(THROTTLED) in again.content.decode()
    newcomer = Client(REMOTE_ADDR="203.0.113.2")
    assert verify(newcomer, case.code, "1111").status_code == 200
    assert verify(newcomer, case.code).status_code == 429


def test_wrong_digits_are_limited_per_client_and_code(case, other_case, settings):
    settings.PUBLIC_TRACK_CLIENT_CODE_RATE = "5/h"
    guesser = Client(REMOTE_ADDR="198.51.100.50")
    assert [verify(guesser, case.code, f"{n:04d}").status_code for n in range(6)] == [200] * 5 + [429]
    # another code from the same client has its own count (the address's own limit aside)
    assert verify(guesser, other_case.code, "2222").status_code == 200


def test_right_digits_do_not_use_up_the_code(case, settings):
    settings.PUBLIC_TRACK_CODE_RATE = "3/h"
    for i in range(5):
        assert verify(Client(REMOTE_ADDR=f"198.51.100.{i}"), case.code).status_code == 302
    assert verify(Client(REMOTE_ADDR="198.51.100.9"), case.code, "0000").status_code == 200
    assert verify(Client(REMOTE_ADDR="198.51.100.9"), case.code, "0001").status_code == 200  # not guarded


def test_concurrent_guesses_from_one_client_stay_within_the_limit(case, settings, monkeypatch):
    """20 guesses at once from one address: exactly the per-client limit reach the digits check.
    The old check-then-count let every one that arrived before the first was counted through."""
    import threading
    import time

    from cases import selectors

    settings.PUBLIC_TRACK_IP_RATE = "100/10m"
    settings.PUBLIC_TRACK_CODE_RATE = "10/h"
    settings.PUBLIC_TRACK_CLIENT_CODE_RATE = "5/h"
    checked, lock = [], threading.Lock()

    def slow_check(code, last4):
        with lock:
            checked.append(last4)
        time.sleep(0.3)  # every other request arrives while this one is being checked
        return None

    monkeypatch.setattr(selectors, "case_for_resident", slow_check)
    start = threading.Barrier(20)
    statuses = []

    def one_guess(n):
        start.wait()
        statuses.append(verify(Client(REMOTE_ADDR="198.51.100.77"), case.code, f"{n:04d}").status_code)

    threads = [threading.Thread(target=one_guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == 5
    assert sorted(statuses) == [200] * 5 + [429] * 15


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(case, settings):
    """A client reaching the app directly, not through the proxy, cannot pick a fresh address per
    request with X-Forwarded-For (issue 17, item 10)."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    direct = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [
        direct.post(TRACK, {"code": f"ZZZZZZZ{n:03d}", "phone_last4": "0000"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    via_proxy = Client(REMOTE_ADDR="10.0.0.2")
    assert verify(via_proxy, case.code, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 302


def test_right_digits_after_a_typo_work(client, case):
    verify(client, case.code, "1111")
    assert verify(client, case.code)["Location"] == status_url(case)


# --- adding information ---------------------------------------------------------------------


def test_added_information_and_photo_land_on_the_public_timeline(client, case):
    verify(client, case.code)
    response = client.post(
        reverse("cases_public:add_information", kwargs={"code": case.code}),
        {"text": "灯又闪了，晚上很危险", "photos": [jpeg()]},
    )
    assert response.status_code == 302
    event = case.events.get(action="information_added")
    assert event.public and event.note == "灯又闪了，晚上很危险"
    photo = Attachment.objects.get(event=event)

    html = client.get(status_url(case)).content.decode()
    assert "灯又闪了，晚上很危险" in html
    photo_url = reverse("cases_public:photo", kwargs={"code": case.code, "pk": photo.pk})
    assert photo_url in html
    served = client.get(photo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"


def test_adding_information_needs_a_verified_session(client, case):
    response = client.post(reverse("cases_public:add_information", kwargs={"code": case.code}), {"text": "x"})
    assert response.status_code == 302
    assert not case.events.filter(action="information_added").exists()


def test_empty_information_is_refused_with_a_message(client, case):
    verify(client, case.code)
    response = client.post(reverse("cases_public:add_information", kwargs={"code": case.code}), {"text": ""})
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not case.events.filter(action="information_added").exists()


# --- photos ---------------------------------------------------------------------------------


def test_staff_only_photo_is_not_served_to_the_resident(client, case, dispatcher, worker, grid):
    case = walk(case, to="accepted", dispatcher=dispatcher, handler=worker, unit=grid)
    photos = validate_photos([jpeg()])
    services.add_progress(case=case, by=worker, note="现场照片", public=False, photos=photos)
    hidden = Attachment.objects.get(case=case)
    assert not hidden.public
    verify(client, case.code)
    assert client.get(reverse("cases_public:photo", kwargs={"code": case.code, "pk": hidden.pk})).status_code == 404


def test_photo_of_another_case_or_session_is_404(client, case, grid, building):
    other = new_case(place=grid, building=building, resident_phone="13900001111")
    services.add_information(case=other, text="照片", photos=validate_photos([jpeg()]))
    photo = Attachment.objects.get(case=other)
    verify(client, case.code)
    assert client.get(reverse("cases_public:photo", kwargs={"code": case.code, "pk": photo.pk})).status_code == 404
    assert Client().get(reverse("cases_public:photo", kwargs={"code": other.code, "pk": photo.pk})).status_code == 404


# --- rating ---------------------------------------------------------------------------------


def rate_url(case) -> str:
    return reverse("cases_public:rate", kwargs={"code": case.code})


def test_rating_form_appears_only_once_resolved(client, case, dispatcher, worker, grid):
    verify(client, case.code)
    assert rate_url(case) not in client.get(status_url(case)).content.decode()
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker, unit=grid)
    assert rate_url(case) in client.get(status_url(case)).content.decode()


def test_resolved_and_satisfied_rating_closes_the_case(client, case, dispatcher, worker, grid):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker, unit=grid)
    verify(client, case.code)
    response = client.post(rate_url(case), {"resolved": "yes", "satisfaction": "satisfied", "comment": "很快"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.rated_resolved, case.satisfaction) == (Case.Status.CLOSED, True, "satisfied")
    visit = ReturnVisit.objects.get(case=case)
    assert (visit.channel, visit.by, visit.comment) == (ReturnVisit.Channel.WEB, None, "很快")
    assert rate_url(case) not in client.get(status_url(case)).content.decode()


def test_not_resolved_rating_reopens_the_case(client, case, dispatcher, worker, grid, street):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker, unit=grid)
    verify(client, case.code)
    client.post(rate_url(case), {"resolved": "no", "satisfaction": "unsatisfied", "comment": "灯还是不亮"})
    case.refresh_from_db()
    assert (case.status, case.unit, case.rated_resolved) == (Case.Status.RETURNED, street, False)
    assert "灯还是不亮" in client.get(status_url(case)).content.decode()


def test_rating_an_unresolved_case_is_refused(client, case):
    verify(client, case.code)
    response = client.post(rate_url(case), {"resolved": "yes", "satisfaction": "satisfied"}, follow=True)
    assert not ReturnVisit.objects.exists()
    message = zh("Only a resolved case can be rated; this one is %(status)s.") % {
        "status": zh(Case.Status.SUBMITTED.label)
    }
    assert message in response.content.decode()


def test_incomplete_rating_shows_the_form_again(client, case, dispatcher, worker, grid):
    walk(case, to="resolved", dispatcher=dispatcher, handler=worker, unit=grid)
    verify(client, case.code)
    response = client.post(rate_url(case), {"resolved": "yes", "comment": "不错"})
    assert response.status_code == 200 and "不错" in response.content.decode()
    assert not ReturnVisit.objects.exists()


def test_status_page_runs_a_fixed_number_of_queries(client, case, django_assert_max_num_queries):
    verify(client, case.code)

    def count():
        with django_assert_max_num_queries(12) as captured:
            client.get(status_url(case))
        return len(captured.captured_queries)

    few = count()
    for i in range(8):
        services.add_information(case=case, text=f"补充{i}", photos=validate_photos([jpeg()]))
    assert count() == few


def test_a_planted_tracking_cookie_does_not_learn_the_residents_case(client, case, other_case):
    """Someone who plants their own (validly signed) cookie in a shared browser learns nothing from it later."""
    verify(client, other_case.code, other_case.resident_phone[-4:])
    planted = client.cookies[TRACK_COOKIE].value
    verify(client, case.code)  # the resident, in the same browser
    assert client.cookies[TRACK_COOKIE].value != planted
    attacker = Client()
    attacker.cookies[TRACK_COOKIE] = planted
    assert attacker.get(status_url(other_case)).status_code == 200
    assert attacker.get(status_url(case)).status_code == 302


def test_a_forged_tracking_cookie_is_ignored(client, case):
    client.cookies[TRACK_COOKIE] = f"{case.code}:9999999999"
    assert client.get(status_url(case)).status_code == 302


def test_submitting_or_verifying_writes_no_session(client, case, settings):
    verify(client, case.code)
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    assert client.get(status_url(case)).status_code == 200