"""Content-Security-Policy: every page carries a strict policy and nothing inline that it would block.

A crawler walks the demo portal as a superuser (staff pages, dashboards, coordination, volunteers,
the admin) and as a resident (public pages), one or two addresses per URL pattern, and parses every
HTML answer: no inline <script> body, no <style> element, no style="" attribute, no on…= handler,
no javascript: link. The browser journeys (tests/e2e) fail on any CSP violation the browser reports.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from cases.models import Case
from communities.models import Unit

pytestmark = pytest.mark.django_db
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
SKIP = ("/accounts/logout/", "/i18n/", "/static/", "/admin/logout/", "/healthz")
PER_PATTERN = 1
MAX_PAGES = 400


class InlineCodeFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.links: list[str] = []
        self._script_inline = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self._script_inline = "src" not in attrs and (attrs.get("type") or "").lower() not in DATA_SCRIPT_TYPES
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_data(self, data):
        if self._script_inline and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script_inline = False


def check_policy(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in part.strip())
    assert directives.get("script-src") == "'self'", policy
    assert directives.get("style-src") == "'self'", policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def crawl(client: Client, start: list[str]) -> dict[str, list[str]]:
    """Visit same-site links breadth first; return {url: problems} for every HTML page seen."""
    queue, seen, per_pattern, found = list(start), set(start), Counter(), {}
    while queue and len(found) < MAX_PAGES:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code in (301, 302) and response["Location"].startswith("/") and response["Location"] not in seen:
            seen.add(response["Location"])
            queue.append(response["Location"])
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        check_policy(response)
        finder = InlineCodeFinder()
        finder.feed(response.content.decode())
        found[url] = finder.problems
        for href in finder.links:
            target = urldefrag(urljoin(url, href))[0]
            parts = urlsplit(target)
            if parts.netloc not in ("", "testserver") or target in seen or parts.path.startswith(SKIP):
                continue
            try:
                pattern = resolve(parts.path).route
            except Resolver404:
                continue
            if per_pattern[pattern] >= PER_PATTERN:
                continue
            per_pattern[pattern] += 1
            seen.add(target)
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())


def test_staff_pages_and_the_admin_have_no_inline_code(client, demo):
    from communities.demo import demo_totp_code

    client.force_login(get_user_model().objects.filter(is_superuser=True).first())
    assert client.post("/account/two-factor/verify/", {"code": demo_totp_code()}).status_code == 302
    pages = crawl(client, ["/", "/cases/", "/dashboards/", "/volunteers/", "/admin/", "/api/docs/"])
    assert len(pages) >= 60, sorted(pages)
    assert any(url.startswith("/dashboards/") for url in pages) and "/api/docs/" in pages
    assert any(url.startswith("/admin/") and url.endswith("/change/") for url in pages)
    assert {url: problems for url, problems in pages.items() if problems} == {}


def test_public_pages_have_no_inline_code(client, demo):
    case = Case.objects.exclude(resident_phone="").filter(status=Case.Status.CLOSED).first()
    status_page = client.post("/track/", {"code": case.code, "phone_last4": case.resident_phone[-4:]})
    assert status_page.status_code == 302
    community = Unit.objects.filter(level=Unit.Level.COMMUNITY).first()
    pages = crawl(client, [
        "/", "/report/", "/track/", "/accounts/login/", "/volunteers/join/", status_page["Location"],
        f"/posters/{community.code}/",
    ])
    assert status_page["Location"] in pages and f"/posters/{community.code}/" in pages
    assert {url: problems for url, problems in pages.items() if problems} == {}


def test_the_lockout_and_error_pages_carry_the_policy(client, settings):
    settings.AXES_FAILURE_LIMIT = 1
    response = client.post("/accounts/login/", {"username": "someone", "password": "wrong"})
    assert response.status_code == 429
    check_policy(response)
    check_policy(client.get("/no-such-page/"))


def test_the_policy_is_django_csps_and_follows_the_settings(client, settings):
    """The middleware builds the policy once per process; it is the one django-csp builds, and a change of the settings shows."""
    from csp.utils import build_policy

    def directives(policy: str) -> set[str]:
        return {part.strip() for part in policy.split(";")}

    assert directives(client.get("/report/")["Content-Security-Policy"]) == directives(build_policy())
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/report/")["Content-Security-Policy"] == "default-src 'none'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    report_only = client.get("/report/")["Content-Security-Policy-Report-Only"]
    assert "img-src 'self'" in directives(report_only) and directives(report_only) == directives(build_policy(report_only=True))
