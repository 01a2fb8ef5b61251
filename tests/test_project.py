"""Project-wide behaviour: health check, language rule, production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import override_settings

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "x7Qp" * 14,  # 60 characters
    "ALLOWED_HOSTS": "portal.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.gov.cn",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # A clean environment, as on a production host: nothing leaks in from the test process
    # (pytest-django's settings module, DJANGO_ALLOW_ASYNC_UNSAFE set by browser tests …).
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "governance.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- /healthz --------------------------------------------------------------------------


def test_healthz_answers_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_fails(client, db):
    with mock.patch("governance.views.connection") as connection:
        connection.cursor.side_effect = OperationalError("connection refused")
        response = client.get("/healthz")

    assert response.status_code == 503


def test_healthz_is_not_redirected_to_https_but_other_pages_are(client, db):
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert client.get("/healthz").status_code == 200
        redirect = client.get("/")
    assert redirect.status_code == 301
    assert redirect["Location"].startswith("https://")


# --- Language ----------------------------------------------------------------------------


def test_the_home_page_is_chinese_by_default_even_for_an_english_browser(client, db):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in page
    assert 'value="en"' in page  # the switch offers English, so the page is not in it
    assert "Cookie" in response["Vary"]


def test_the_login_page_is_chinese_by_default(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "用户名" in page  # Django's own translation of the username label


def test_the_language_switch_turns_english_on_and_back_off(client, db):
    page = client.get("/").content.decode()
    action = re.search(r'<form action="([^"]+)" method="post" class="inline-form language-switch"', page).group(1)

    switched = client.post(action, {"language": "en", "next": "/accounts/login/"})

    assert switched.status_code == 302
    assert switched["Location"] == "/accounts/login/"
    english = client.get("/accounts/login/")
    assert english["Content-Language"] == "en"
    assert '<html lang="en">' in english.content.decode()
    assert "Username" in english.content.decode() and "用户名" not in english.content.decode()
    client.post(action, {"language": "zh-hans", "next": "/"})
    assert client.get("/")["Content-Language"] == "zh-hans"


def test_an_unknown_language_cookie_falls_back_to_chinese(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert client.get("/")["Content-Language"] == "zh-hans"


def test_the_switch_is_a_post_form_on_every_page(client, db):
    page = client.get("/").content.decode()
    assert re.search(r'<form action="/i18n/setlang/" method="post"[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken"', page)


# --- Production settings -------------------------------------------------------------------


def test_check_deploy_is_clean_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_production_start_without_secret_key_fails_loudly():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_production_start_with_a_short_secret_key_fails_loudly():
    result = _manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": "too-short"})

    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_healthz_answers_a_load_balancer_probing_by_ip_over_http(db, client, settings):
    settings.ALLOWED_HOSTS = ["portal.example.gov.cn"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.3.17:8000")
    assert (response.status_code, response.content) == (200, b"ok")
