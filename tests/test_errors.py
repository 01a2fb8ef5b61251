"""Error pages residents and staff can act on: 400/403/404 in the portal's layout, a standalone 500,
and a CSRF failure that says the form was not sent (and gives a resident's report back, filled in)."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Engine, loader
from django.test import Client
from django.urls import path
from PIL import Image

from cases.models import Case
from communities.models import Role, SecurityEvent
from tests import factories as f
from tests.test_csp import InlineCodeFinder, check_policy

pytestmark = pytest.mark.django_db
REPORT = "/report/"
TOKEN_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMISSION_FIELD = re.compile(r'name="submission" value="([0-9a-f]{32})"')


def _boom(request):
    raise RuntimeError("something is already broken")


urlpatterns = [path("boom/", _boom)]  # for the 500 test (pytest.mark.urls)


@pytest.fixture(autouse=True)
def production_like(settings):
    settings.DEBUG = False  # Django's own technical pages otherwise
    cache.clear()  # the report form's rate limits
    yield
    cache.clear()


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _links(page: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page))


# --- 404 ----------------------------------------------------------------------------------


def test_an_unknown_address_is_a_chinese_404_with_the_way_on(client):
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404 and response["Content-Language"] == "zh-hans"
    assert "找不到这个页面" in page and "网址可能输错了" in page and "Not Found" not in page
    assert {"/", "/report/", "/track/"} <= _links(page)
    assert "反映问题" in page and "查询诉求" in page
    assert "/workspace/" not in page  # a resident has no workspace
    assert '<link rel="stylesheet" href="/static/css/portal.css">' in page  # the portal's layout


def test_the_404_is_english_with_the_english_cookie(english):
    response = english.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404 and response["Content-Language"] == "en"
    assert "This page does not exist" in page and "Report a problem" in page and "找不到这个页面" not in page


def test_signed_in_staff_get_their_workspace_on_the_404(client, community):
    client.force_login(f.staff(community, Role.CASEWORKER))
    page = client.get("/no-such-page/").content.decode()
    assert "我的工作台" in page and "/workspace/" in _links(page)


# --- 403 and 400 --------------------------------------------------------------------------


def test_staff_without_the_role_get_the_403_page(client, community):
    client.force_login(f.staff(community, Role.CASEWORKER))  # importing 12345 files is not theirs
    response = client.get("/cases/import/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "您无权打开此页面" in page and "请联系本单位的管理员" in page
    assert {"/", "/report/", "/track/", "/workspace/"} <= _links(page)
    assert "403 Forbidden" not in page


def test_the_403_page_in_english(english, community):
    english.force_login(f.staff(community, Role.CASEWORKER))
    page = english.get("/cases/import/").content.decode()
    assert "You cannot open this page" in page and "ask your unit's administrator" in page


def test_a_bad_request_gets_the_400_page(client):
    response = client.get("/", HTTP_HOST="not-our-host.example")  # DisallowedHost
    page = response.content.decode()
    assert response.status_code == 400
    assert "无法处理这个请求" in page and "/report/" in _links(page)


def test_the_error_pages_carry_the_policy_and_no_inline_code(client, community):
    client.force_login(f.staff(community, Role.CASEWORKER))
    csrf = Client(enforce_csrf_checks=True)
    for response in (client.get("/no-such-page/"), client.get("/cases/import/"),
                     client.get("/", HTTP_HOST="not-our-host.example"), csrf.post("/track/", {}),
                     csrf.post(REPORT, {"description": "楼道灯坏了"})):
        assert response.status_code in (400, 403, 404)
        check_policy(response)
        finder = InlineCodeFinder()
        finder.feed(response.content.decode())
        assert finder.problems == [], response.request["PATH_INFO"]
    finder = InlineCodeFinder()
    finder.feed(loader.get_template("500.html").render())
    assert finder.problems == []


# --- 500 ----------------------------------------------------------------------------------


def test_the_500_template_stands_alone_with_an_empty_context():
    page = loader.get_template("500.html").render()
    assert page == Engine(dirs=[settings.BASE_DIR / "templates"]).get_template("500.html").render(Context())
    assert "{{" not in page and "{%" not in page
    assert "抱歉，系统出错了" in page and "Sorry, something went wrong" in page  # both languages
    assert {"/", "/report/", "/track/"} <= _links(page)
    assert " style=" not in page and "<style" not in page and "<script" not in page


@pytest.mark.urls("tests.test_errors")
def test_a_crashing_view_gets_the_standalone_500_page(client):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "抱歉，系统出错了" in page and "Sorry, something went wrong" in page
    assert "Content-Security-Policy" in response.headers


# --- CSRF failures ------------------------------------------------------------------------


@pytest.mark.parametrize("stale_page", [False, True], ids=["cookie-lost", "token-stale"])
def test_a_report_refused_by_the_csrf_check_comes_back_filled_in_and_can_be_sent_again(report_form_data, stale_page):
    resident = Client(enforce_csrf_checks=True)
    if stale_page:  # the browser holds a cookie, the page a token of an older one
        resident.get(REPORT)
        report_form_data["csrfmiddlewaretoken"] = "a" * 64
    before = Case.objects.count()

    refused = resident.post(REPORT, report_form_data)

    page = refused.content.decode()
    assert refused.status_code == 403 and Case.objects.count() == before
    assert "您的诉求没有提交" in page and "Cookie" in page
    assert report_form_data["description"] in page and 'value="杨阿姨"' in page and 'value="138 1234 5678"' in page
    assert f'<option value="{report_form_data["building"]}" selected>' in page
    assert "no-cache" in refused["Cache-Control"]
    token = TOKEN_FIELD.search(page).group(1)  # a fresh token, and the cookie it belongs to
    assert token != report_form_data.get("csrfmiddlewaretoken")
    assert stale_page or settings.CSRF_COOKIE_NAME in refused.cookies

    sent = resident.post(
        REPORT, {**report_form_data, "csrfmiddlewaretoken": token, "submission": SUBMISSION_FIELD.search(page).group(1)}
    )

    assert sent.status_code == 302 and sent["Location"].startswith("/report/done/")
    assert Case.objects.count() == before + 1
    assert Case.objects.latest("pk").description == report_form_data["description"]


def test_photos_must_be_chosen_again_after_a_csrf_failure(report_form_data):
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(image, "JPEG")
    photo = SimpleUploadedFile("light.jpg", image.getvalue(), content_type="image/jpeg")

    refused = Client(enforce_csrf_checks=True).post(REPORT, {**report_form_data, "photos": photo})

    page = refused.content.decode()
    assert refused.status_code == 403 and not Case.objects.exists()
    assert "但照片没有保留：请重新选择照片" in page and report_form_data["description"] in page


def test_the_refused_report_speaks_english_with_the_english_cookie(report_form_data):
    resident = Client(enforce_csrf_checks=True)
    resident.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = resident.post(REPORT, report_form_data).content.decode()
    assert "Your request was NOT sent" in page and report_form_data["description"] in page


def test_a_report_posted_from_another_site_does_not_come_back_ready_to_send(report_form_data):
    page_of_another_site = Client(enforce_csrf_checks=True)
    refused = page_of_another_site.post(REPORT, report_form_data, HTTP_ORIGIN="https://elsewhere.example")
    page = refused.content.decode()
    assert refused.status_code == 403 and not Case.objects.exists()
    assert "表单没有提交" in page and report_form_data["description"] not in page
    assert "csrfmiddlewaretoken" not in page.split('id="content"')[1]  # no form to send (the header's switch aside)


def test_other_forms_get_the_plain_csrf_page_and_the_failure_is_logged(client, community):
    worker = f.staff(community, Role.CASEWORKER)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(worker)

    response = browser.post("/track/", {"code": "ABC123", "phone_last4": "5678"})

    page = response.content.decode()
    assert response.status_code == 403
    assert "表单没有提交" in page and "您填写的内容没有提交，也没有保存。" in page and "返回上一页" in page
    assert "CSRF verification failed" not in page and "/workspace/" in _links(page)
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user, event.path) == (SecurityEvent.Kind.DENIED, worker, "/track/")
    assert event.detail == {"status": 403, "csrf": "CSRF cookie not set."}


def test_the_plain_csrf_page_in_english():
    browser = Client(enforce_csrf_checks=True)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = browser.post("/track/", {"code": "ABC123"}).content.decode()
    assert "The form was not sent" in page and "allow cookies for this site" in page
